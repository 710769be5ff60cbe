/* What the two peer monitors share: start PROG in a child that installs a
 * filter with a listener and passes the listener back over a socketpair
 * (SCM_RIGHTS), the way seccomp_unotify(2)'s example does; and the
 * SYNC_WAKE_UP switch. Each monitor brings its own install and loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* Linux 6.6; not in older uapi headers. */
#define PEER_IOCTL_NOTIF_SET_FLAGS 0x40082104UL /* _IOW('!', 4, __u64) */
#define PEER_FD_SYNC_WAKE_UP 1ULL

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void send_fd(int sock, int fd) {
    char dummy = 'x';
    struct iovec iov = {&dummy, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &msg, 0) < 0) die("sendmsg");
}

static int recv_fd(int sock) {
    char dummy;
    struct iovec iov = {&dummy, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    if (recvmsg(sock, &msg, 0) <= 0) die("recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) die("no fd received");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void on_chld(int sig) { (void)sig; }

/* --session: the target gets a session of its own, as `vigil run` gives
 * it. A new session is a new scheduler autogroup, which costs the round
 * trip about a tenth here: measured with it, peers and vigil are alike. */
static int new_session;

/* Fork; the child calls install() (which returns the listener fd), sends
 * the listener, and execs argv. Returns the listener in the parent. */
static int start_target(char **argv, int (*install)(void), pid_t *child) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) die("socketpair");
    /* SIGCHLD interrupts a blocking RECV (no SA_RESTART). */
    struct sigaction sa = {.sa_handler = on_chld};
    sigaction(SIGCHLD, &sa, NULL);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(sv[0]);
        if (new_session && setsid() < 0) die("setsid");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("no_new_privs");
        int fd = install();
        send_fd(sv[1], fd);
        close(fd);
        close(sv[1]);
        execv(argv[0], argv);
        die("execv");
    }
    close(sv[1]);
    int fd = recv_fd(sv[0]);
    close(sv[0]);
    *child = pid;
    return fd;
}

static void set_sync(int fd) {
    if (ioctl(fd, PEER_IOCTL_NOTIF_SET_FLAGS, PEER_FD_SYNC_WAKE_UP))
        die("SECCOMP_IOCTL_NOTIF_SET_FLAGS");
}

/* After RECV failed: 1 when the monitor should stop (the target is gone). */
static int target_gone(pid_t child, int *status) {
    if (errno == ENOENT) { /* 6.11+: no task uses the filter any more */
        waitpid(child, status, 0);
        return 1;
    }
    if (errno == EINTR)
        return waitpid(child, status, WNOHANG) == child;
    die("SECCOMP_IOCTL_NOTIF_RECV");
    return 1;
}

static int exit_status(int st) {
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* argv: [--sync] [--session] -- PROG ARGS... ; returns the index of PROG,
 * sets *sync and new_session. */
static int parse_args(int argc, char **argv, int *sync) {
    int i = 1;
    *sync = 0;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--sync")) *sync = 1;
        else if (!strcmp(argv[i], "--session")) new_session = 1;
        else if (!strcmp(argv[i], "--")) { i++; break; }
        else break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: %s [--sync] [--session] -- PROG ARGS...\n", argv[0]);
        exit(2);
    }
    return i;
}
