/* hostile: the misbehaving services of the "hostile" QEMU boots
 * (qemu/boots/hostile.sh) and the probe that measures how fast vigil still
 * answers a notification while they run.
 *
 *   hostile probe SECS STOPFILE     getppid (policy: notify return 4242) every
 *                                   100 ms; latency per phase (/run/h/phase)
 *   hostile phase NAME AT SECS      wait for the probe's start, run phase NAME
 *                                   from AT s to AT+SECS s (see `phases`)
 *   hostile uffd NAME SECS          hold a userfaultfd fault in an openat's path
 *                                   for SECS s (/run/h/pid-NAME: its pid;
 *                                   /run/h/holding-NAME: its line is out)
 *   hostile wait-file MS PATH       until PATH is there, not empty
 *   hostile wait-gone MS PIDFILE    until the process PIDFILE names is gone
 *   hostile settle MS               until the hostile boot's scenarios are over
 *   hostile ...                     single attacks and checks, see main()
 *
 * Output: `TEST hostile.NAME: ok` or `TEST hostile.NAME: FAIL why` lines
 * (qemu/suite's `tests`), plus `hostile: ...` lines with the numbers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define WANT 4242
#define T0_FILE "/run/h/t0"
#define PHASE_FILE "/run/h/phase"

static long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
}

#include "report.h"

static int result(const char *name, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = report("hostile", name, ok, fmt, ap);
    va_end(ap);
    return r;
}

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("hostile: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = 0;
    return 0;
}

/* ---- the probe ---------------------------------------------------------- */

#define MAX_PHASES 16
static struct {
    char name[32];
    long n, max_us, sum_us, wrong;
} ph[MAX_PHASES];
static int nph;

static int phase_index(void)
{
    char name[32];
    if (read_file(PHASE_FILE, name, sizeof name) < 0)
        strcpy(name, "idle");
    for (int i = 0; i < nph; i++)
        if (!strcmp(ph[i].name, name))
            return i;
    if (nph == MAX_PHASES)
        return MAX_PHASES - 1;
    snprintf(ph[nph].name, sizeof ph[nph].name, "%s", name);
    return nph++;
}

/* probe SECS STOPFILE BOUND_MS: until STOPFILE exists (or SECS passed),
 * time one notified getppid every 100 ms. */
static int probe(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long secs = atol(argv[0]), bound_ms = atol(argv[2]);
    const char *stop = argv[1];
    mkdir("/run/h", 0755);
    chmod("/run/h", 01777);
    char t0[32];
    snprintf(t0, sizeof t0, "%ld", now_us());
    write_file(T0_FILE ".tmp", t0);
    rename(T0_FILE ".tmp", T0_FILE);
    long start = now_us(), total = 0, worst = 0, wrong = 0;
    while (access(stop, F_OK) != 0 && now_us() - start < secs * 1000000L) {
        int k = phase_index();
        long a = now_us();
        long r = syscall(SYS_getppid);
        long lat = now_us() - a;
        if (r != WANT) {
            ph[k].wrong++;
            wrong++;
            say("probe: getppid returned %ld, want %d (phase %s)", r, WANT, ph[k].name);
        }
        ph[k].n++;
        ph[k].sum_us += lat;
        if (lat > ph[k].max_us)
            ph[k].max_us = lat;
        if (lat > worst)
            worst = lat;
        if (lat > bound_ms * 1000 / 4)
            say("probe: slow answer %ld us in phase %s", lat, ph[k].name);
        total++;
        sleep_ms(100);
    }
    for (int i = 0; i < nph; i++)
        say("probe: phase %-10s samples %4ld max %7ld us avg %6ld us wrong %ld", ph[i].name,
            ph[i].n, ph[i].max_us, ph[i].n ? ph[i].sum_us / ph[i].n : 0, ph[i].wrong);
    say("probe: %ld samples, max latency %ld us (bound %ld ms), %ld wrong", total, worst,
        bound_ms, wrong);
    int stopped = access(stop, F_OK) == 0;
    int bad = result("probe.answers", wrong == 0 && total > 0, "%ld of %ld wrong", wrong, total);
    bad |= result("probe.latency", worst < bound_ms * 1000, "max %ld us >= %ld ms", worst, bound_ms);
    bad |= result("probe.stopped", stopped, "%s never appeared in %ld s", stop, secs);
    /* Only now: "end" powers off once it sees this, which stops the probe,
     * and its TEST lines must be out by then. */
    write_file("/run/h/probe-done", "1");
    return bad;
}

/* Wait for the probe's t0, then until t0 + AT seconds; say which phase runs. */
static long wait_for_slot(const char *name, double at)
{
    char buf[32];
    while (read_file(T0_FILE, buf, sizeof buf) < 0)
        sleep_ms(50);
    long t0 = atol(buf), when = t0 + (long)(at * 1e6);
    long d = when - now_us();
    if (d > 0)
        sleep_ms(d / 1000);
    write_file(PHASE_FILE ".tmp", name);
    rename(PHASE_FILE ".tmp", PHASE_FILE);
    say("phase %s begins", name);
    return now_us();
}

static void end_slot(const char *name)
{
    char cur[32];
    if (read_file(PHASE_FILE, cur, sizeof cur) == 0 && !strcmp(cur, name)) {
        write_file(PHASE_FILE ".tmp", "idle");
        rename(PHASE_FILE ".tmp", PHASE_FILE);
    }
    say("phase %s ends", name);
}

