/* Tries two machine-wide syscalls with arguments that make them fail
 * harmlessly even for root (no such module, no such swap file), and prints
 * the errno of each: ENOENT when the kernel got to look, EPERM when a
 * filter (or a missing capability) stopped them first. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *name(long r) {
    if (r == 0) return "ok";
    return errno == EPERM ? "EPERM" : errno == ENOENT ? "ENOENT" : strerror(errno);
}

int main(void) {
    long r = syscall(SYS_delete_module, "vigil_no_such_module", O_NONBLOCK);
    printf("delete_module=%s ", name(r));
    r = syscall(SYS_swapoff, "/vigil-no-such-swap-file");
    printf("swapoff=%s\n", name(r));
    return 0;
}
