/* Fairness: K children flood vigil with emulated mkdir/rmdir while we
 * time our own notified getppid; prints latency percentiles in ns. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}
static int cmp(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    int k = atoi(argv[2]), n = atoi(argv[3]);
    pid_t kids[16];
    for (int i = 0; i < k && i < 16; i++) {
        if ((kids[i] = fork()) == 0) {
            char p[4096];
            snprintf(p, sizeof p, "%s/flood%d", argv[1], i);
            for (;;) { mkdir(p, 0755); rmdir(p); }
        }
    }
    usleep(20000);
    long *lat = malloc(n * sizeof *lat);
    for (int i = 0; i < n; i++) {
        long t0 = now();
        if (syscall(SYS_getppid) != 7) return 3;
        lat[i] = now() - t0;
    }
    for (int i = 0; i < k && i < 16; i++) { kill(kids[i], SIGKILL); waitpid(kids[i], 0, 0); }
    qsort(lat, n, sizeof *lat, cmp);
    printf("samples=%d p50=%ld p99=%ld max=%ld\n", n, lat[n / 2], lat[n * 99 / 100], lat[n - 1]);
    return 0;
}