/* ---- attacks ------------------------------------------------------------ */

static long deadline_us;
static long flood_calls[64], flood_wrong[64];

static void *flood_thread(void *arg)
{
    long i = (long)arg;
    while (now_us() < deadline_us) {
        if (syscall(SYS_getppid) != WANT)
            flood_wrong[i]++;
        flood_calls[i]++;
    }
    return NULL;
}

/* flood SECS: 64 threads calling the notified getppid as fast as they can. */
static int flood(long secs)
{
    pthread_t t[64];
    deadline_us = now_us() + secs * 1000000L;
    int started = 0;
    for (long i = 0; i < 64; i++)
        if (pthread_create(&t[i], NULL, flood_thread, (void *)i) == 0)
            started++;
    long calls = 0, wrong = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        calls += flood_calls[i];
        wrong += flood_wrong[i];
    }
    say("flood: %d threads, %ld notified calls in %ld s (%ld/s), %ld wrong", started, calls, secs,
        calls / (secs ? secs : 1), wrong);
    return result("flood", started == 64 && wrong == 0 && calls > 0,
                  "%d threads, %ld calls, %ld wrong", started, calls, wrong);
}

/* forkbomb SECS: fork without end until SECS pass; every process also asks
 * the notified getppid. RLIMIT_NPROC (per uid) must stop it. */
static int forkbomb(long secs)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NPROC, &rl);
    say("forkbomb: uid %d, RLIMIT_NPROC %ld", getuid(), (long)rl.rlim_cur);
    long end = now_us() + secs * 1000000L;
    int pfd[2];
    if (pipe(pfd) < 0)
        return 1;
    pid_t root = fork();
    if (root == 0) {
        close(pfd[0]);
        long forks = 0, eagain = 0;
        while (now_us() < end - 500000L) {
            syscall(SYS_getppid);
            pid_t p = fork();
            if (p == 0) {
                forks = eagain = 0;
                continue;
            }
            if (p > 0)
                forks++;
            else if (errno == EAGAIN) {
                eagain++;
                sleep_ms(5);
            }
        }
        /* All still alive at once: wait for the end, then report what
         * this process saw, one line of two numbers. */
        if (now_us() < end)
            sleep_ms((end - now_us()) / 1000);
        char line[64];
        int n = snprintf(line, sizeof line, "%ld %ld\n", forks, eagain);
        if (write(pfd[1], line, n) < 0)
            _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    /* Read every report until the last writer is gone. */
    FILE *f = fdopen(pfd[0], "r");
    long forks = 0, eagain = 0, procs = 0, a, b;
    while (f && fscanf(f, "%ld %ld", &a, &b) == 2) {
        forks += a;
        eagain += b;
        procs++;
    }
    while (waitpid(-1, NULL, 0) > 0)
        ;
    say("forkbomb: %ld forks, %ld EAGAIN, %ld processes alive at the end of %ld s", forks, eagain,
        procs, secs);
    int bad = result("forkbomb.bounded", eagain > 0 && procs <= (long)rl.rlim_cur,
                     "%ld EAGAIN, %ld processes (limit %ld)", eagain, procs, (long)rl.rlim_cur);
    /* The bomb's processes were orphans of PID 1 once their parents
     * exited: vigil must have reaped them all (no zombies of our uid). */
    long left = 0;
    for (int tries = 0; tries < 50; tries++) {
        left = 0;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            int pid = atoi(e->d_name);
            if (pid <= 0 || pid == getpid())
                continue;
            char p[300];
            struct stat st;
            snprintf(p, sizeof p, "/proc/%d", pid);
            if (stat(p, &st) == 0 && st.st_uid == getuid())
                left++;
        }
        if (d)
            closedir(d);
        if (!left)
            break;
        sleep_ms(100);
    }
    say("forkbomb: %ld processes of uid %d left after the bomb", left, getuid());
    bad |= result("forkbomb.reaped", left == 0, "%ld processes (zombies?) of uid %d left", left,
                  getuid());
    return bad;
}

/* fdchaos ITER PROG...: close and dup fds at random, check vigil still
 * answers, then exec PROG (which runs under the same filter). */
static int fdchaos(long iter, char **prog)
{
    unsigned seed = (unsigned)now_us();
    long closed = 0, duped = 0, wrong = 0;
    for (long i = 0; i < iter; i++) {
        int fd = rand_r(&seed) % 1100;
        switch (rand_r(&seed) % 4) {
        case 0:
            closed += close(fd) == 0;
            break;
        case 1:
            duped += dup2(rand_r(&seed) % 64, fd) >= 0;
            break;
        case 2:
            duped += fcntl(rand_r(&seed) % 64, F_DUPFD, rand_r(&seed) % 1024) >= 0;
            break;
        default:
            fcntl(fd, F_SETFD, rand_r(&seed) % 2 ? FD_CLOEXEC : 0);
        }
        if (i % 64 == 0 && syscall(SYS_getppid) != WANT)
            wrong++;
    }
    /* stdout may be gone: say it on a fresh console fd. */
    int c = open("/dev/console", O_WRONLY);
    if (c >= 0) {
        dup2(c, 1);
        dup2(c, 2);
    }
    say("fdchaos: %ld closes, %ld dups, %ld wrong answers; exec %s", closed, duped, wrong,
        prog[0] ? prog[0] : "-");
    result("fdchaos.answers", wrong == 0, "%ld wrong", wrong);
    if (!prog[0])
        return 0;
    execv("/nonexistent/prog", prog); /* a failed exec first */
    execv(prog[0], prog);
    return result("fdchaos.exec", 0, "execv %s: %s", prog[0], strerror(errno));
}

