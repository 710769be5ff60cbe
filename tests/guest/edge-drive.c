/* Guest-side driver of the edge boot's `/init run` scenarios (after
 * tests/edge.rs): starts a fresh `/init run` monitor over one program of
 * tests/progs, talks to it through pipes (and to holdkill, the ptrace
 * helper), checks vigil's pid, fds and exit status, and prints one line
 * `TEST edge.NAME: ok|FAIL why`. Runs outside any filter (policy none).
 *   edge-drive held REQ EFFECT NAME   target SIGKILLed while vigil holds its
 *                                     notification (at ioctl REQ)
 *   edge-drive nofile                 ADDFD at RLIMIT_NOFILE: EMFILE, no leak
 *   edge-drive pending                last task dies with a notification
 *                                     pending: vigil exits 137
 * vigil's stderr is copied to the console as `edge-run: LINE`. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VIGIL "/init"
#define POLICY "/etc/edge/edge.policy"
#define DIR_ "/run/edge"
#define LINE_MS 60000

static const char *name = "edge";
static char errfile[128];

static void result(const char *s) {
    printf("TEST edge.%s: %s\n", name, s);
    fflush(stdout);
}

/* Prints the FAIL line; returns 1. */
static int fail(const char *fmt, ...) {
    va_list ap;
    printf("TEST edge.%s: FAIL ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return 1;
}
#define FAIL(...) return fail(__VA_ARGS__)

struct child { pid_t pid; int in, out; };

/* Start ARGV with pipes on stdin and stdout; stderr to ERR (or inherited). */
static struct child spawn(char *const argv[], const char *err) {
    int i[2], o[2];
    struct child c = {-1, -1, -1};
    if (pipe2(i, O_CLOEXEC) || pipe2(o, O_CLOEXEC)) return c;
    c.pid = fork();
    if (c.pid == 0) {
        dup2(i[0], 0);
        dup2(o[1], 1);
        if (err) {
            int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (e >= 0) dup2(e, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(i[0]);
    close(o[1]);
    c.in = i[1];
    c.out = o[0];
    return c;
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* One line from FD (without the newline), or "<eof>" / "<timeout>". */
static const char *line(int fd) {
    static char s[512];
    size_t n = 0;
    long end = now_ms() + LINE_MS;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        long left = end - now_ms();
        if (left <= 0 || poll(&p, 1, left) == 0) return "<timeout>";
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return n ? (s[n] = 0, s) : "<eof>";
        if (c == '\n' || n == sizeof s - 1) { s[n] = 0; return s; }
        s[n++] = c;
    }
}

/* The exit status of PID within MS, or -1 (then it is SIGKILLed). */
static int wait_ms(pid_t pid, long ms) {
    long end = now_ms() + ms;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (r < 0 || now_ms() > end) break;
        usleep(5000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static const char *status(int st) {
    static char s[64];
    if (st == -1) return "still running at the deadline";
    if (WIFEXITED(st)) snprintf(s, sizeof s, "exit %d", WEXITSTATUS(st));
    else snprintf(s, sizeof s, "signal %d", WTERMSIG(st));
    return s;
}

/* vigil's stderr: copied to the console; 1 if it mentions an error. */
static int stderr_has_error(void) {
    FILE *f = fopen(errfile, "r");
    char l[512];
    int bad = 0;
    if (!f) return 0;
    while (fgets(l, sizeof l, f)) {
        printf("edge-run: %s", l);
        if (strstr(l, "error")) bad = 1;
    }
    fclose(f);
    fflush(stdout);
    return bad;
}

static void say(int fd, const char *s) {
    if (write(fd, s, strlen(s)) < 0) perror("write");
}

static int is_dir(const char *p) {
    struct stat s;
    return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

static int held(const char *req, int effect) {
    char a[128], b[128], vpid[16];
    snprintf(a, sizeof a, DIR_ "/held-%s-by-the-killed", name);
    snprintf(b, sizeof b, DIR_ "/held-%s-after", name);
    rmdir(a);
    rmdir(b);
    char *vargv[] = {VIGIL, "run", "--policy", POLICY, "--", "/edge/held", a, b, 0};
    struct child v = spawn(vargv, errfile);
    if (v.pid < 0) FAIL("cannot start vigil");
    char target[32];
    snprintf(target, sizeof target, "%s", line(v.out));
    if (atoi(target) <= 0) { wait_ms(v.pid, 0); FAIL("target pid line '%s'", target); }
    snprintf(vpid, sizeof vpid, "%d", v.pid);
    char *targv[] = {"/edge/holdkill", vpid, target, (char *)req, "1", 0};
    struct child t = spawn(targv, 0);
    const char *l = line(t.out);
    if (strcmp(l, "ready")) { wait_ms(t.pid, 0); wait_ms(v.pid, 0); FAIL("holdkill said '%s', want ready", l); }
    say(v.in, "go\n");
    l = line(t.out);
    if (strcmp(l, "hit")) { wait_ms(t.pid, 0); wait_ms(v.pid, 0); FAIL("holdkill said '%s', want hit", l); }
    int st = wait_ms(t.pid, LINE_MS);
    if (st != 0) { wait_ms(v.pid, 0); FAIL("holdkill: %s", status(st)); }
    char out[512];
    snprintf(out, sizeof out, "%s", line(v.out));
    close(v.in);
    st = wait_ms(v.pid, LINE_MS);
    int err = stderr_has_error();
    if (strcmp(out, "child=killed after=0")) FAIL("held printed '%s', want 'child=killed after=0'", out);
    if (st != 0) FAIL("vigil run: %s, want exit 0", status(st));
    if (is_dir(a) != effect) FAIL("%s %s (ioctl %s)", a, effect ? "not made" : "made by the killed target", req);
    if (!is_dir(b)) FAIL("%s not made: vigil stopped serving", b);
    if (err) FAIL("vigil's stderr mentions an error");
    result("ok");
    return 0;
}

/* "N -> target" of every fd of PID, sorted, one a line. */
static int cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }
static void fds(pid_t pid, char *buf, size_t size) {
    char d[64], *names[256];
    int n = 0;
    snprintf(d, sizeof d, "/proc/%d/fd", pid);
    DIR *dir = opendir(d);
    struct dirent *e;
    while (dir && (e = readdir(dir)) && n < 256) {
        if (e->d_name[0] == '.') continue;
        char p[320], t[256];
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        ssize_t k = readlink(p, t, sizeof t - 1);
        t[k > 0 ? k : 0] = 0;
        names[n] = malloc(strlen(e->d_name) + strlen(t) + 8);
        sprintf(names[n++], "%s -> %s", e->d_name, t);
    }
    if (dir) closedir(dir);
    qsort(names, n, sizeof *names, cmp);
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        if (strlen(buf) + strlen(names[i]) + 3 < size) {
            strcat(buf, names[i]);
            strcat(buf, "; ");
        }
        free(names[i]);
    }
}

/* Does the list `after` (of fds()) have an entry `before` lacks? */
static int gained(const char *before, const char *after) {
    while (*after) {
        const char *end = strstr(after, "; ");
        if (!end) return 0;
        size_t n = end - after + 2;
        const char *b = before;
        int found = 0;
        for (const char *at; !found && (at = strstr(b, "; ")); b = at + 2)
            found = (size_t)(at + 2 - b) == n && !strncmp(b, after, n);
        if (!found) return 1;
        after = end + 2;
    }
    return 0;
}

static int nofile(void) {
    /* --log debug: the kernel feature line, which the suite checks. */
    char *vargv[] = {VIGIL, "run", "--log", "debug", "--policy", POLICY, "--", "/edge/nofile", DIR_ "/file", 0};
    struct child v = spawn(vargv, errfile);
    if (v.pid < 0) FAIL("cannot start vigil");
    const char *l = line(v.out);
    if (strcmp(l, "ready")) { wait_ms(v.pid, 0); FAIL("nofile said '%s', want ready", l); }
    static char before[8192], after[8192];
    fds(v.pid, before, sizeof before);
    say(v.in, "go\n");
    char got[512];
    snprintf(got, sizeof got, "%s", line(v.out));
    /* vigil closes its own copies just after answering: give it time. A
     * leak is an fd vigil has now and did not have before (one it had
     * open for a moment then, and closed since, is not). */
    long end = now_ms() + 5000;
    do {
        fds(v.pid, after, sizeof after);
        if (!gained(before, after)) break;
        usleep(10000);
    } while (now_ms() < end);
    say(v.in, "go\n");
    int st = wait_ms(v.pid, LINE_MS);
    int err = stderr_has_error();
    printf("edge: nofile %s; vigil fds: %s\n", got, before);
    size_t n = strlen(got);
    if (strncmp(got, "opened=1", 8) || n < 13 || strcmp(got + n - 13, " errno=EMFILE"))
        FAIL("nofile printed '%s', want opened=1N errno=EMFILE", got);
    if (st != 0) FAIL("vigil run: %s, want exit 0", status(st));
    if (gained(before, after)) FAIL("vigil gained fds: before: %s after: %s", before, after);
    if (err) FAIL("vigil's stderr mentions an error");
    result("ok");
    return 0;
}

/* The syscall number TASK is blocked in, or -1. */
static long in_syscall(const char *task) {
    char p[64], s[256];
    snprintf(p, sizeof p, "/proc/%s/syscall", task);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, s, sizeof s - 1);
    close(fd);
    if (n <= 0) return -1;
    s[n] = 0;
    return s[0] >= '0' && s[0] <= '9' ? atol(s) : -1;
}

/* The worker that serves a `vigil run` monitor's listener (a policy with
 * path rules has one): the child of `v` with v's name; or `v`. */
static pid_t worker_of(pid_t v) {
    char path[64], s[512], me[64] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", v);
    FILE *f = fopen(path, "r");
    if (!f) return v;
    if (!fgets(me, sizeof me, f)) me[0] = 0;
    fclose(f);
    me[strcspn(me, "\n")] = 0;
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
        if (!strcmp(open + 1, me)) { closedir(d); return p; }
    }
    if (d) closedir(d);
    return v;
}

static int pending(void) {
    char *vargv[] = {VIGIL, "run", "--policy", POLICY, "--", "/edge/pending", 0};
    struct child v = spawn(vargv, errfile);
    if (v.pid < 0) FAIL("cannot start vigil");
    char target[32];
    snprintf(target, sizeof target, "%s", line(v.out));
    if (atoi(target) <= 0) { wait_ms(v.pid, 0); FAIL("target pid line '%s'", target); }
    /* The worker serves this listener (the policy has path rules). */
    pid_t w = worker_of(v.pid);
    kill(v.pid, SIGSTOP);
    kill(w, SIGSTOP);
    say(v.in, "go\n");
    /* The target reaches its notified getppid: pending, vigil is stopped. */
    long end = now_ms() + 20000, nr = -1;
    while (now_ms() < end && (nr = in_syscall(target)) != SYS_getppid) usleep(10000);
    usleep(50000);
    kill(atoi(target), SIGKILL);
    kill(w, SIGCONT);
    kill(v.pid, SIGCONT);
    int st = wait_ms(v.pid, 30000);
    int err = stderr_has_error();
    if (nr != SYS_getppid) FAIL("the target never blocked in getppid (in syscall %ld)", nr);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 128 + 9)
        FAIL("vigil run: %s, want exit 137", status(st));
    if (err) FAIL("vigil's stderr mentions an error");
    result("ok");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    signal(SIGPIPE, SIG_IGN);
    name = argv[1];
    if (!strcmp(argv[1], "held") && argc >= 5) name = argv[4];
    snprintf(errfile, sizeof errfile, DIR_ "/%s.stderr", name);
    long t0 = now_ms();
    int r = 2;
    if (!strcmp(argv[1], "held") && argc >= 5) r = held(argv[2], atoi(argv[3]));
    else if (!strcmp(argv[1], "nofile")) r = nofile();
    else if (!strcmp(argv[1], "pending")) r = pending();
    else result("FAIL unknown scenario");
    printf("edge: %s took %ld ms\n", name, now_ms() - t0);
    return r;
}
