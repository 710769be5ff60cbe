/*
 * vtest: the multi-call guest program of the QEMU suite (qemu/suite).
 * Built static with the target's C compiler; runs under vigil as PID 1.
 *
 *   vtest getppid [WANT]          raw getppid(2); prints getppid=N
 *   vtest uname [WANT]            raw uname(2); prints uname=ok|ERRNO
 *   vtest mkdir PATH [WANT]       mkdir(2); prints mkdir PATH=ok|ERRNO
 *   vtest mounts                  /proc /sys /dev /dev/pts /run /tmp mounted?
 *   vtest orphans [N]             N double-forked orphans must be reaped
 *   vtest exit N                  exit with status N
 *   vtest kill-self SIG           raise SIG (default action)
 *   vtest write-file PATH TEXT    create PATH with TEXT, no fsync
 *   vtest read-file PATH WANT     PATH must hold exactly WANT
 *   vtest ignore-term             ignore SIGTERM, sleep forever
 *   vtest env KEY WANT            getenv(KEY) must be WANT
 *   vtest cwd WANT                getcwd() must be WANT
 *   vtest hostname WANT           uname().nodename must be WANT
 *   vtest nofile SOFT HARD        RLIMIT_NOFILE must be SOFT HARD
 *   vtest ids UID GID             getuid/getgid must be UID/GID
 *   vtest touch PATH              create an empty file
 *   vtest wait-files TIMEOUT_MS PATH...   wait until every PATH exists
 *   vtest machine WANT            reboot(2) (CAD_OFF: harmless if allowed) and
 *                                 delete_module(2) of no module: both WANT
 *
 * $VTEST_DONE, if set, names a file created when the command returns.
 *
 * With a WANT argument, or where the program can decide by itself, it
 * prints `TEST TAG.NAME: ok` or `TEST TAG.NAME: FAIL why`, TAG being
 * $VTEST_TAG (default "vtest"), and exits 0 on ok, 1 on FAIL.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

static int result(const char *name, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = report(guest_tag("vtest"), name, ok, fmt, ap);
    va_end(ap);
    return r;
}

static const struct { int e; const char *n; } errnos[] = {
    {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EACCES, "EACCES"},
    {EEXIST, "EEXIST"}, {EOPNOTSUPP, "EOPNOTSUPP"}, {ENOSYS, "ENOSYS"},
    {EINVAL, "EINVAL"}, {EROFS, "EROFS"}, {ENOTDIR, "ENOTDIR"},
};

static const char *errname(int e)
{
    static char buf[32];
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (errnos[i].e == e)
            return errnos[i].n;
    snprintf(buf, sizeof buf, "errno%d", e);
    return buf;
}

static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int cmd_getppid(int argc, char **argv)
{
    long r = syscall(SYS_getppid);
    printf("getppid=%ld\n", r);
    fflush(stdout);
    if (argc < 1)
        return 0;
    return result("getppid", r == atol(argv[0]), "got %ld, want %s", r, argv[0]);
}

static int cmd_uname(int argc, char **argv)
{
    struct utsname u;
    long r = syscall(SYS_uname, &u);
    const char *got = r == 0 ? "ok" : errname(errno);
    printf("uname=%s\n", got);
    fflush(stdout);
    if (argc < 1)
        return 0;
    return result("uname", strcmp(got, argv[0]) == 0, "got %s, want %s", got, argv[0]);
}

/* Machine-wide syscalls with arguments that do no harm if they go through:
 * disabling Ctrl-Alt-Del, and removing a module that does not exist. */
static int cmd_machine(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    long r = syscall(SYS_reboot, 0xfee1dead, 672274793, 0 /* CAD_OFF */, NULL);
    char a[32];
    snprintf(a, sizeof a, "%s", r == 0 ? "ok" : errname(errno));
    r = syscall(SYS_delete_module, "vigil_no_such_module", O_NONBLOCK);
    const char *b = r == 0 ? "ok" : errname(errno);
    printf("reboot=%s delete_module=%s\n", a, b);
    fflush(stdout);
    return result("machine", strcmp(a, argv[0]) == 0 && strcmp(b, argv[0]) == 0,
                  "reboot %s, delete_module %s, want %s", a, b, argv[0]);
}

static int cmd_mkdir(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    int r = mkdir(argv[0], 0755);
    const char *got = r == 0 ? "ok" : errname(errno);
    printf("mkdir %s=%s\n", argv[0], got);
    fflush(stdout);
    if (argc < 2)
        return 0;
    char name[300];
    snprintf(name, sizeof name, "mkdir:%s", argv[0]);
    return result(name, strcmp(got, argv[1]) == 0, "got %s, want %s", got, argv[1]);
}

