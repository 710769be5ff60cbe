/* Attacks on vigil's sandbox and on vigil itself, one per subcommand, run
 * under `vigil run` by tests/harden.rs. Each prints one line
 * `NAME: blocked (...)` or `NAME: ESCAPED (...)` and exits 0 when the
 * attack was blocked, 1 when it worked, 2 when the test itself could not
 * be set up. The attacks aim at the program's parent, vigil, or at the pid
 * in $ATTACK_TARGET.
 *
 *   openat2 FILE            read FILE with a raw openat2(2)
 *   uring FILE              read FILE with io_uring's OPENAT and READ
 *   handle FILE DIR         name_to_handle_at + open_by_handle_at, read FILE
 *                           (DIR: an allowed directory on FILE's filesystem)
 *   mknod PATH              create PATH with mknodat(2)
 *   truncate FILE           empty FILE with truncate(2)
 *   creat PATH              create PATH with the raw creat(2) (x86_64)
 *   steal FILE              take vigil's listener (pidfd_open + pidfd_getfd),
 *                           stop vigil, answer our own openat(FILE)
 *   fanotify FILE           a pidfd of vigil without pidfd_open: watch FILE
 *                           with fanotify (FAN_REPORT_PIDFD) while opening
 *                           it, which vigil does for us under a paths rule;
 *                           then take vigil's descriptors (pidfd_getfd)
 *   kill64 SIG              kill(vigil | 1 << 32, SIG)
 *   tgsigqueue SIG          rt_tgsigqueueinfo(vigil, vigil, SIG)
 *   setown SIG              F_SETOWN(vigil) + F_SETSIG(SIG) + O_ASYNC, then I/O
 *   pidfd-proc SIG          open /proc/VIGIL, pidfd_send_signal(SIG)
 *   group                   kill(-pgrp of vigil, 0)
 *   all                     kill(-1, 0)
 *   seize                   ptrace(PTRACE_SEIZE, vigil)
 *   prlimit                 prlimit(vigil, RLIMIT_CPU, {1, 1})
 *   perf                    a perf event on vigil that sends it SIGTRAP
 *   nice                    setpriority(PRIO_PROCESS, vigil, 19)
 *   machine                 reboot(2) and kexec_file_load(2) with arguments
 *                           the kernel refuses (EINVAL) after its permission
 *                           check: EPERM means the filter refused them
 *   session                 our session and process group against vigil's
 *   fd N                    is fd N open?
 *   traceme                 PTRACE_TRACEME (vigil becomes our tracer), stop
 *
 * For PID 1 (qemu/boots/harden.sh), where these are safe to try for real:
 *   reboot                  reboot(2): power the machine off
 *   flood THREADS SECS      THREADS threads calling getppid (notified) for SECS
 *   lower-cpu PID SECS      set PID's RLIMIT_CPU (soft and hard) to the CPU
 *                           time it has used plus SECS: past that the kernel
 *                           SIGKILLs it, PID 1 included
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *name;

/* The process attacked: vigil. */
static pid_t target(void) {
    const char *t = getenv("ATTACK_TARGET");
    return t && *t ? (pid_t)atoi(t) : getppid();
}

static int blocked(const char *why) {
    printf("%s: blocked (%s)\n", name, why);
    return 0;
}

static int blocked_errno(const char *what) {
    printf("%s: blocked (%s: %s)\n", name, what, strerror(errno));
    return 0;
}

static int escaped(const char *what) {
    printf("%s: ESCAPED (%s)\n", name, what);
    return 1;
}

static int setup_failed(const char *what) {
    printf("%s: setup failed (%s: %s)\n", name, what, strerror(errno));
    return 2;
}

/* Read an fd's first bytes and report them as the escape. */
static int read_fd(int fd) {
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0)
        return blocked_errno("read");
    buf[n] = 0;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    char what[200];
    snprintf(what, sizeof what, "read \"%s\"", buf);
    return escaped(what);
}

static int do_openat2(const char *file) {
    struct open_how how = {.flags = O_RDONLY};
    int fd = syscall(SYS_openat2, AT_FDCWD, file, &how, sizeof how);
    if (fd < 0)
        return blocked_errno("openat2");
    return read_fd(fd);
}

