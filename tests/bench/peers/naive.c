/* A peer monitor in the seccomp_unotify(2) style: a hand-written filter
 * (getppid -> USER_NOTIF, everything else allowed), then a single thread
 * doing a blocking RECV and a SEND per notification. Answers getppid with
 * 4242. --sync sets SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP first. */
#include "peer.h"
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
    int sync;
    int first = parse_args(argc, argv, &sync);
    pid_t child;
    int fd = start_target(argv + first, install, &child);
    if (sync) set_sync(fd);
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    int status = 0;
    for (;;) {
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