/* after-exec: run by fdchaos' exec; the filter and vigil must still be there. */
static int after_exec(void)
{
    long r = syscall(SYS_getppid);
    return result("fdchaos.after-exec", r == WANT, "getppid %ld, want %d", r, WANT);
}

/* The signals PID 1 does not act on (busybox init's set acts on TERM INT
 * USR1 USR2 PWR). */
static const int quiet_sigs[] = { SIGHUP, SIGQUIT, SIGCONT, SIGWINCH, SIGALRM, SIGTSTP, SIGTTIN,
                                  SIGTTOU, SIGPIPE, SIGCHLD, SIGURG, SIGVTALRM, SIGPROF, SIGIO,
                                  SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSTOP, SIGKILL,
                                  SIGSYS, SIGTRAP, SIGXCPU, SIGXFSZ, SIGSTKFLT, 34, 40, 64 };

/* signals ROUNDS: send pid 1 every quiet signal ROUNDS times. */
static int signals(long rounds)
{
    long sent = 0, refused = 0;
    for (long r = 0; r < rounds; r++)
        for (size_t i = 0; i < sizeof quiet_sigs / sizeof *quiet_sigs; i++) {
            if (kill(1, quiet_sigs[i]) == 0)
                sent++;
            else
                refused++;
        }
    long r = syscall(SYS_getppid);
    say("signals: uid %d sent %ld signals to pid 1 (%ld refused); getppid after: %ld", getuid(),
        sent, refused, r);
    return result("signals.survived", r == WANT || r == 1 || r > 1, "getppid %ld", r);
}

static const char *err_name(int e)
{
    switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ESRCH: return "ESRCH";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EBADF: return "EBADF";
    case ENOENT: return "ENOENT";
    case EFAULT: return "EFAULT";
    case ENXIO: return "ENXIO";
    case EAGAIN: return "EAGAIN";
    case EMFILE: return "EMFILE";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
    }
}

/* killpid1: every way to signal PID 1 by pid must fail with EPERM (the
 * policy denies them). SIGTERM would reboot the machine. */
static int killpid1(void)
{
    struct { const char *name; long r; int e; } c[5];
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGTERM;
    si.si_code = SI_QUEUE;
    errno = 0; c[0].name = "kill"; c[0].r = kill(1, SIGTERM); c[0].e = errno;
    errno = 0; c[1].name = "tkill"; c[1].r = syscall(SYS_tkill, 1, SIGTERM); c[1].e = errno;
    errno = 0; c[2].name = "tgkill"; c[2].r = syscall(SYS_tgkill, 1, 1, SIGTERM); c[2].e = errno;
    errno = 0; c[3].name = "rt_sigqueueinfo";
    c[3].r = syscall(SYS_rt_sigqueueinfo, 1, SIGTERM, &si); c[3].e = errno;
    errno = 0; c[4].name = "pidfd_open"; c[4].r = syscall(SYS_pidfd_open, 1, 0); c[4].e = errno;
    int bad = 0;
    for (int i = 0; i < 5; i++) {
        say("killpid1: %s(1): %s", c[i].name, c[i].r < 0 ? err_name(c[i].e) : "ok");
        char tag[64];
        snprintf(tag, sizeof tag, "killpid1.%s", c[i].name);
        bad |= result(tag, c[i].r < 0 && c[i].e == EPERM, "%s: %s, want EPERM", c[i].name,
                      c[i].r < 0 ? err_name(c[i].e) : "ok");
    }
    return bad;
}

/* Is fd a seccomp listener? ID_VALID of an id that cannot be pending
 * answers ENOENT on a listener (what vigil's hand-over checks too). */
static int is_listener(int fd)
{
    uint64_t id = 0;
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 && errno == ENOENT;
}

/* The seccomp listener fd numbers of pid 1, from /proc/1/fd (root only). */
static int pid1_listeners(int *out, int max)
{
    int n = 0;
    DIR *d = opendir("/proc/1/fd");
    if (!d)
        return -errno;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        char p[300], l[128];
        snprintf(p, sizeof p, "/proc/1/fd/%s", e->d_name);
        ssize_t k = readlink(p, l, sizeof l - 1);
        if (k < 0)
            continue;
        l[k] = 0;
        if (strstr(l, "seccomp"))
            out[n++] = atoi(e->d_name);
    }
    closedir(d);
    return n;
}

/* pid1 MODE: what this process can do to pid 1. MODE: `user` (non-root:
 * everything must fail), `denied` (root under a policy denying ptrace and
 * pidfd_getfd), `root` (root, no policy: report what works). */