static int do_uring(const char *file) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int ring = syscall(SYS_io_uring_setup, 4, &p);
    if (ring < 0)
        return blocked_errno("io_uring_setup");
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(0, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQ_RING);
    char *cq = mmap(0, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE,
                                     MAP_SHARED, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
        return setup_failed("mmap");
    unsigned *tail = (unsigned *)(sq + p.sq_off.tail);
    unsigned *array = (unsigned *)(sq + p.sq_off.array);
    unsigned *chead = (unsigned *)(cq + p.cq_off.head);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    unsigned mask = *(unsigned *)(sq + p.sq_off.ring_mask);
    static char buf[128];
    int result = -1;
    /* OPENAT, then READ of what it opened. */
    for (int step = 0; step < 2; step++) {
        struct io_uring_sqe *e = &sqes[step];
        memset(e, 0, sizeof *e);
        if (step == 0) {
            e->opcode = IORING_OP_OPENAT;
            e->fd = AT_FDCWD;
            e->addr = (uintptr_t)file;
            e->open_flags = O_RDONLY;
        } else {
            e->opcode = IORING_OP_READ;
            e->fd = result;
            e->addr = (uintptr_t)buf;
            e->len = sizeof buf - 1;
        }
        unsigned t = *tail;
        array[t & mask] = step;
        __atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
        if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, 0, 0) < 0)
            return blocked_errno("io_uring_enter");
        unsigned h = __atomic_load_n(chead, __ATOMIC_ACQUIRE);
        result = cqes[h & *(unsigned *)(cq + p.cq_off.ring_mask)].res;
        __atomic_store_n(chead, h + 1, __ATOMIC_RELEASE);
        if (result < 0) {
            errno = -result;
            return blocked_errno(step == 0 ? "IORING_OP_OPENAT" : "IORING_OP_READ");
        }
    }
    buf[result] = 0;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    char what[200];
    snprintf(what, sizeof what, "read \"%s\" through io_uring", buf);
    return escaped(what);
}

static int do_handle(const char *file, const char *dir) {
    struct {
        struct file_handle h;
        unsigned char data[MAX_HANDLE_SZ];
    } fh;
    fh.h.handle_bytes = MAX_HANDLE_SZ;
    int mount_id;
    if (name_to_handle_at(AT_FDCWD, file, &fh.h, &mount_id, 0) < 0) {
        /* Without a handle, try one made up for the root directory's
         * filesystem: open_by_handle_at is the part that opens. */
        blocked_errno("name_to_handle_at");
        fh.h.handle_bytes = 8;
        fh.h.handle_type = 1;
        memset(fh.h.f_handle, 0, 8);
    }
    int mfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (mfd < 0)
        return setup_failed("open DIR");
    int fd = open_by_handle_at(mfd, &fh.h, O_RDONLY);
    if (fd < 0)
        return blocked_errno("open_by_handle_at");
    return read_fd(fd);
}

static int do_mknod(const char *path) {
    if (mknodat(AT_FDCWD, path, S_IFREG | 0644, 0) < 0)
        return blocked_errno("mknodat");
    return escaped("created a file with mknodat");
}

static int do_creat(const char *path) {
#ifdef SYS_creat
    int fd = syscall(SYS_creat, path, 0644);
    if (fd < 0)
        return blocked_errno("creat");
    return escaped("created a file with creat");
#else
    (void)path;
    return blocked("no creat on this arch");
#endif
}

static int do_truncate(const char *file) {
    if (truncate(file, 0) < 0)
        return blocked_errno("truncate");
    return escaped("emptied the file with truncate");
}

/* --- stealing vigil's listener ---------------------------------------- */

static const char *steal_file;
static volatile int opened_fd = -2;

static void *open_thread(void *arg) {
    (void)arg;
    opened_fd = open(steal_file, O_RDONLY);
    return 0;
}

