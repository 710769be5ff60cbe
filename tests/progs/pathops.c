/* Path operations for the monitor's tests, one per `:`-separated group of
 * arguments, each printing one line `OP ARG: RESULT` where RESULT is `ok`
 * (with what was read, for `read`) or the errno's name:
 *
 *   read PATH                 open O_RDONLY + read (prints the first line)
 *   write PATH TEXT           open O_WRONLY|O_CREAT|O_TRUNC + write
 *   mkdir PATH                mkdir 0755
 *   rename FROM TO            rename(2)
 *   exchange A B              renameat2(RENAME_EXCHANGE)
 *   link FROM TO              link(2)
 *   symlink TARGET PATH       symlink(2)
 *   truncate PATH LEN         truncate(2)
 *   mknod PATH KIND [MAJ MIN] mknodat(2), KIND reg|fifo|sock|chr|blk
 *   chmod PATH MODE           chmod(2)
 *   chmod2 PATH MODE          fchmodat2(AT_FDCWD, PATH, MODE, 0)
 *   openat2 DIR PATH FLAGS    openat2(open(DIR), PATH, O_RDONLY, RESOLVE_*)
 *                             with FLAGS a `,` list of beneath, in_root,
 *                             no_symlinks, no_xdev, no_magiclinks, cached,
 *                             or `-`; `creat` adds O_CREAT|O_WRONLY
 *   openat2-size PATH SIZE    openat2 with a struct of SIZE bytes
 *   opath PATH                open O_PATH + fstat through it
 *   stat PATH                 prints the size
 *   chdir PATH
 *   uid UID                   setresgid/setresuid(UID) (stays root otherwise)
 *   nocaps                    capset: no capabilities at all (uid stays 0)
 *   unshare                   unshare(CLONE_NEWNS) + make / private
 *   userns                    unshare(CLONE_NEWUSER | CLONE_NEWNS) (as uid
 *                             1000: a user namespace of one's own) + private
 *   bind SRC DST              mount --bind
 *   passfd SRC DST REL        a child in a new user+mount namespace binds
 *                             SRC on DST, opens DST with open_tree (no path
 *                             rule sees that) and passes it over a socket;
 *                             we then read REL through it (openat)
 *   clone-read SRC DST FILE   as uid 1000: clone(CLONE_NEWUSER|CLONE_NEWNS)
 *                             child binds SRC on DST and reads FILE
 *
 * With `-t TAG` first, each group may end in `= WANT` (`ok` or an errno
 * name), and prints `TEST TAG.OP:ARG: ok` or `TEST TAG.OP:ARG: FAIL got X`
 * instead (the QEMU suite's lines; `TAG.OP` alone for operations whose
 * argument is not a path); `read` also fails when it reads `SECRET`.
 *
 * `-f FILE` (after `-t TAG`, or alone) reads the groups from FILE, one per
 * line, instead of the command line (`#` lines are comments).
 *
 * Exit status: 0, or 1 when a `-t` check failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20
#endif

static const char *tag, *want;
static int failed;

/* One result: the plain line, or with -t the TEST line. */
static void report(const char *op, const char *arg, const char *got, const char *detail) {
    if (!tag) {
        printf("%s %s: %s%s%s\n", op, arg, got, *detail ? " " : "", detail);
    } else if (want) {
        int ok = !strcmp(got, want) && !strstr(detail, "SECRET");
        failed |= !ok;
        if (arg[0] == '/')
            printf("TEST %s.%s:%s: ", tag, op, arg);
        else
            printf("TEST %s.%s: ", tag, op);
        if (ok) printf("ok\n");
        else printf("FAIL got %s%s%s, want %s\n", got, *detail ? " " : "", detail, want);
    }
    fflush(stdout);
}

static void say(const char *op, const char *arg, long r) {
    report(op, arg, r < 0 ? strerrorname_np(errno) : "ok", "");
}

static void say_read(const char *op, const char *path, int fd) {
    if (fd < 0) {
        say(op, path, -1);
        return;
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        say(op, path, -1);
        return;
    }
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    report(op, path, "ok", buf);
}

static int send_fd(int sock, int fd) {
    char c = 'x';
    struct iovec iov = {&c, 1};
    char ctl[CMSG_SPACE(sizeof(int))];
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    return sendmsg(sock, &m, 0);
}

