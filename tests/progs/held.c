/* A child makes an emulated mkdir(argv[1]) once told to (a line on stdin)
 * and is SIGKILLed by the test while vigil holds its notification; the
 * parent then checks that vigil still serves: mkdir(argv[2]). */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    pid_t c = fork();
    if (c == 0) {
        char line[8];
        printf("%d\n", getpid());
        fflush(stdout);
        if (read(0, line, sizeof line) <= 0) return 3;
        mkdir(argv[1], 0755);
        return 0;
    }
    int st;
    waitpid(c, &st, 0);
    int r = mkdir(argv[2], 0755);
    printf("child=%s after=%d\n", WIFSIGNALED(st) ? "killed" : "exited", r);
    return 0;
}