static int do_steal(const char *file) {
    pid_t vigil = target();
    int pidfd = syscall(SYS_pidfd_open, vigil, 0);
    if (pidfd < 0)
        return blocked_errno("pidfd_open(vigil)");
    int listener = -1;
    for (int n = 3; n < 64 && listener < 0; n++) {
        int fd = syscall(SYS_pidfd_getfd, pidfd, n, 0);
        if (fd < 0)
            continue;
        uint64_t id = 0;
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 && errno == ENOENT)
            listener = fd;
        else
            close(fd);
    }
    if (listener < 0)
        return blocked_errno("pidfd_getfd found no listener");
    if (kill(vigil, SIGSTOP) < 0)
        return blocked_errno("SIGSTOP to vigil");
    /* vigil is stopped: answer our own open with CONTINUE. */
    steal_file = file;
    pthread_t t;
    pthread_create(&t, 0, open_thread, 0);
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    for (int i = 0; i < 50 && opened_fd == -2; i++) {
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
            break;
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
        usleep(10000);
    }
    pthread_join(t, 0);
    kill(vigil, SIGCONT);
    if (opened_fd < 0)
        return blocked("the listener was taken, but the open failed");
    return read_fd(opened_fd);
}

/* --- a pidfd of vigil from fanotify ------------------------------------ */

#ifndef FAN_REPORT_PIDFD
#define FAN_REPORT_PIDFD 0x00000080
#endif
#ifndef FAN_EVENT_INFO_TYPE_PIDFD
#define FAN_EVENT_INFO_TYPE_PIDFD 4
#endif

static volatile int opening = 1;

static void *reopen_thread(void *arg) {
    while (opening) {
        int fd = open(arg, O_RDONLY);
        if (fd >= 0)
            close(fd);
        usleep(20000);
    }
    return 0;
}

/* The pidfd an event of `fan` carries for an open by another process than
 * us: vigil's, or its worker's (which serves path rules), or -1. */
static int vigil_pidfd(int fan) {
    char buf[4096] __attribute__((aligned(8)));
    for (int tries = 0; tries < 100; tries++) {
        ssize_t n = read(fan, buf, sizeof buf);
        if (n <= 0)
            return -1;
        for (struct fanotify_event_metadata *m = (void *)buf; FAN_EVENT_OK(m, n);
             m = FAN_EVENT_NEXT(m, n)) {
            if (m->fd >= 0)
                close(m->fd);
            char *info = (char *)m + m->metadata_len, *end = (char *)m + m->event_len;
            while (info + sizeof(struct fanotify_event_info_header) <= end) {
                struct fanotify_event_info_header *h = (void *)info;
                if (h->len == 0)
                    break;
                if (h->info_type == FAN_EVENT_INFO_TYPE_PIDFD) {
                    int pidfd = *(int *)(info + sizeof *h);
                    if (m->pid != getpid() && pidfd >= 0)
                        return pidfd;
                    if (pidfd >= 0)
                        close(pidfd);
                }
                info += h->len;
            }
        }
    }
    return -1;
}

static int do_fanotify(const char *file) {
    pid_t vigil = target();
    int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_PIDFD, O_RDONLY);
    if (fan < 0 && errno == EPERM)
        return blocked_errno("fanotify_init");
    if (fan < 0) /* a kernel without fanotify or FAN_REPORT_PIDFD (5.15) */
        return setup_failed("fanotify_init");
    if (fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, file) < 0)
        return setup_failed("fanotify_mark");
    pthread_t t;
    pthread_create(&t, 0, reopen_thread, (void *)file);
    int pidfd = vigil_pidfd(fan);
    opening = 0;
    pthread_join(t, 0);
    if (pidfd < 0)
        return setup_failed("no open of FILE by vigil seen");
    printf("fanotify: got a pidfd of vigil (%d) from an event\n", (int)vigil);
    int taken = 0, listener = -1;
    for (int n = 3; n < 64; n++) {
        int fd = syscall(SYS_pidfd_getfd, pidfd, n, 0);
        if (fd < 0) {
            if (errno == EBADF)
                continue;
            return blocked_errno("pidfd_getfd(vigil)");
        }
        uint64_t id = 0;
        if (listener < 0 && ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 && errno == ENOENT)
            listener = n;
        taken++;
        close(fd);
    }
    if (taken) {
        char what[96];
        snprintf(what, sizeof what, "took %d of vigil's fds; its listener is fd %d", taken,
                 listener);
        return escaped(what);
    }
    return blocked("pidfd_getfd found nothing to take");
}

