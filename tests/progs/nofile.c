/* ADDFD at RLIMIT_NOFILE: open argv[1] (emulated) until it fails; print
 * the errno. Waits for a line on stdin before and after, so the test can
 * count vigil's fds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    char line[8];
    struct rlimit r = {16, 16};
    setrlimit(RLIMIT_NOFILE, &r);
    printf("ready\n"); fflush(stdout);
    if (read(0, line, sizeof line) <= 0) return 3;
    int n = 0, e = 0;
    for (;;) {
        if (open(argv[1], O_RDONLY) < 0) { e = errno; break; }
        n++;
    }
    printf("opened=%d errno=%s\n", n, e == EMFILE ? "EMFILE" : strerror(e)); fflush(stdout);
    if (read(0, line, sizeof line) <= 0) return 3;
    return 0;
}
