/* Prints its pid, waits for a line, then makes a notified getppid: the
 * test stops vigil first, so the notification stays pending until the
 * test kills us. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    char line[8];
    printf("%d\n", getpid());
    fflush(stdout);
    if (read(0, line, sizeof line) <= 0) return 3;
    syscall(SYS_getppid);
    return 0;
}