static int pid1(const char *mode)
{
    int bad = 0;
    int user = !strcmp(mode, "user"), denied = !strcmp(mode, "denied");
    char tag[64];

    /* ptrace: SEIZE (no stop), then ATTACH (stops pid 1 until DETACH). */
    errno = 0;
    long r = ptrace(PTRACE_SEIZE, 1, 0, 0);
    int e = r < 0 ? errno : 0;
    if (r == 0) {
        /* A seized tracee must be stopped before it can be detached. */
        long t0 = now_us();
        int st;
        ptrace(PTRACE_INTERRUPT, 1, 0, 0);
        waitpid(1, &st, __WALL);
        long d = ptrace(PTRACE_DETACH, 1, 0, 0);
        say("pid1 %s: PTRACE_SEIZE: ok: interrupted pid 1 for %ld us, detach %s", mode,
            now_us() - t0, d == 0 ? "ok" : err_name(errno));
    } else {
        say("pid1 %s: PTRACE_SEIZE: %s", mode, err_name(e));
    }
    snprintf(tag, sizeof tag, "pid1-%s.ptrace-seize", mode);
    if (user || denied)
        bad |= result(tag, e == EPERM, "PTRACE_SEIZE of pid 1: %s, want EPERM", err_name(e));
    errno = 0;
    long t = now_us();
    r = ptrace(PTRACE_ATTACH, 1, 0, 0);
    e = r < 0 ? errno : 0;
    if (r == 0) {
        int st;
        waitpid(1, &st, __WALL);
        long d = ptrace(PTRACE_DETACH, 1, 0, 0);
        say("pid1 %s: PTRACE_ATTACH: ok: pid 1 was stopped for %ld us, detach %s", mode,
            now_us() - t, d == 0 ? "ok" : err_name(errno));
    } else {
        say("pid1 %s: PTRACE_ATTACH: %s", mode, err_name(e));
    }
    snprintf(tag, sizeof tag, "pid1-%s.ptrace-attach", mode);
    if (user || denied)
        bad |= result(tag, e == EPERM, "PTRACE_ATTACH of pid 1: %s, want EPERM", err_name(e));

    /* vigil's listeners: /proc/1/fd, then pidfd_getfd. */
    int fds[64];
    int n = pid1_listeners(fds, 64);
    if (n < 0)
        say("pid1 %s: /proc/1/fd: %s", mode, err_name(-n));
    else
        say("pid1 %s: /proc/1/fd lists %d seccomp listener(s)%s", mode, n, n ? ", first" : "");
    int target = n > 0 ? fds[0] : 3;
    if (n > 0)
        say("pid1 %s: listener fd %d", mode, target);
    char p[64];
    snprintf(p, sizeof p, "/proc/1/fd/%d", target);
    int fd = open(p, O_RDWR);
    e = fd < 0 ? errno : 0;
    say("pid1 %s: open(%s): %s%s", mode, p, err_name(e),
        fd >= 0 ? (is_listener(fd) ? " (a working listener)" : " (not a working listener)") : "");
    int proc_listener = fd >= 0 && is_listener(fd);
    if (fd >= 0)
        close(fd);
    snprintf(tag, sizeof tag, "pid1-%s.proc-fd", mode);
    if (user)
        bad |= result(tag, !proc_listener, "opened a listener of pid 1 via %s", p);

    int pidfd = syscall(SYS_pidfd_open, 1, 0);
    long stolen = 0, stolen_listener = 0;
    e = 0;
    if (pidfd < 0) {
        e = errno;
    } else {
        /* Every fd number up to 64: a listener must never come out. */
        int first_err = 0;
        for (int i = 0; i < 64; i++) {
            int g = syscall(SYS_pidfd_getfd, pidfd, i, 0);
            if (g < 0) {
                if (!first_err && errno != EBADF)
                    first_err = errno;
                continue;
            }
            stolen++;
            stolen_listener += is_listener(g);
            close(g);
        }
        e = first_err;
        close(pidfd);
    }
    say("pid1 %s: pidfd_getfd on pid 1: %ld fds copied, %ld of them listeners (first error %s)",
        mode, stolen, stolen_listener, err_name(e));
    snprintf(tag, sizeof tag, "pid1-%s.pidfd-getfd", mode);
    if (user || denied)
        bad |= result(tag, stolen == 0, "copied %ld fds (%ld listeners) out of pid 1", stolen,
                      stolen_listener);

    /* vigil's memory. */
    fd = open("/proc/1/mem", O_RDWR);
    e = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    char buf[16];
    struct iovec lv = { buf, sizeof buf }, rv = { (void *)0x400000, sizeof buf };
    errno = 0;
    long got = syscall(SYS_process_vm_readv, 1, &lv, 1, &rv, 1, 0);
    int e2 = got < 0 ? errno : 0;
    say("pid1 %s: open(/proc/1/mem): %s; process_vm_readv(1): %s", mode, err_name(e),
        got >= 0 ? "read" : err_name(e2));
    snprintf(tag, sizeof tag, "pid1-%s.mem", mode);
    /* Root under a policy has lost CAP_SYS_PTRACE, which alone opens the
     * memory of a process that is not dumpable. */
    if (user || denied)
        bad |= result(tag, e != 0 && (e2 == EPERM || e2 == EACCES),
                      "/proc/1/mem: %s, process_vm_readv: %s", err_name(e), err_name(e2));
    long ppid = syscall(SYS_getppid);
    say("pid1 %s: getppid after: %ld", mode, ppid);
    return bad;
}

