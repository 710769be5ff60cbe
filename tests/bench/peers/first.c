/* The first service of the boot benchmark.
 *
 * In a QEMU guest (no arguments) it stamps its start in the kernel log
 * (/dev/kmsg: the kernel adds the timestamp) and ends the boot: as PID 1
 * (after the trivial init's exec) it powers off, under vigil it asks PID 1
 * to (SIGUSR2).
 *
 * On the host (`--stamp FILE`, PID 1 of a pid namespace) it writes its
 * CLOCK_MONOTONIC start, in ns, to FILE and exits; the bench ends the
 * namespace itself (vigil's shutdown there would remount the host's
 * disks, which share their superblocks with the namespace's copies). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/reboot.h>

int main(int argc, char **argv) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (argc == 3 && !strcmp(argv[1], "--stamp")) {
        FILE *f = fopen(argv[2], "w");
        if (!f) return 1;
        fprintf(f, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
        return fclose(f) ? 1 : 0;
    }
    static const char msg[] = "<6>bench: first exec\n";
    int fd = open("/dev/kmsg", O_WRONLY);
    if (fd >= 0) {
        (void)!write(fd, msg, strlen(msg));
        close(fd);
    }
    if (getpid() == 1) {
        reboot(RB_POWER_OFF);
        for (;;) pause();
    }
    kill(1, SIGUSR2);
    return 0;
}
