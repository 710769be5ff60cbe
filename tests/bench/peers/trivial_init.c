/* The boot benchmark's peer /init: exec the first program at once. */
#include <unistd.h>

int main(void) {
    char *argv[] = {"/bin/first", 0};
    char *envp[] = {0};
    execve(argv[0], argv, envp);
    return 127;
}