/* crash: a service that fails at once. */
static int crash(void)
{
    say("crash: exiting with status 1");
    return 1;
}

/* console-flood KB: write KB kilobytes to stdout in one go per 4 KB. */
static int console_flood(long kb)
{
    static char line[4096];
    for (size_t i = 0; i < sizeof line; i++)
        line[i] = (i % 64 == 63) ? '\n' : '~';
    long t = now_us(), done = 0;
    for (long i = 0; i < kb / 4; i++) {
        ssize_t n = write(1, line, sizeof line);
        if (n > 0)
            done += n;
    }
    say("console-flood: %ld bytes to the console in %ld ms", done, (now_us() - t) / 1000);
    write_file("/run/h/done-console", "1");
    return 0;
}

/* Install a filter of our own. With NEW_LISTENER it must fail (EBUSY: one
 * listener per chain; EPERM/EACCES when the policy forbids seccomp).
 * Without, an allow-all filter must not take getppid away from vigil. */
static int own_filter(const char *want)
{
    struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
    struct sock_fprog prog = { 1, allow };
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    errno = 0;
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    int e1 = r < 0 ? errno : 0;
    if (r >= 0)
        close(r);
    errno = 0;
    r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    int e2 = r < 0 ? errno : 0;
    errno = 0;
    r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    int e3 = r < 0 ? errno : 0;
    long ppid = syscall(SYS_getppid);
    say("own-filter(%s): NEW_LISTENER %s, plain filter %s, prctl filter %s; getppid after %ld",
        want, err_name(e1), err_name(e2), err_name(e3), ppid);
    int bad = 0;
    char tag[64];
    snprintf(tag, sizeof tag, "own-filter-%s.no-second-listener", want);
    bad |= result(tag, e1 != 0, "a second listener was created");
    if (!strcmp(want, "denied")) {
        snprintf(tag, sizeof tag, "own-filter-%s.denied", want);
        bad |= result(tag, e1 == EPERM && e2 == EPERM && e3 == EPERM,
                      "seccomp %s/%s, prctl %s, want EPERM", err_name(e1), err_name(e2),
                      err_name(e3));
    } else {
        snprintf(tag, sizeof tag, "own-filter-%s.ebusy", want);
        bad |= result(tag, e1 == EBUSY, "NEW_LISTENER: %s, want EBUSY", err_name(e1));
    }
    snprintf(tag, sizeof tag, "own-filter-%s.vigil-still-answers", want);
    bad |= result(tag, ppid == WANT, "getppid %ld, want %d", ppid, WANT);
    return bad;
}

/* foreign ABI calls: x32 getppid, i386 int 0x80 getpid. Under vigil's
 * filter the process must die of SIGSYS before it can print. */
static int foreign(const char *which)
{
#if defined(__x86_64__)
    long r;
    if (!strcmp(which, "x32")) {
        /* __X32_SYSCALL_BIT | __NR_getppid (x32 uses the x86_64 numbers). */
        long nr = 0x40000000L | SYS_getppid;
        __asm__ volatile("syscall" : "=a"(r) : "0"(nr) : "rcx", "r11", "memory");
    } else if (!strcmp(which, "i386")) {
        long nr = 20; /* i386 getpid */
        __asm__ volatile("int $0x80" : "=a"(r) : "0"(nr) : "memory");
    } else {
        return 2;
    }
    say("foreign %s: the call returned %ld (getpid %d getppid %d)", which, r, getpid(),
        getppid());
    return 0;
#else
    say("foreign %s: not on this arch", which);
    return 2;
#endif
}

/* fdlimit POLICY PROG...: run `/init run --policy POLICY -- PROG` with
 * RLIMIT_NOFILE from 3 to 16: each must exit with an error or run PROG
 * monitored; none may hang. */
static int fdlimit(const char *policy, char **prog)
{
    int bad = 0;
    for (int n = 3; n <= 16; n++) {
        pid_t p = fork();
        if (p == 0) {
            struct rlimit rl = { n, n };
            setrlimit(RLIMIT_NOFILE, &rl);
            char *argv[16] = { "/init", "run", "--policy", (char *)policy, "--" };
            int k = 5;
            for (int i = 0; prog[i] && k < 15; i++)
                argv[k++] = prog[i];
            argv[k] = NULL;
            execv("/init", argv);
            _exit(99);
        }
        int st = 0;
        long t = now_us();
        while (waitpid(p, &st, WNOHANG) == 0) {
            if (now_us() - t > 20000000L) {
                kill(p, SIGKILL);
                waitpid(p, &st, 0);
                say("fdlimit: nofile %d: still running after 20 s, killed", n);
                bad = 1;
                break;
            }
            sleep_ms(20);
        }
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        say("fdlimit: nofile %d: `vigil run` exited %d", n, code);
        /* 0: PROG ran monitored and passed; 1/2/126: vigil said why it could
         * not; anything else (PROG found itself unmonitored: 3) fails. */
        if (code != 0 && code != 1 && code != 2 && code != 126)
            bad = 1;
    }
    return result("fdlimit", !bad, "see the fdlimit lines");
}

/* monitored: exit 0 if getppid is answered by vigil, 3 if it is not. */
static int monitored(void)
{
    long r = syscall(SYS_getppid);
    say("monitored: getppid %ld", r);
    return r == WANT ? 0 : 3;
}