static int cmd_mounts(void)
{
    static const char *want[] = {"/proc", "/sys", "/dev", "/dev/pts", "/run", "/tmp"};
    char missing[256] = "";
    FILE *f = fopen("/proc/self/mounts", "r");
    if (!f)
        return result("mounts", 0, "cannot open /proc/self/mounts: %s", strerror(errno));
    char line[1024];
    int seen[6] = {0};
    while (fgets(line, sizeof line, f)) {
        char src[256], dir[256], type[64];
        if (sscanf(line, "%255s %255s %63s", src, dir, type) != 3)
            continue;
        for (int i = 0; i < 6; i++)
            if (strcmp(dir, want[i]) == 0)
                seen[i] = 1;
    }
    fclose(f);
    for (int i = 0; i < 6; i++)
        if (!seen[i]) {
            strcat(missing, " ");
            strcat(missing, want[i]);
        }
    return result("mounts", missing[0] == 0, "not mounted:%s", missing);
}

/* State letter and ppid of /proc/PID/stat; 0 if the process is gone. */
static char proc_state(int pid, int *ppid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    char st = 0;
    int pp = 0;
    if (sscanf(p + 1, " %c %d", &st, &pp) != 2)
        return 0;
    if (ppid)
        *ppid = pp;
    return st;
}

static int cmd_orphans(int argc, char **argv)
{
    int n = argc > 0 ? atoi(argv[0]) : 5;
    if (n < 1 || n > 64)
        n = 5;
    int pids[64];
    int p[2], q[2];
    /* p: orphans -> us, their pids; q: held open by us until the ppid
     * check is done, so that no orphan exits before it. */
    if (pipe(p) != 0 || pipe(q) != 0)
        return result("orphans", 0, "pipe: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0)
            return result("orphans", 0, "fork: %s", strerror(errno));
        if (c == 0) {
            pid_t g = fork();
            if (g == 0) {
                int me = getpid();
                char c;
                close(p[0]);
                close(q[1]);
                if (write(p[1], &me, sizeof me) != sizeof me)
                    _exit(1);
                close(p[1]);
                while (read(q[0], &c, 1) > 0) /* until our creator says */
                    ;
                msleep(20 * i);
                _exit(i % 3); /* some fail, some succeed */
            }
            _exit(0);
        }
        waitpid(c, NULL, 0);
    }
    close(p[1]);
    close(q[0]);
    for (int i = 0; i < n; i++)
        if (read(p[0], &pids[i], sizeof pids[i]) != sizeof pids[i])
            return result("orphans", 0, "lost the pid of orphan %d", i);
    close(p[0]);
    /* While they sleep, they must have been re-parented to PID 1. */
    int reparented = 0;
    for (int i = 0; i < n; i++) {
        int pp = -1;
        if (proc_state(pids[i], &pp) && pp == 1)
            reparented++;
    }
    close(q[1]);
    /* Give them time to exit and PID 1 time to reap them. */
    int left = n, zombies = 0;
    for (int tries = 0; tries < 60 && left > 0; tries++) {
        msleep(100);
        left = zombies = 0;
        for (int i = 0; i < n; i++) {
            char st = proc_state(pids[i], NULL);
            if (st) {
                left++;
                zombies += st == 'Z';
            }
        }
    }
    /* Every zombie whose parent is PID 1, whoever it is (information). */
    int all = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int pid = atoi(e->d_name), pp = 0;
        if (pid > 0 && proc_state(pid, &pp) == 'Z' && pp == 1)
            all++;
    }
    if (d)
        closedir(d);
    printf("orphans: %d started, %d re-parented to 1, %d left, %d zombies; zombies of pid 1 now: %d\n",
           n, reparented, left, zombies, all);
    fflush(stdout);
    int r = result("orphans-reparented", reparented == n, "%d of %d had ppid 1", reparented, n);
    return r | result("orphans", left == 0, "%d of %d not reaped (%d zombies)", left, n, zombies);
}

static int cmd_write_file(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return result("write-file", 0, "open %s: %s", argv[0], strerror(errno));
    size_t len = strlen(argv[1]);
    ssize_t w = write(fd, argv[1], len);
    int c = close(fd);
    return result("write-file", w == (ssize_t)len && c == 0, "write %s: %zd of %zu", argv[0], w, len);
}

