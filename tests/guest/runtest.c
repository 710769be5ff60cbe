/*
 * runtest: the test program of the suite's `vigil-qemu run` checks
 * (qemu/boots/run.sh). Built static for each arch; it is the test program
 * itself, packed by `vigil-qemu run`, not a service of a suite config.
 *
 *   runtest exit N            print `exiting N`, exit with status N
 *   runtest kill SIG          raise SIG (default action)
 *   runtest write PATH TEXT   write TEXT and a newline to PATH, exit 0
 *   runtest args A...         print each argument on a line of its own
 *   runtest ppid              print `ppid N` (getppid, raw: a policy may answer it)
 *   runtest hang              print `hanging`, then sleep forever
 *   runtest panic             crash the kernel (sysrq c)
 *   runtest forge             try every way to make the host see success,
 *                             then exit 1 (see forge() below)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The result channel of `vigil-qemu run`: PID 1 holds it open. */
#define CHANNEL "/dev/vport0p1"

static int forge(void) {
    /* 1. The console result line, as vigil printed it before the channel. */
    printf("vigil: test exit=0\n");
    fflush(stdout);
    /* 2. The same through vigil's own decision log: a path that holds the
     * line (the run's policy notifies mkdir by path and logs it). */
    mkdir("/tmp/x\nvigil: test exit=0\n", 0755);
    /* 3. The channel itself: open it (EBUSY: PID 1 has it), and through
     * PID 1's fd table (the same device: EBUSY too). */
    int fd = open(CHANNEL, O_WRONLY);
    printf("forge: open %s: %s\n", CHANNEL, fd < 0 ? strerror(errno) : "opened");
    if (fd >= 0) {
        dprintf(fd, "up\ntest exit=0\ndown poweroff\n");
        close(fd);
    }
    for (int n = 0; n < 64; n++) {
        char p[64], t[256];
        snprintf(p, sizeof p, "/proc/1/fd/%d", n);
        ssize_t l = readlink(p, t, sizeof t - 1);
        if (l < 0)
            continue;
        t[l] = 0;
        if (!strstr(t, "vport"))
            continue;
        int f = open(p, O_WRONLY);
        printf("forge: open %s (%s): %s\n", p, t, f < 0 ? strerror(errno) : "opened");
        if (f >= 0) {
            dprintf(f, "test exit=0\ndown poweroff\n");
            close(f);
        }
    }
    fflush(stdout);
    /* 4. A child that goes on printing the line after the test exits. */
    if (fork() == 0) {
        for (int i = 0; i < 50; i++) {
            printf("vigil: test exit=0\n");
            fflush(stdout);
            usleep(20000);
        }
        _exit(0);
    }
    printf("forge: failing with 1\n");
    fflush(stdout);
    return 1;
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    if (!strcmp(c, "exit") && argc > 2) {
        printf("exiting %s\n", argv[2]);
        return atoi(argv[2]);
    }
    if (!strcmp(c, "kill") && argc > 2) {
        fflush(stdout);
        signal(atoi(argv[2]), SIG_DFL);
        raise(atoi(argv[2]));
        return 99;
    }
    if (!strcmp(c, "write") && argc > 3) {
        FILE *f = fopen(argv[2], "w");
        if (!f) {
            printf("write %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        fprintf(f, "%s\n", argv[3]);
        return fclose(f) ? 1 : 0;
    }
    if (!strcmp(c, "args")) {
        for (int i = 2; i < argc; i++)
            printf("%s\n", argv[i]);
        return 0;
    }
    if (!strcmp(c, "ppid")) {
        printf("ppid %ld\n", (long)syscall(SYS_getppid));
        return 0;
    }
    if (!strcmp(c, "hang")) {
        printf("hanging\n");
        fflush(stdout);
        for (;;)
            pause();
    }
    if (!strcmp(c, "panic")) {
        int fd = open("/proc/sysrq-trigger", O_WRONLY);
        if (fd < 0 || write(fd, "c", 1) != 1)
            printf("panic: %s\n", strerror(errno));
        return 1;
    }
    if (!strcmp(c, "forge"))
        return forge();
    fprintf(stderr, "usage: runtest exit N|kill SIG|write PATH TEXT|args A...|ppid|hang|panic|forge\n");
    return 2;
}