/* --- signals and other ways at vigil ---------------------------------- */

static int signal_result(long r, const char *what) {
    if (r < 0)
        return blocked_errno(what);
    /* Give a deadly signal time to land; vigil is then gone. */
    usleep(300000);
    char s[160];
    snprintf(s, sizeof s, "%s went through", what);
    return escaped(s);
}

static int do_kill64(int sig) {
    long pid = (long)target() | (1L << 32);
    return signal_result(syscall(SYS_kill, pid, sig), "kill(vigil | 1 << 32)");
}

static int do_tgsigqueue(int sig) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    pid_t v = target();
    return signal_result(syscall(SYS_rt_tgsigqueueinfo, v, v, sig, &si),
                         "rt_tgsigqueueinfo(vigil, vigil)");
}

static int do_setown(int sig) {
    int p[2];
    if (pipe(p) < 0)
        return setup_failed("pipe");
    if (fcntl(p[0], F_SETOWN, target()) < 0)
        return blocked_errno("F_SETOWN vigil");
    if (fcntl(p[0], F_SETSIG, sig) < 0)
        return setup_failed("F_SETSIG");
    if (fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) < 0)
        return setup_failed("O_ASYNC");
    if (write(p[1], "x", 1) != 1)
        return setup_failed("write");
    return signal_result(0, "F_SETOWN(vigil) + F_SETSIG + O_ASYNC");
}

static int do_pidfd_proc(int sig) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)target());
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return setup_failed("open /proc/VIGIL");
    return signal_result(syscall(SYS_pidfd_send_signal, fd, sig, 0, 0),
                         "pidfd_send_signal(/proc/vigil)");
}

static int probe(long r, const char *what) {
    if (r < 0)
        return blocked_errno(what);
    return escaped(what);
}

static int do_seize(void) {
    long r = ptrace(PTRACE_SEIZE, target(), 0, 0);
    if (r == 0)
        ptrace(PTRACE_DETACH, target(), 0, 0);
    return probe(r, "PTRACE_SEIZE vigil");
}

static int do_prlimit(void) {
    struct rlimit r = {1, 1};
    return probe(prlimit(target(), RLIMIT_CPU, &r, 0), "prlimit(vigil, RLIMIT_CPU, {1, 1})");
}

static int do_perf(void) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = 10000; /* every 10 us of vigil's CPU time */
    a.sigtrap = 1;
    a.remove_on_exec = 1;
    int fd = syscall(SYS_perf_event_open, &a, target(), -1, -1, 0);
    return signal_result(fd, "perf_event_open(vigil, sigtrap)");
}

static int do_machine(void) {
    int bad = 0;
    /* Bad magic: the kernel checks CAP_SYS_BOOT first, then says EINVAL. */
    errno = 0;
    syscall(SYS_reboot, 0, 0, 0, 0);
    printf("machine: reboot: %s\n", strerror(errno));
    bad |= errno != EPERM;
#ifdef SYS_kexec_file_load
    errno = 0;
    syscall(SYS_kexec_file_load, -1, -1, 0, 0, ~0UL);
    printf("machine: kexec_file_load: %s\n", strerror(errno));
    bad |= errno != EPERM && errno != ENOSYS;
#endif
    return bad ? escaped("reached the kernel") : blocked("EPERM from the filter");
}

static int do_reboot(void) {
    sync();
    long r = syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                     LINUX_REBOOT_CMD_POWER_OFF, 0);
    return probe(r, "reboot(POWER_OFF)");
}

static volatile int flooding = 1;

static void *flood_thread(void *arg) {
    long *n = arg;
    while (flooding) {
        syscall(SYS_getppid);
        (*n)++;
    }
    return 0;
}

