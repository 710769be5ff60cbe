/* The boot benchmark's peer /init: exec the first program at once
 * (/bin/first in a guest, or the program and arguments it was given). */
#include <unistd.h>

int main(int argc, char **argv) {
    char *first[] = {"/bin/first", 0};
    char *envp[] = {0};
    char **prog = argc > 1 ? argv + 1 : first;
    execve(prog[0], prog, envp);
    return 127;
}