/* noproc POLICY: in a private mount namespace without /proc, `vigil run`
 * a program that makes a relative and an absolute directory under /tmp.
 * Resolving the relative one needs /proc/PID/cwd: it must be denied. */
static int noproc(const char *policy)
{
    if (unshare(CLONE_NEWNS) < 0)
        return result("noproc", 0, "unshare: %s", strerror(errno));
    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (umount2("/proc", MNT_DETACH) < 0)
        return result("noproc", 0, "umount /proc: %s", strerror(errno));
    int gone = access("/proc/self", F_OK) != 0;
    say("noproc: /proc unmounted in a new mount namespace (/proc/self %s)",
        gone ? "gone" : "still there");
    pid_t p = fork();
    if (p == 0) {
        if (chdir("/tmp") < 0)
            _exit(98);
        execl("/init", "/init", "run", "--policy", policy, "--", "/bin/hostile", "mkdirs", NULL);
        _exit(99);
    }
    int st;
    waitpid(p, &st, 0);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    say("noproc: vigil run exited %d", code);
    return result("noproc", gone && code == 0, "/proc gone %d, exit %d", gone, code);
}

/* mkdirs: relative must fail (ENOENT: no /proc), absolute may succeed. */
static int mkdirs(void)
{
    int r1 = mkdir("noproc-rel", 0755), e1 = r1 < 0 ? errno : 0;
    int r2 = mkdir("/tmp/noproc-abs", 0755), e2 = r2 < 0 ? errno : 0;
    int rel_exists = access("/tmp/noproc-rel", F_OK) == 0;
    say("mkdirs: relative %s (exists %d), absolute %s", err_name(e1), rel_exists, err_name(e2));
    return r1 < 0 && !rel_exists ? 0 : 4;
}

/* leak: fork a child that keeps this start's listener alive for SECS, exit 1.
 * The child leaves the process group (vigil kills a restarting service's
 * group; the service has no cgroup), so that the children pile up. */
static int leak(long secs)
{
    int p[2];
    char c;
    if (pipe(p) < 0)
        return 2;
    if (fork() == 0) {
        setsid();
        if (write(p[1], "1", 1) < 0)
            _exit(1);
        sleep_ms(secs * 1000);
        _exit(0);
    }
    /* Out of the group before we exit (and vigil kills the group). */
    if (read(p[0], &c, 1) < 0)
        return 2;
    return 1;
}

/* pidhog SECS: lower pid_max, fork until EAGAIN, hold every pid for SECS,
 * then let go and restore pid_max. */
static int pidhog(long secs, const char *pid_max)
{
    char old[32] = "32768";
    read_file("/proc/sys/kernel/pid_max", old, sizeof old);
    if (write_file("/proc/sys/kernel/pid_max", pid_max) < 0)
        return result("pidhog", 0, "cannot write pid_max: %s", strerror(errno));
    static pid_t kids[70000];
    long n = 0, eagain = 0;
    /* Up to 8 s: a loaded host makes TCG forks slow (256 in 3 s seen). */
    long end = now_us() + 8000000L;
    while (now_us() < end && n < 70000) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p > 0)
            kids[n++] = p;
        else if (errno == EAGAIN) {
            eagain++;
            if (eagain > 50)
                break;
            sleep_ms(10);
        } else
            break;
    }
    say("pidhog: pid_max %s, %ld children, fork failed with EAGAIN %ld times; holding for %ld s",
        pid_max, n, eagain, secs);
    write_file("/run/h/pids-exhausted", "1");
    sleep_ms(secs * 1000);
    for (long i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    write_file("/proc/sys/kernel/pid_max", old);
    say("pidhog: released %ld pids, pid_max back to %s", n, old);
    write_file("/run/h/pids-released", "1");
    return result("pidhog", eagain > 0, "fork never failed");
}

/* mkfifo PATH... */
static int make_fifos(char **paths)
{
    int bad = 0;
    for (; *paths; paths++)
        if (mkfifo(*paths, 0666) < 0 && errno != EEXIST)
            bad = 1;
    return bad;
}

/* wait-file MS PATH: until PATH exists and is not empty (exit 1 after MS
 * ms). */
static int wait_file(long ms, const char *path)
{
    long end = now_us() + ms * 1000;
    struct stat st;
    while (stat(path, &st) != 0 || st.st_size == 0) {
        if (now_us() > end)
            return 1;
        sleep_ms(50);
    }
    return 0;
}

/* wait-gone MS PIDFILE: until the process named in PIDFILE is gone (its
 * file waited for too; exit 1 after MS ms). */
static int wait_gone(long ms, const char *path)
{
    long end = now_us() + ms * 1000;
    char buf[16];
    /* Not empty: write_file creates the file before it writes the pid. */
    if (wait_file(ms, path) != 0 || read_file(path, buf, sizeof buf) < 0)
        return 1;
    pid_t pid = atoi(buf);
    while (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH)) {
        if (now_us() > end)
            return 1;
        sleep_ms(50);
    }
    return 0;
}

/* settle MS: until what the boot's checks look for has happened, however
 * late the console's writers (stalled behind cpuhog's write) made it: the
 * floods' and the hold's ends, uffd-late's holding line, uffd stopped. */
