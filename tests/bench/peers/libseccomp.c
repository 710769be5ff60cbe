/* A peer monitor on libseccomp's notify API: the filter from seccomp_init /
 * seccomp_rule_add(SCMP_ACT_NOTIFY), and a single thread doing
 * seccomp_notify_receive then seccomp_notify_respond. Answers getppid with
 * 4242. --sync sets SYNC_WAKE_UP with the raw ioctl (libseccomp 2.5 has no
 * call for it). */
#include "peer.h"
#include <seccomp.h>

static int install(void) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) die("seccomp_init");
    if (seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getppid), 0))
        die("seccomp_rule_add");
    if (seccomp_load(ctx)) die("seccomp_load");
    int fd = seccomp_notify_fd(ctx);
    if (fd < 0) die("seccomp_notify_fd");
    return fd;
}

int main(int argc, char **argv) {
    int sync;
    int first = parse_args(argc, argv, &sync);
    pid_t child;
    int fd = start_target(argv + first, install, &child);
    if (sync) set_sync(fd);
    struct seccomp_notif *req;
    struct seccomp_notif_resp *resp;
    if (seccomp_notify_alloc(&req, &resp)) die("seccomp_notify_alloc");
    int status = 0;
    for (;;) {
        /* The kernel refuses a RECV buffer that is not zeroed (EINVAL),
         * and libseccomp 2.5 does not clear it. */
        memset(req, 0, sizeof *req);
        errno = 0;
        if (seccomp_notify_receive(fd, req)) {
            if (target_gone(child, &status)) break;
            continue;
        }
        resp->id = req->id;
        resp->val = 4242;
        resp->error = 0;
        resp->flags = 0;
        seccomp_notify_respond(fd, resp);
    }
    seccomp_notify_free(req, resp);
    return exit_status(status);
}
