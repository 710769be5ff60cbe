/* Test helper, not run under vigil: trace vigil (argv[1]) until it enters
 * the Nth ioctl with request argv[3], SIGKILL the target (argv[2]), wait
 * until it is dead, and let vigil go on. Prints "hit" when it did.
 * Path notifications are served by vigil's worker, a child of vigil that
 * is also named vigil: when there is one, it is the one traced. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int dead(pid_t p) {
    char path[64], s[512];
    snprintf(path, sizeof path, "/proc/%d/stat", p);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    int n = fread(s, 1, sizeof s - 1, f);
    fclose(f);
    s[n > 0 ? n : 0] = 0;
    char *e = strrchr(s, ')');
    return e && (e[2] == 'Z' || e[2] == 'X');
}

/* The child of `v` named like it (its worker), or `v`. */
static pid_t worker_of(pid_t v) {
    char path[64], s[512], me[64] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", v);
    FILE *f = fopen(path, "r");
    if (!f) return v;
    if (!fgets(me, sizeof me, f)) me[0] = 0;
    fclose(f);
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        pid_t p = atoi(de->d_name);
        if (p <= 0) continue;
        snprintf(path, sizeof path, "/proc/%d/stat", p);
        f = fopen(path, "r");
        if (!f) continue;
        int n = fread(s, 1, sizeof s - 1, f);
        fclose(f);
        s[n > 0 ? n : 0] = 0;
        char *open = strchr(s, '('), *close = strrchr(s, ')');
        int ppid = 0;
        if (!open || !close || sscanf(close + 2, "%*c %d", &ppid) != 1 || ppid != v) continue;
        *close = 0;
        if (!strncmp(open + 1, me, strcspn(me, "\n")) && strlen(open + 1) == strcspn(me, "\n")) {
            closedir(d);
            return p;
        }
    }
    if (d) closedir(d);
    return v;
}

int main(int argc, char **argv) {
    if (argc < 5) return 2;
    pid_t v = worker_of(atoi(argv[1])), t = atoi(argv[2]);
    unsigned long req = strtoul(argv[3], 0, 0);
    int nth = atoi(argv[4]), seen = 0;
    if (ptrace(PTRACE_SEIZE, v, 0, PTRACE_O_TRACESYSGOOD) < 0) { perror("seize"); return 1; }
    ptrace(PTRACE_INTERRUPT, v, 0, 0);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int st;
        if (waitpid(v, &st, __WALL) < 0) return 1;
        if (WIFEXITED(st) || WIFSIGNALED(st)) return 1;
        int sig = 0;
        if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
            struct __ptrace_syscall_info si;
            ptrace(PTRACE_GET_SYSCALL_INFO, v, sizeof si, &si);
            if (si.op == PTRACE_SYSCALL_INFO_ENTRY && si.entry.nr == SYS_ioctl &&
                (unsigned)si.entry.args[1] == (unsigned)req && ++seen == nth) {
                kill(t, SIGKILL);
                while (!dead(t)) usleep(1000);
                ptrace(PTRACE_DETACH, v, 0, 0);
                printf("hit\n");
                return 0;
            }
        } else if (WSTOPSIG(st) != SIGTRAP && (st >> 16) != PTRACE_EVENT_STOP) {
            sig = WSTOPSIG(st);
        }
        ptrace(PTRACE_SYSCALL, v, 0, sig);
    }
}