static int cmd_read_file(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char buf[4096];
    int fd = open(argv[0], O_RDONLY);
    if (fd < 0)
        return result("read-file", 0, "open %s: %s", argv[0], strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = 0;
    return result("read-file", strcmp(buf, argv[1]) == 0, "%s holds '%s', want '%s'", argv[0], buf, argv[1]);
}

static int cmd_ignore_term(void)
{
    signal(SIGTERM, SIG_IGN);
    printf("ignoring SIGTERM\n");
    fflush(stdout);
    for (;;)
        pause();
    return 0;
}

static int cmd_wait_files(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    long limit = atol(argv[0]);
    for (long t = 0;; t += 50) {
        int missing = 0;
        for (int i = 1; i < argc; i++)
            missing += access(argv[i], F_OK) != 0;
        if (!missing)
            return 0;
        if (t >= limit) {
            for (int i = 1; i < argc; i++)
                if (access(argv[i], F_OK) != 0)
                    printf("wait-files: still missing %s\n", argv[i]);
            fflush(stdout);
            return 1;
        }
        msleep(50);
    }
}

static int dispatch(int argc, char **argv);

/* $VTEST_DONE names a marker file created when the command returns. */
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int r = dispatch(argc, argv);
    const char *done = getenv("VTEST_DONE");
    if (done && *done) {
        int fd = open(done, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0)
            close(fd);
    }
    return r;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: vtest COMMAND [ARGS...]\n");
        return 2;
    }
    const char *c = argv[1];
    int n = argc - 2;
    char **a = argv + 2;
    if (!strcmp(c, "getppid"))
        return cmd_getppid(n, a);
    if (!strcmp(c, "uname"))
        return cmd_uname(n, a);
    if (!strcmp(c, "mkdir"))
        return cmd_mkdir(n, a);
    if (!strcmp(c, "machine"))
        return cmd_machine(n, a);
    if (!strcmp(c, "mounts"))
        return cmd_mounts();
    if (!strcmp(c, "orphans"))
        return cmd_orphans(n, a);
    if (!strcmp(c, "exit"))
        return n > 0 ? atoi(a[0]) : 0;
    if (!strcmp(c, "kill-self")) {
        int sig = n > 0 ? atoi(a[0]) : SIGKILL;
        signal(sig, SIG_DFL);
        raise(sig);
        return 99;
    }
    if (!strcmp(c, "write-file"))
        return cmd_write_file(n, a);
    if (!strcmp(c, "read-file"))
        return cmd_read_file(n, a);
    if (!strcmp(c, "ignore-term"))
        return cmd_ignore_term();
    if (!strcmp(c, "wait-files"))
        return cmd_wait_files(n, a);
    if (!strcmp(c, "touch")) {
        int fd = n > 0 ? open(a[0], O_WRONLY | O_CREAT, 0644) : -1;
        return fd < 0;
    }
    if (!strcmp(c, "env") && n >= 2) {
        const char *v = getenv(a[0]);
        return result("env", v && !strcmp(v, a[1]), "%s=%s, want %s", a[0], v ? v : "(unset)", a[1]);
    }
    if (!strcmp(c, "cwd") && n >= 1) {
        char buf[4096];
        const char *w = getcwd(buf, sizeof buf);
        return result("cwd", w && !strcmp(w, a[0]), "cwd %s, want %s", w ? w : "?", a[0]);
    }
    if (!strcmp(c, "hostname") && n >= 1) {
        struct utsname u;
        uname(&u);
        return result("hostname", !strcmp(u.nodename, a[0]), "hostname %s, want %s", u.nodename, a[0]);
    }
    if (!strcmp(c, "nofile") && n >= 2) {
        struct rlimit r;
        getrlimit(RLIMIT_NOFILE, &r);
        return result("nofile", r.rlim_cur == strtoul(a[0], 0, 10) && r.rlim_max == strtoul(a[1], 0, 10),
                      "nofile %lu %lu, want %s %s", (unsigned long)r.rlim_cur, (unsigned long)r.rlim_max, a[0], a[1]);
    }
    if (!strcmp(c, "ids") && n >= 2) {
        unsigned u = getuid(), g = getgid();
        return result("ids", u == strtoul(a[0], 0, 10) && g == strtoul(a[1], 0, 10),
                      "uid %u gid %u, want %s %s", u, g, a[0], a[1]);
    }
    fprintf(stderr, "vtest: unknown command %s\n", c);
    return 2;
}
