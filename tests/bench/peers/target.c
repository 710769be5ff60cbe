/* The benchmark's target program: it runs under a monitor (or none) and
 * measures itself, so no monitor's bookkeeping is in the figures.
 *
 *   target loop N        time N getppid calls (after a warm-up); prints
 *                        "ns_per_call=F ret=V"
 *   target load P SECS   P children call getppid for SECS seconds; the
 *                        parent samples its own parent (the monitor): prints
 *                        "counts=C1,C2,... ticks=T rss_kb=R"
 *
 * getppid is called with syscall(2), never through a libc cache. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* The real parent from /proc/self/stat (getppid may be answered by the
 * monitor). Field 4, after the ")" that ends the command name. */
static int real_ppid(void) {
    char buf[512];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    int ppid = -1;
    if (p) sscanf(p + 2, "%*c %d", &ppid);
    return ppid;
}

/* utime + stime of PID, in clock ticks. */
static long cpu_ticks(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p) return -1;
    /* fields 3.. after ") ": state ppid pgrp session tty tpgid flags
     * minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

static long vm_rss_kb(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

static int loop(long n) {
    long v = 0;
    for (long i = 0; i < n / 10 + 1000; i++) v = syscall(SYS_getppid);
    long t0 = now_ns();
    for (long i = 0; i < n; i++) v = syscall(SYS_getppid);
    long t1 = now_ns();
    printf("ns_per_call=%.1f ret=%ld\n", (double)(t1 - t0) / n, v);
    return 0;
}

static int load(int procs, double secs) {
    int go[2], res[2];
    if (pipe(go) || pipe(res)) return perror("pipe"), 1;
    int monitor = real_ppid();
    for (int i = 0; i < procs; i++) {
        pid_t pid = fork();
        if (pid < 0) return perror("fork"), 1;
        if (pid == 0) {
            char c;
            close(go[1]);
            while (read(go[0], &c, 1) < 0 && errno == EINTR) {}
            long end = now_ns() + (long)(secs * 1e9), count = 0;
            for (;;) {
                for (int k = 0; k < 64; k++) syscall(SYS_getppid);
                count += 64;
                if (now_ns() >= end) break;
            }
            (void)!write(res[1], &count, sizeof count);
            _exit(0);
        }
    }
    close(go[0]);
    close(res[1]);
    long t0 = cpu_ticks(monitor);
    close(go[1]); /* everyone starts */
    struct timespec half = {(time_t)(secs / 2), (long)((secs / 2 - (time_t)(secs / 2)) * 1e9)};
    nanosleep(&half, NULL);
    long rss = vm_rss_kb(monitor);
    printf("counts=");
    for (int i = 0; i < procs; i++) {
        long c = 0;
        if (read(res[0], &c, sizeof c) != sizeof c) c = -1;
        printf(i ? ",%ld" : "%ld", c);
    }
    while (wait(NULL) > 0) {}
    long t1 = cpu_ticks(monitor);
    printf(" ticks=%ld hz=%ld rss_kb=%ld\n", t1 - t0, sysconf(_SC_CLK_TCK), rss);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "loop")) return loop(atol(argv[2]));
    if (argc == 4 && !strcmp(argv[1], "load")) return load(atoi(argv[2]), atof(argv[3]));
    fprintf(stderr, "usage: target loop N | target load PROCS SECS\n");
    return 2;
}
