/* Every thread is under the filter and served: T threads each open the
 * allowed file (must read its content) and the forbidden one (must fail
 * with EPERM), N times. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *ok, *bad;
static int n;

static void *work(void *arg) {
    long bads = 0;
    for (int i = 0; i < n; i++) {
        char c[8] = {0};
        int fd = open(ok, O_RDONLY);
        if (fd < 0 || read(fd, c, 2) != 2 || strcmp(c, "ok")) bads++;
        if (fd >= 0) close(fd);
        fd = open(bad, O_RDONLY);
        if (fd >= 0 || errno != EPERM) bads++;
        if (fd >= 0) close(fd);
    }
    return (void *)bads;
}

int main(int argc, char **argv) {
    if (argc < 5) return 2;
    ok = argv[1], bad = argv[2];
    int t = atoi(argv[3]);
    n = atoi(argv[4]);
    pthread_t th[64];
    long bads = 0;
    for (int i = 0; i < t && i < 64; i++) pthread_create(&th[i], 0, work, 0);
    for (int i = 0; i < t && i < 64; i++) { void *r; pthread_join(th[i], &r); bads += (long)r; }
    printf("threads=%d calls=%d bad=%ld\n", t, t * n * 2, bads);
    return 0;
}
