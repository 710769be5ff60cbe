/* SA_RESTART: a child bombards us with SIGUSR1 while we make N emulated
 * mkdirs; each must succeed once (EEXIST would mean a doubled effect). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long hits;
static void on(int s) { (void)s; hits++; }

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int n = atoi(argv[2]), fails = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, 0);
    pid_t me = getpid(), c = fork();
    if (c == 0) {
        for (;;) { kill(me, SIGUSR1); usleep(20); }
    }
    char p[4096];
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/d%d", argv[1], i);
        if (mkdir(p, 0755) != 0) { fails++; fprintf(stderr, "mkdir %s: %s\n", p, strerror(errno)); }
    }
    kill(c, SIGKILL);
    waitpid(c, 0, 0);
    printf("mkdirs=%d failures=%d signals=%ld\n", n, fails, hits);
    return 0;
}
