/* The VM-run benchmark's bare /init: run /bin/prog with its arguments
 * (from the kernel command line after `--`, here fixed: `exit 3`), print
 * its status on the console and power off. What a hand-made test VM does,
 * with nothing else: no mounts, no modules, no monitor. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int fd = open("/dev/console", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
    }
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"/bin/prog", "exit", "3", 0};
        char *envp[] = {0};
        execve(argv[0], argv, envp);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