static int settle(long ms)
{
    const char *files[] = { "/run/h/done-console", "/run/h/done-console-hold",
                            "/run/h/holding-uffd-late" };
    int bad = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        bad |= wait_file(ms, files[i]);
    return bad | wait_gone(ms, "/run/h/pid-uffd");
}

/* durable DIR: write records and files until killed; say on the console
 * which have been written (the host checks every one of them is on disk). */
static int durable(const char *dir)
{
    char path[256], line[64];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log < 0)
        return result("durable.open", 0, "%s: %s", path, strerror(errno));
    for (long i = 0;; i++) {
        int n = snprintf(line, sizeof line, "record %ld\n", i);
        if (write(log, line, n) != n)
            return result("durable.write", 0, "write: %s", strerror(errno));
        /* At most 800 files, so a fast machine cannot fill the 8 MiB disk
         * before power-off is signalled. */
        if (i % 50 == 0) {
            snprintf(path, sizeof path, "%s/f%ld", dir, i / 50);
            if (i / 50 < 800 && write_file(path, line) < 0)
                return result("durable.write", 0, "%s: %s", path, strerror(errno));
            say("durable: written %ld", i);
            if (i == 500)
                write_file("/run/h/durable-busy", "1");
        }
        if (i % 10 == 0)
            sleep_ms(i < 2000 ? 2 : 20);
    }
}

/* cpuhog KIDS MS: leave KIDS children spinning in our cgroup, write 2 KB
 * to the console in one go (throttled by the spinners, the write holds
 * the console's write lock for seconds), wait MS ms, exit 1 (so that
 * vigil restarts us into the same cgroup). */
static int cpuhog(int kids, long ms)
{
    int made = 0;
    for (int i = 0; i < kids; i++) {
        pid_t p = fork();
        if (p == 0)
            for (;;)
                ;
        made += p > 0;
    }
    static char line[2048];
    memset(line, '.', sizeof line - 1);
    memcpy(line, "hostile: cpuhog: ", 17);
    line[sizeof line - 1] = '\n';
    fflush(stdout);
    if (write(1, line, sizeof line) < 0)
        return 2;
    say("cpuhog: %d spinners left behind", made);
    sleep_ms(ms);
    return 1;
}

/* console-hold MS KB: stop the console's output (tcflow TCOOFF: anyone
 * who has the console open may), have a child write KB kilobytes to it
 * (once the console's buffer is full the write waits, holding the tty's
 * write lock), and start the output again after MS ms. Meanwhile PID 1
 * logs the probe's decisions: they must wait for the console in memory,
 * not in PID 1's write (the probe's latency is the measure). Nothing is
 * printed while the output is stopped. */
static int console_hold(long ms, long kb)
{
    fflush(stdout);
    if (tcflow(1, TCOOFF) < 0) {
        say("console-hold: tcflow TCOOFF: %s", strerror(errno));
        return 2;
    }
    pid_t p = fork();
    if (p == 0) {
        static char line[4096];
        for (size_t i = 0; i < sizeof line; i++)
            line[i] = (i % 64 == 63) ? '\n' : '#';
        for (long i = 0; i < kb / 4; i++)
            if (write(1, line, sizeof line) < 0)
                _exit(1);
        _exit(0);
    }
    long t = now_us();
    sleep_ms(ms);
    int st = 0, on = tcflow(1, TCOON);
    if (p > 0)
        waitpid(p, &st, 0);
    say("console-hold: output stopped for %ld ms (TCOON %d), %ld KB written behind it by pid %d "
        "(status %d)", (now_us() - t) / 1000, on, kb, (int)p, st);
    write_file("/run/h/done-console-hold", "1");
    return 0;
}

/* console-stop KB: stop the console's output, leave a child writing KB
 * kilobytes waiting behind it, and exit 0 (as a test program: PID 1 then
 * has a result line to write, and shutdown lines after it). */
static int console_stop(long kb)
{
    fflush(stdout);
    if (tcflow(1, TCOOFF) < 0) {
        say("console-stop: tcflow TCOOFF: %s", strerror(errno));
        return 2;
    }
    if (fork() == 0) {
        static char line[4096];
        memset(line, '#', sizeof line);
        for (long i = 0; i < kb / 4; i++)
            if (write(1, line, sizeof line) < 0)
                _exit(1);
        _exit(0);
    }
    sleep_ms(200);
    return 0;
}

/* uffd NAME SECS: the path argument of an openat on a page registered with
 * userfaultfd, whose fault nobody serves for SECS seconds. A monitor that
 * reads the path itself sleeps in that fault meanwhile. */
static char *uffd_page;
static const char *uffd_name;

static void *uffd_opener(void *arg)
{
    (void)arg;
    long r = syscall(SYS_openat, AT_FDCWD, uffd_page, O_RDONLY);
    say("%s: openat=%ld errno=%s", uffd_name, r, r < 0 ? strerrorname_np(errno) : "0");
    return NULL;
}

