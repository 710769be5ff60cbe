/* A peer monitor in the seccomp_unotify(2) style: a hand-written filter
 * (getppid -> USER_NOTIF, everything else allowed), then a single thread
 * doing a blocking RECV and a SEND per notification. Answers getppid with
 * 4242. --sync sets SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP first.
 *
 * --poll: vigil's loop shape, as a control: ppoll on a signalfd, the
 * listener and a pipe, then one RECV and one SEND per POLLIN.
 * --epoll: the same with epoll_wait on those three fds instead of ppoll. */
#include "peer.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

static int install(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    int fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0) die("seccomp");
    return fd;
}

int main(int argc, char **argv) {
    int sync, use_poll = 0, use_epoll = 0;
    if (argc > 1 && !strcmp(argv[1], "--epoll"))
        use_epoll = 1;
    if (argc > 1 && (!strcmp(argv[1], "--poll") || use_epoll)) {
        use_poll = 1;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    int first = parse_args(argc, argv, &sync);
    pid_t child;
    int fd = start_target(argv + first, install, &child);
    if (sync) set_sync(fd);
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    int status = 0;
    struct pollfd pfd[3] = {{.fd = -1}, {.fd = fd, .events = POLLIN}, {.fd = -1}};
    int pipefd[2];
    if (use_poll) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        pfd[0] = (struct pollfd){.fd = signalfd(-1, &mask, SFD_CLOEXEC), .events = POLLIN};
        if (pipe(pipefd)) die("pipe");
        pfd[2] = (struct pollfd){.fd = pipefd[0], .events = POLLIN};
    }
    int ep = -1;
    if (use_epoll) {
        ep = epoll_create1(EPOLL_CLOEXEC);
        for (int i = 0; i < 3; i++) {
            struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
            epoll_ctl(ep, EPOLL_CTL_ADD, pfd[i].fd, &e);
        }
    }
    for (;;) {
        if (use_epoll) {
            struct epoll_event ev[4];
            int n = epoll_wait(ep, ev, 4, -1);
            pfd[0].revents = pfd[1].revents = 0;
            for (int i = 0; i < n; i++) pfd[ev[i].data.u32].revents = ev[i].events;
            if (pfd[0].revents && waitpid(child, &status, WNOHANG) == child) break;
            if (!(pfd[1].revents & POLLIN)) continue;
        } else if (use_poll) {
            if (ppoll(pfd, 3, NULL, NULL) < 0 && errno != EINTR) die("ppoll");
            if (pfd[0].revents && waitpid(child, &status, WNOHANG) == child) break;
            if (!(pfd[1].revents & POLLIN)) continue;
        }
        memset(&req, 0, sizeof req);
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req)) {
            if (target_gone(child, &status)) break;
            continue;
        }
        resp.id = req.id;
        resp.val = 4242;
        resp.error = 0;
        resp.flags = 0;
        /* ENOENT: the target was interrupted or died; nothing to do. */
        ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
    return exit_status(status);
}
