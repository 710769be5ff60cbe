/*
 * rootcheck: the probe of the real-root boots (qemu/boots/realroot.sh) that
 * the busybox scripts cannot do. Built static. Prints `TEST TAG.NAME: ok`
 * or `TEST TAG.NAME: FAIL why` (TAG: $VTEST_TAG, default "rootcheck").
 *
 *   rootcheck escape HOSTPATH   run in a jail that KEEPS CAP_SYS_CHROOT: the
 *                               classic escape (chroot into a subdirectory,
 *                               walk up with `..`, chroot there) must still
 *                               not reach HOSTPATH, which only a real
 *                               pivot_root (the old root detached) ensures;
 *                               under a chroot jail it would.
 *   rootcheck eio PATH          reading all of PATH fails with EIO (a block
 *                               that fails dm-verity), its first 4 KiB read.
 *
 * Exit status: 0 when every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

static int failed;

static void result(const char *name, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failed |= report(guest_tag("rootcheck"), name, ok, fmt, ap);
    va_end(ap);
}

static int escape(const char *host)
{
    result("host-hidden", access(host, F_OK) < 0, "%s visible before the escape", host);
    mkdir("/tmp", 0755);
    mkdir("/tmp/esc", 0700);
    int e = chroot("/tmp/esc") < 0 ? errno : 0;
    result("chroot-allowed", e == 0, "chroot: %s (CAP_SYS_CHROOT not kept?)", strerror(e));
    for (int i = 0; i < 64; i++)
        if (chdir("..") < 0)
            break;
    e = chroot(".") < 0 ? errno : 0;
    result("chroot-dot-allowed", e == 0, "chroot(\".\"): %s", strerror(e));
    result("escape-blocked", access(host, F_OK) < 0,
           "%s reachable: the jail is a chroot, not a pivot_root", host);
    return failed;
}

static int eio(const char *path)
{
    char buf[4096];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        result("open", 0, "%s: %s", path, strerror(errno));
        return 1;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    result("first-block-reads", n == (ssize_t)sizeof buf, "read: %zd (%s)", n,
           n < 0 ? strerror(errno) : "short");
    int e = 0;
    for (;;) {
        n = read(fd, buf, sizeof buf);
        if (n < 0) {
            e = errno;
            break;
        }
        if (n == 0)
            break;
    }
    close(fd);
    result("tampered-block-eio", e == EIO, "reading on: %s, want EIO",
           e ? strerror(e) : "no error (wrong data returned)");
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "escape"))
        return escape(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "eio"))
        return eio(argv[2]);
    fprintf(stderr, "usage: rootcheck escape HOSTPATH | eio PATH\n");
    return 2;
}