static int uffd_hold(const char *name, long secs)
{
    long psize = sysconf(_SC_PAGESIZE);
    uffd_name = name;
    int u = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (u < 0) {
        say("%s: no userfaultfd: %s", name, strerrorname_np(errno));
        return 1;
    }
    struct uffdio_api api = { .api = UFFD_API };
    uffd_page = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct uffdio_register reg = {
        .range = { .start = (unsigned long)uffd_page, .len = psize },
        .mode = UFFDIO_REGISTER_MODE_MISSING,
    };
    if (ioctl(u, UFFDIO_API, &api) < 0 || uffd_page == MAP_FAILED
        || ioctl(u, UFFDIO_REGISTER, &reg) < 0) {
        say("%s: no userfaultfd: %s", name, strerrorname_np(errno));
        return 1;
    }
    /* Before the fault (which holds our worker, and with it every path
     * call of ours): who we are, for the service that ends the boot. */
    char pidf[64], pid[16];
    snprintf(pidf, sizeof pidf, "/run/h/pid-%s", name);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    write_file(pidf, pid);
    /* Opened now, written once our holding line is out: the fault keeps
     * every later open of ours waiting. */
    snprintf(pidf, sizeof pidf, "/run/h/holding-%s", name);
    int mark = open(pidf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pthread_t t;
    pthread_create(&t, NULL, uffd_opener, NULL);
    struct pollfd p = { .fd = u, .events = POLLIN };
    int got = poll(&p, 1, 5000);
    say("%s: holding%s", name, got == 1 ? "" : " (no fault seen)");
    if (mark >= 0 && write(mark, "1", 1) == 1)
        close(mark);
    sleep_ms(secs * 1000);
    say("%s: held %ld s, letting go", name, secs);
    char *src = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(src, "/nonexistent");
    struct uffdio_copy c = { .dst = (unsigned long)uffd_page, .src = (unsigned long)src, .len = psize };
    ioctl(u, UFFDIO_COPY, &c);
    pthread_join(t, NULL);
    return 0;
}

static int dispatch(const char *m, int n, char **a)
{
    if (!strcmp(m, "uffd") && n >= 2)
        return uffd_hold(a[0], atol(a[1]));
    if (!strcmp(m, "probe"))
        return probe(n, a);
    if (!strcmp(m, "flood") && n >= 1)
        return flood(atol(a[0]));
    if (!strcmp(m, "forkbomb") && n >= 1)
        return forkbomb(atol(a[0]));
    if (!strcmp(m, "signals") && n >= 1) {
        long end = now_us() + atol(a[0]) * 1000000L;
        int r = 0;
        while (now_us() < end)
            r |= signals(20);
        return r;
    }
    if (!strcmp(m, "console") && n >= 1)
        return console_flood(atol(a[0]));
    if (!strcmp(m, "console-hold") && n >= 2)
        return console_hold(atol(a[0]), atol(a[1]));
    if (!strcmp(m, "console-stop") && n >= 1)
        return console_stop(atol(a[0]));
    if (!strcmp(m, "fdchaos") && n >= 1)
        return fdchaos(atol(a[0]), a + 1);
    if (!strcmp(m, "after-exec"))
        return after_exec();
    if (!strcmp(m, "crash"))
        return crash();
    if (!strcmp(m, "pid1") && n >= 1)
        return pid1(a[0]);
    if (!strcmp(m, "killpid1"))
        return killpid1();
    if (!strcmp(m, "own-filter") && n >= 1)
        return own_filter(a[0]);
    if (!strcmp(m, "foreign") && n >= 1)
        return foreign(a[0]);
    if (!strcmp(m, "fdlimit") && n >= 2)
        return fdlimit(a[0], a + 1);
    if (!strcmp(m, "monitored"))
        return monitored();
    if (!strcmp(m, "noproc") && n >= 1)
        return noproc(a[0]);
    if (!strcmp(m, "mkdirs"))
        return mkdirs();
    if (!strcmp(m, "leak") && n >= 1)
        return leak(atol(a[0]));
    if (!strcmp(m, "pidhog") && n >= 2)
        return pidhog(atol(a[0]), a[1]);
    if (!strcmp(m, "mkfifo"))
        return make_fifos(a);
    if (!strcmp(m, "wait-file") && n >= 2)
        return wait_file(atol(a[0]), a[1]);
    if (!strcmp(m, "wait-gone") && n >= 2)
        return wait_gone(atol(a[0]), a[1]);
    if (!strcmp(m, "settle") && n >= 1)
        return settle(atol(a[0]));
    if (!strcmp(m, "durable") && n >= 1)
        return durable(a[0]);
    if (!strcmp(m, "touch") && n >= 1)
        return write_file(a[0], "1") < 0;
    if (!strcmp(m, "cpuhog") && n >= 2)
        return cpuhog(atoi(a[0]), atol(a[1]));
    if (!strcmp(m, "mark"))
        return 0;
    fprintf(stderr, "hostile: unknown mode %s\n", m);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hostile [at SECS PHASE] MODE ARGS...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(argv[1], "at") && argc >= 5) {
        /* at SECS PHASE MODE ARGS...: run MODE as phase PHASE, SECS after
         * the probe started. Mode `mark` only names the phase (it stays
         * until the next one begins). */
        const char *name = argv[3];
        wait_for_slot(name, atof(argv[2]));
        int r = dispatch(argv[4], argc - 5, argv + 5);
        if (strcmp(argv[4], "mark"))
            end_slot(name);
        return r;
    }
    return dispatch(argv[1], argc - 2, argv + 2);
}