static int recv_fd(int sock) {
    char c;
    struct iovec iov = {&c, 1};
    char ctl[CMSG_SPACE(sizeof(int))];
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    if (recvmsg(sock, &m, 0) <= 0) return -1;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (!h || h->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    return fd;
}

static int private_root(void) {
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static char stack[256 * 1024];
static const char *c_src, *c_dst, *c_file;

static int clone_child(void *arg) {
    (void)arg;
    if (private_root() < 0) {
        say("clone-read", "private", -1);
        return 1;
    }
    if (mount(c_src, c_dst, NULL, MS_BIND, NULL) < 0) {
        say("clone-read", "bind", -1);
        return 1;
    }
    say_read("clone-read", c_file, open(c_file, O_RDONLY));
    return 0;
}

static unsigned long resolve_flags(const char *s) {
    unsigned long r = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (!strcmp(t, "beneath")) r |= RESOLVE_BENEATH;
        else if (!strcmp(t, "in_root")) r |= RESOLVE_IN_ROOT;
        else if (!strcmp(t, "no_symlinks")) r |= RESOLVE_NO_SYMLINKS;
        else if (!strcmp(t, "no_xdev")) r |= RESOLVE_NO_XDEV;
        else if (!strcmp(t, "no_magiclinks")) r |= RESOLVE_NO_MAGICLINKS;
        else if (!strcmp(t, "cached")) r |= RESOLVE_CACHED;
    }
    return r;
}

static void op(int argc, char **a) {
    const char *o = a[0];
    if (!strcmp(o, "read") && argc >= 2) {
        say_read(o, a[1], open(a[1], O_RDONLY));
    } else if (!strcmp(o, "write") && argc >= 3) {
        int fd = open(a[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        long r = fd < 0 ? -1 : write(fd, a[2], strlen(a[2]));
        if (fd >= 0) close(fd);
        say(o, a[1], r);
    } else if (!strcmp(o, "mkdir") && argc >= 2) {
        say(o, a[1], mkdir(a[1], 0755));
    } else if (!strcmp(o, "rename") && argc >= 3) {
        say(o, a[1], rename(a[1], a[2]));
    } else if (!strcmp(o, "exchange") && argc >= 3) {
        say(o, a[1], syscall(SYS_renameat2, AT_FDCWD, a[1], AT_FDCWD, a[2], RENAME_EXCHANGE));
    } else if (!strcmp(o, "link") && argc >= 3) {
        say(o, a[1], link(a[1], a[2]));
    } else if (!strcmp(o, "symlink") && argc >= 3) {
        say(o, a[2], symlink(a[1], a[2]));
    } else if (!strcmp(o, "truncate") && argc >= 3) {
        say(o, a[1], truncate(a[1], atol(a[2])));
    } else if (!strcmp(o, "mknod") && argc >= 3) {
        mode_t k = !strcmp(a[2], "fifo") ? S_IFIFO : !strcmp(a[2], "sock") ? S_IFSOCK
                 : !strcmp(a[2], "chr") ? S_IFCHR : !strcmp(a[2], "blk") ? S_IFBLK : S_IFREG;
        dev_t d = argc >= 5 ? makedev(atoi(a[3]), atoi(a[4])) : 0;
        say(o, a[1], mknodat(AT_FDCWD, a[1], k | 0640, d));
    } else if (!strcmp(o, "chmod") && argc >= 3) {
        say(o, a[1], chmod(a[1], strtol(a[2], 0, 8)));
    } else if (!strcmp(o, "chmod2") && argc >= 3) {
        say(o, a[1], syscall(SYS_fchmodat2, AT_FDCWD, a[1], strtol(a[2], 0, 8), 0));
    } else if (!strcmp(o, "openat2") && argc >= 4) {
        int dir = open(a[1], O_RDONLY | O_DIRECTORY);
        struct open_how h = {.flags = O_RDONLY, .resolve = resolve_flags(a[3])};
        if (argc >= 5 && !strcmp(a[4], "creat")) {
            h.flags = O_WRONLY | O_CREAT;
            h.mode = 0644;
        }
        int fd = syscall(SYS_openat2, dir, a[2], &h, sizeof h);
        if (h.flags & O_CREAT) {
            say(o, a[2], fd);
            if (fd >= 0) close(fd);
        } else {
            say_read(o, a[2], fd);
        }
    } else if (!strcmp(o, "openat2-size") && argc >= 3) {
        char buf[128] = {0};
        struct open_how h = {.flags = O_RDONLY};
        memcpy(buf, &h, sizeof h);
        buf[40] = argc >= 4;    /* a non-zero byte past the known struct */
        say_read(o, a[1], syscall(SYS_openat2, AT_FDCWD, a[1], buf, atol(a[2])));
    } else if (!strcmp(o, "opath") && argc >= 2) {
        int fd = open(a[1], O_PATH);
        struct stat st;
        long r = fd < 0 ? -1 : fstat(fd, &st);
        if (fd >= 0) close(fd);
        say(o, a[1], r);
    } else if (!strcmp(o, "stat") && argc >= 2) {
        struct stat st;
        if (stat(a[1], &st) < 0) say(o, a[1], -1);
        else printf("stat %s: ok size=%ld mode=%o\n", a[1], (long)st.st_size, st.st_mode);
        fflush(stdout);
    } else if (!strcmp(o, "chdir") && argc >= 2) {
        say(o, a[1], chdir(a[1]));
    } else if (!strcmp(o, "uid") && argc >= 2) {
        int u = atoi(a[1]);
        long r = setgroups(0, NULL);
        if (r == 0) r = setresgid(u, u, u);
        if (r == 0) r = setresuid(u, u, u);
        say(o, a[1], r);
    } else if (!strcmp(o, "nocaps")) {
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2] = {{0}};
        say(o, "all", syscall(SYS_capset, &h, d));
    } else if (!strcmp(o, "unshare")) {
        long r = unshare(CLONE_NEWNS);
        if (r == 0) r = private_root();
        say(o, "mnt", r);
    } else if (!strcmp(o, "userns")) {
        long r = unshare(CLONE_NEWUSER | CLONE_NEWNS);
        if (r == 0) r = private_root();
        say(o, "user+mnt", r);
    } else if (!strcmp(o, "bind") && argc >= 3) {
        say(o, a[2], mount(a[1], a[2], NULL, MS_BIND, NULL));
    } else if (!strcmp(o, "passfd") && argc >= 4) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        pid_t c = fork();
        if (c == 0) {
            if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 || private_root() < 0) {
                say(o, "unshare", -1);
                _exit(1);
            }
            if (mount(a[1], a[2], NULL, MS_BIND, NULL) < 0) {
                say(o, "bind", -1);
                _exit(1);
            }
            int fd = syscall(SYS_open_tree, AT_FDCWD, a[2], 0);
            if (fd < 0) {
                say(o, "open_tree", -1);
                _exit(1);
            }
            send_fd(sv[1], fd);
            /* Stay, and with us our namespace, until the parent is done. */
            char c;
            read(sv[1], &c, 1);
            _exit(0);
        }
        close(sv[1]); /* a child that failed is an EOF, not a wait */
        int fd = recv_fd(sv[0]);
        if (fd < 0) {
            printf("passfd %s: no fd\n", a[1]);
            fflush(stdout);
        } else {
            say_read(o, a[3], openat(fd, a[3], O_RDONLY));
        }
        write(sv[0], "x", 1);
        waitpid(c, NULL, 0);
    } else if (!strcmp(o, "clone-read") && argc >= 4) {
        c_src = a[1];
        c_dst = a[2];
        c_file = a[3];
        pid_t c = clone(clone_child, stack + sizeof stack, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, NULL);
        if (c < 0) {
            say(o, "clone", -1);
            return;
        }
        waitpid(c, NULL, 0);
    } else {
        printf("%s: unknown\n", o);
        fflush(stdout);
    }
}

/* One group of words: its `= WANT` ending taken off. */
static void group(int n, char **w) {
    want = NULL;
    if (n >= 2 && !strcmp(w[n - 2], "=")) {
        want = w[n - 1];
        n -= 2;
    }
    if (n > 0) op(n, w);
}

static int from_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("TEST %s.file: FAIL %s: %s\n", tag ? tag : "pathops", path, strerrorname_np(errno));
        return 1;
    }
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *w[32];
        int n = 0;
        if (line[0] == '#') continue;
        for (char *t = strtok(line, " \t\n"); t && n < 32; t = strtok(NULL, " \t\n")) w[n++] = t;
        /* op() may use strtok itself: the words are all split already. */
        group(n, w);
    }
    fclose(f);
    return failed;
}

int main(int argc, char **argv) {
    int start = 1;
    if (argc > 2 && !strcmp(argv[1], "-t")) {
        tag = argv[2];
        start = 3;
    }
    if (argc > start + 1 && !strcmp(argv[start], "-f")) return from_file(argv[start + 1]);
    for (int i = start; i <= argc; i++) {
        if (i == argc || !strcmp(argv[i], ":")) {
            group(i - start, argv + start);
            start = i + 1;
        }
    }
    return failed;
}