static int do_flood(int threads, int secs) {
    pthread_t t[64];
    long n[64] = {0};
    if (threads > 64)
        threads = 64;
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], 0, flood_thread, &n[i]);
    sleep(secs);
    flooding = 0;
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], 0);
        total += n[i];
    }
    printf("flood: %ld notified calls in %d s\n", total, secs);
    return 0;
}

static int do_lower_cpu(int pid, int secs) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof buf, f))
        return setup_failed("read stat");
    fclose(f);
    /* utime and stime: fields 14 and 15, after the ")" of the name. */
    char *p = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                     &stime) != 2)
        return setup_failed("parse stat");
    long hz = sysconf(_SC_CLK_TCK);
    rlim_t used = (utime + stime + hz - 1) / hz;
    struct rlimit r = {used + secs, used + secs};
    if (prlimit(pid, RLIMIT_CPU, &r, 0) < 0)
        return blocked_errno("prlimit");
    printf("lower-cpu: RLIMIT_CPU of %d set to %lu s (it has used %lu s)\n", pid,
           (unsigned long)r.rlim_cur, (unsigned long)used);
    return escaped("limit set");
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0);
    if (argc < 2)
        return 2;
    name = argv[1];
    const char *a = argc > 2 ? argv[2] : "";
    int sig = argc > 2 ? atoi(argv[2]) : 0;
    if (!strcmp(name, "openat2"))
        return do_openat2(a);
    if (!strcmp(name, "uring"))
        return do_uring(a);
    if (!strcmp(name, "handle"))
        return do_handle(a, argc > 3 ? argv[3] : ".");
    if (!strcmp(name, "mknod"))
        return do_mknod(a);
    if (!strcmp(name, "truncate"))
        return do_truncate(a);
    if (!strcmp(name, "creat"))
        return do_creat(a);
    if (!strcmp(name, "steal"))
        return do_steal(a);
    if (!strcmp(name, "fanotify"))
        return do_fanotify(a);
    if (!strcmp(name, "kill64"))
        return do_kill64(sig);
    if (!strcmp(name, "tgsigqueue"))
        return do_tgsigqueue(sig);
    if (!strcmp(name, "setown"))
        return do_setown(sig);
    if (!strcmp(name, "pidfd-proc"))
        return do_pidfd_proc(sig);
    if (!strcmp(name, "group"))
        return probe(kill(-getpgid(target()), 0), "kill(-pgrp of vigil, 0)");
    if (!strcmp(name, "all"))
        return probe(kill(-1, 0), "kill(-1, 0)");
    if (!strcmp(name, "seize"))
        return do_seize();
    if (!strcmp(name, "prlimit"))
        return do_prlimit();
    if (!strcmp(name, "perf"))
        return do_perf();
    if (!strcmp(name, "nice"))
        return probe(setpriority(PRIO_PROCESS, target(), 19), "setpriority(vigil, 19)");
    if (!strcmp(name, "machine"))
        return do_machine();
    if (!strcmp(name, "session")) {
        pid_t v = target();
        printf("session: sid %d pgrp %d, vigil's sid %d pgrp %d\n", (int)getsid(0),
               (int)getpgrp(), (int)getsid(v), (int)getpgid(v));
        return getsid(0) == getsid(v) || getpgrp() == getpgid(v);
    }
    if (!strcmp(name, "fd")) {
        int open = fcntl(sig, F_GETFD) >= 0;
        printf("fd: %d is %s\n", sig, open ? "open" : "closed");
        return open;
    }
    if (!strcmp(name, "reboot"))
        return do_reboot();
    if (!strcmp(name, "flood"))
        return do_flood(sig, argc > 3 ? atoi(argv[3]) : 1);
    if (!strcmp(name, "lower-cpu"))
        return do_lower_cpu(sig, argc > 3 ? atoi(argv[3]) : 1);
    if (!strcmp(name, "traceme")) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
            return blocked_errno("PTRACE_TRACEME");
        printf("traceme: stopping\n");
        raise(SIGSTOP);
        printf("traceme: continued\n");
        return 0;
    }
    return 2;
}
