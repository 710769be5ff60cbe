/* Prints getppid() as the kernel (or vigil) answers it, bypassing libc. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1;
    long v = 0;
    for (int i = 0; i < n; i++)
        v = syscall(SYS_getppid);
    printf("%ld\n", v);
    return 0;
}
