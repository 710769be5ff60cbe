/* The first service of the boot benchmark. It stamps its start in the
 * kernel log (/dev/kmsg: the kernel adds the timestamp) and ends the boot:
 * as PID 1 (after the trivial init's exec) it powers off, under vigil it
 * asks PID 1 to (SIGUSR2). */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/reboot.h>

int main(void) {
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
