/*
 * sbx: the sandbox probe of the QEMU suite (qemu/boots/sandbox.sh). Built
 * static; runs as a vigil service under the directives of
 * tests/qemu/sandbox.conf. Each command tries something the sandbox must
 * refuse, or something it must still allow, and prints
 * `TEST TAG.NAME: ok` or `TEST TAG.NAME: FAIL why` (TAG: $VTEST_TAG,
 * default "sbx"). Commands are separated by `:` arguments:
 *
 *   sbx bind PORT WANT            bind(0.0.0.0:PORT), WANT ok|EACCES|...
 *   sbx caps EFF BND AMB          CapEff/CapBnd/CapAmb of /proc/self/status (hex)
 *   sbx nnp WANT                  NoNewPrivs of /proc/self/status
 *   sbx ns-save DIR               write /proc/self/ns/{net,...} links to DIR
 *   sbx ns DIR new|same A,B,...   our namespaces differ from / equal DIR's
 *   sbx pidns                     getpid()==1, /proc lists only pid 1
 *   sbx getppid WANT              raw getppid(2) (vigil emulates it)
 *   sbx write PATH WANT           create+write PATH, WANT ok|EROFS|EACCES...
 *   sbx read PATH WANT            open+read PATH
 *   sbx escape HOSTPATH           chroot escape tricks; HOSTPATH must stay unseen
 *   sbx pids MAX                  MAX-1 forks work, the next one is EAGAIN
 *   sbx cgfile FILE WANT          our cgroup's FILE holds WANT
 *   sbx env KEY WANT              getenv(KEY) is WANT (`-`: unset)
 *   sbx landlock                  prints `SBX landlock-abi=N` (0: none)
 *   sbx put PATH TEXT WANT        open(PATH, O_WRONLY) (no create) and write TEXT
 *   sbx openw PATH WANT           open(PATH, O_WRONLY) only
 *   sbx crash                     a child dies of SIGSEGV (dumping core)
 *   sbx pwned FILE                what a core_pattern pipe would run: writes FILE
 *   sbx absent PATH               PATH does not exist
 *   sbx owner PATH UID            PATH belongs to UID (as stat shows it here)
 *   sbx same PATH TEXT            PATH holds TEXT (and a newline) and nothing else
 *   sbx swap PATH TARGET          first run: PATH becomes a symlink to TARGET and
 *                                 we exit 1 (to be restarted); a run that finds
 *                                 it a symlink already was started through it
 *   sbx stdin-lacks TEXT          what stdin gives does not contain TEXT
 *   sbx ids UID GID               getuid(), getgid()
 *   sbx uidmap TEXT               /proc/self/uid_map's first line, spaces squeezed
 *   sbx tmpfs DIR WANT            mount a tmpfs on DIR
 *   sbx incg NAME                 /proc/self/cgroup says 0::/NAME
 *   sbx cgput FILE VALUE WANT     write VALUE to /sys/fs/cgroup/FILE
 *   sbx cgleave WANT              move ourselves to the root cgroup
 *   sbx cgns WANT                 in a user + mount + cgroup namespace of our
 *                                 own (where the kernel lets us make one):
 *                                 mount cgroup2, write `max` to pids.max
 *   sbx forge TEXT                open and mkdir paths holding TEXT, one after a newline
 *                                 (a notify-paths policy logs them)
 *   sbx done                      exit 0
 *
 * Exit status: 0 when every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif

static int failed;

#include "report.h"

static void result(const char *name, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failed |= report(guest_tag("sbx"), name, ok, fmt, ap);
    va_end(ap);
}

static const char *ename(int e)
{
    switch (e) {
    case 0: return "ok";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EROFS: return "EROFS";
    case ENOENT: return "ENOENT";
    case EAGAIN: return "EAGAIN";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: {
        static char b[16];
        snprintf(b, sizeof b, "errno%d", e);
        return b;
    }
    }
}

/* Compare an outcome (0 or an errno) with WANT. */
static void expect(const char *kind, const char *what, int got, const char *want)
{
    char name[160];
    snprintf(name, sizeof name, "%s:%s", kind, what);
    result(name, !strcmp(ename(got), want), "got %s, want %s", ename(got), want);
}

static int cmd_bind(char **a)
{
    int port = atoi(a[0]);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int e = 0;
    if (s < 0) {
        e = errno;
    } else {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
            e = errno;
        close(s);
    }
    expect("bind", a[0], e, a[1]);
    return 2;
}

/* A `Key:\tvalue` line of /proc/self/status. */
static int status_field(const char *key, char *out, size_t n)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t k = strlen(key);
    int found = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, k) && line[k] == ':') {
            char *v = line + k + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = 0;
            snprintf(out, n, "%s", v);
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

static int cmd_caps(char **a)
{
    const char *keys[3] = { "CapEff", "CapBnd", "CapAmb" };
    for (int i = 0; i < 3; i++) {
        char v[64] = "?";
        status_field(keys[i], v, sizeof v);
        unsigned long long got = strtoull(v, 0, 16), want = strtoull(a[i], 0, 16);
        char name[32];
        snprintf(name, sizeof name, "caps:%s", keys[i]);
        result(name, got == want, "%s is %s, want %llx", keys[i], v, want);
    }
    return 3;
}

static int cmd_nnp(char **a)
{
    char v[16] = "?";
    status_field("NoNewPrivs", v, sizeof v);
    result("nnp", !strcmp(v, a[0]), "NoNewPrivs is %s, want %s", v, a[0]);
    return 1;
}

static const char *NS[] = { "net", "pid", "ipc", "uts", "cgroup", "mnt" };

static int cmd_ns_save(char **a)
{
    for (size_t i = 0; i < sizeof NS / sizeof *NS; i++) {
        char p[64], link[64] = "", out[256];
        snprintf(p, sizeof p, "/proc/self/ns/%s", NS[i]);
        ssize_t n = readlink(p, link, sizeof link - 1);
        if (n > 0)
            link[n] = 0;
        snprintf(out, sizeof out, "%s/%s", a[0], NS[i]);
        FILE *f = fopen(out, "w");
        if (f) {
            fputs(link, f);
            fclose(f);
        }
    }
    return 1;
}

static int cmd_ns(char **a)
{
    int want_new = !strcmp(a[1], "new");
    char list[128];
    snprintf(list, sizeof list, "%s", a[2]);
    for (char *ns = strtok(list, ","); ns; ns = strtok(0, ",")) {
        char p[64], mine[64] = "", host[64] = "", path[256];
        snprintf(p, sizeof p, "/proc/self/ns/%s", ns);
        ssize_t k = readlink(p, mine, sizeof mine - 1);
        if (k > 0)
            mine[k] = 0;
        snprintf(path, sizeof path, "%s/%s", a[0], ns);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(host, sizeof host, f))
                host[0] = 0;
            fclose(f);
        }
        char name[64];
        snprintf(name, sizeof name, "ns-%s:%s", a[1], ns);
        int differs = strcmp(mine, host) != 0;
        result(name, *mine && *host && differs == want_new, "ours %s, vigil's %s", mine, host);
    }
    return 3;
}

static int cmd_pidns(char **a)
{
    (void)a;
    pid_t p = getpid();
    result("pid1", p == 1, "getpid() = %d", (int)p);
    DIR *d = opendir("/proc");
    int others = 0, self = 0;
    char seen[256] = "";
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9')
                continue;
            if (!strcmp(e->d_name, "1"))
                self = 1;
            else if (!others++)
                snprintf(seen, sizeof seen, "%s", e->d_name);
        }
        closedir(d);
    }
    result("proc-only-self", d && self && !others, "/proc has pid 1: %d, %d others (first %s)",
           self, others, seen);
    return 0;
}

static int cmd_getppid(char **a)
{
    long got = syscall(SYS_getppid);
    result("getppid", got == atol(a[0]), "getppid() = %ld, want %s", got, a[0]);
    return 1;
}

static int cmd_write(char **a)
{
    int e = 0;
    int fd = open(a[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        e = errno;
    else if (write(fd, "x\n", 2) != 2)
        e = errno;
    if (fd >= 0)
        close(fd);
    expect("write", a[0], e, a[1]);
    return 2;
}

static int cmd_read(char **a)
{
    int e = 0;
    char b[64];
    int fd = open(a[0], O_RDONLY);
    if (fd < 0)
        e = errno;
    else if (read(fd, b, sizeof b) < 0)
        e = errno;
    if (fd >= 0)
        close(fd);
    expect("read", a[0], e, a[1]);
    return 2;
}

/* The classic chroot escape: chroot into a subdirectory (the cwd stays
 * outside it), walk up with `..`, chroot to where we got. And plain `..`
 * walks from / and from the cwd. HOSTPATH exists outside the jail only. */
static int cmd_escape(char **a)
{
    const char *host = a[0];
    result("jail-visible", access("/bin/sbx", X_OK) == 0, "/bin/sbx: %s", ename(errno));
    result("host-hidden", access(host, F_OK) < 0 && errno == ENOENT, "%s: %s", host,
           access(host, F_OK) == 0 ? "visible" : ename(errno));
    mkdir("/tmp/esc", 0700);
    int e = chroot("/tmp/esc") < 0 ? errno : 0;
    result("chroot-denied", e == EPERM, "chroot: %s, want EPERM", ename(e));
    for (int i = 0; i < 64; i++)
        if (chdir("..") < 0)
            break;
    e = chroot(".") < 0 ? errno : 0;
    result("chroot-dot-denied", e == EPERM, "chroot(\".\"): %s, want EPERM", ename(e));
    char rel[256];
    snprintf(rel, sizeof rel, "../../../../../../../..%s", host);
    result("dotdot-walk", access(host, F_OK) < 0 && access(rel, F_OK) < 0,
           "%s reachable after the walk", host);
    char cwd[256] = "";
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, "(%s)", ename(errno));
    result("cwd-at-root", !strcmp(cwd, "/"), "cwd after 64 `..`: %s", cwd);
    int fd = open("/..", O_RDONLY | O_DIRECTORY);
    struct stat r, up;
    int same = fd >= 0 && stat("/", &r) == 0 && fstat(fd, &up) == 0 && r.st_ino == up.st_ino &&
               r.st_dev == up.st_dev;
    result("root-dotdot-is-root", same, "/.. is not /");
    if (fd >= 0)
        close(fd);
    return 1;
}

static int cmd_pids(char **a)
{
    int max = atoi(a[0]), ok = 0, e = 0;
    pid_t kids[64];
    for (int i = 0; i < max + 4 && i < 64; i++) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p < 0) {
            e = errno;
            break;
        }
        kids[ok++] = p;
    }
    for (int i = 0; i < ok; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < ok; i++)
        waitpid(kids[i], 0, 0);
    result("forks-below-max", ok == max - 1, "%d forks worked, want %d", ok, max - 1);
    result("fork-at-max", e == EAGAIN, "the next fork: %s, want EAGAIN", ename(e));
    return 1;
}

static int cmd_cgfile(char **a)
{
    char line[256] = "", path[512], v[128] = "";
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = 0;
        fclose(f);
    }
    line[strcspn(line, "\n")] = 0;
    const char *cg = strncmp(line, "0::", 3) ? "?" : line + 3;
    snprintf(path, sizeof path, "/sys/fs/cgroup%s/%s", cg, a[0]);
    f = fopen(path, "r");
    if (f) {
        if (!fgets(v, sizeof v, f))
            v[0] = 0;
        fclose(f);
    }
    v[strcspn(v, "\n")] = 0;
    char name[64];
    snprintf(name, sizeof name, "cg:%s", a[0]);
    result(name, !strcmp(v, a[1]), "%s holds '%s', want '%s'", path, v, a[1]);
    return 2;
}

static int cmd_env(char **a)
{
    const char *v = getenv(a[0]);
    char name[64];
    snprintf(name, sizeof name, "env:%s", a[0]);
    if (!strcmp(a[1], "-"))
        result(name, !v, "set to '%s'", v ? v : "");
    else
        result(name, v && !strcmp(v, a[1]), "'%s', want '%s'", v ? v : "(unset)", a[1]);
    return 2;
}

static int cmd_landlock(char **a)
{
    (void)a;
    long v = syscall(SYS_landlock_create_ruleset, 0, 0, 1UL);
    printf("SBX landlock-abi=%ld (%s)\n", v > 0 ? v : 0, v > 0 ? "ok" : ename(errno));
    fflush(stdout);
    return 0;
}

/* open(PATH, flags) and write TEXT (if any): 0 or the errno. */
static int try_write(const char *path, int flags, const char *text)
{
    int e = 0, fd = open(path, flags);
    if (fd < 0)
        return errno;
    if (text && write(fd, text, strlen(text)) < 0)
        e = errno;
    close(fd);
    return e;
}

static int cmd_put(char **a)
{
    expect("put", a[0], try_write(a[0], O_WRONLY, a[1]), a[2]);
    return 3;
}

static int cmd_openw(char **a)
{
    expect("openw", a[0], try_write(a[0], O_WRONLY, 0), a[1]);
    return 2;
}

static int cmd_crash(char **a)
{
    (void)a;
    pid_t p = fork();
    if (p == 0) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
        _exit(0);
    }
    int st = 0;
    waitpid(p, &st, 0);
    result("crash", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %#x", st);
    return 0;
}

static int cmd_pwned(char **a)
{
    int fd = open(a[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dprintf(fd, "ran as uid %d\n", (int)getuid());
        close(fd);
    }
    return 1;
}

static int cmd_absent(char **a)
{
    struct stat st;
    int e = lstat(a[0], &st) < 0 ? errno : 0;
    char name[160];
    snprintf(name, sizeof name, "absent:%s", a[0]);
    result(name, e == ENOENT, "%s", e ? ename(e) : "it exists");
    return 1;
}

static int cmd_owner(char **a)
{
    struct stat st;
    int e = stat(a[0], &st) < 0 ? errno : 0;
    char name[160];
    snprintf(name, sizeof name, "owner:%s", a[0]);
    result(name, !e && (long)st.st_uid == atol(a[1]), "%s, uid %ld, want %s", ename(e),
           e ? -1L : (long)st.st_uid, a[1]);
    return 2;
}

static int cmd_same(char **a)
{
    char v[256] = "";
    FILE *f = fopen(a[0], "r");
    if (f) {
        size_t n = fread(v, 1, sizeof v - 1, f);
        v[n] = 0;
        fclose(f);
    }
    size_t n = strlen(v);
    if (n && v[n - 1] == '\n')
        v[n - 1] = 0;
    char name[160];
    snprintf(name, sizeof name, "same:%s", a[0]);
    result(name, f && !strcmp(v, a[1]), "holds '%s'%s, want '%s'", v, f ? "" : " (unreadable)", a[1]);
    return 2;
}

/* The first run replaces PATH by a symlink and asks to be restarted; vigil
 * must not open the link's target for us with its own rights. */
static int cmd_swap(char **a)
{
    struct stat st;
    if (lstat(a[0], &st) == 0 && S_ISLNK(st.st_mode)) {
        result("swap:not-started-through-the-link", 0,
               "started with stdio through %s -> %s", a[0], a[1]);
        return 2;
    }
    unlink(a[0]);
    if (symlink(a[1], a[0]) < 0) {
        result("swap:symlink", 0, "symlink %s: %s", a[0], ename(errno));
        return 2;
    }
    /* Both: one of them is the file being swapped. */
    printf("SBX swapped %s -> %s\n", a[0], a[1]);
    fflush(stdout);
    fprintf(stderr, "SBX swapped %s -> %s\n", a[0], a[1]);
    exit(1);
}

static int cmd_stdin_lacks(char **a)
{
    char b[512];
    ssize_t n = read(0, b, sizeof b - 1);
    b[n > 0 ? n : 0] = 0;
    result("stdin-lacks", !strstr(b, a[0]), "stdin gave '%s'", b);
    return 1;
}

static int cmd_ids(char **a)
{
    int u = getuid(), g = getgid();
    result("ids", u == atoi(a[0]) && g == atoi(a[1]), "uid %d gid %d, want %s %s", u, g, a[0],
           a[1]);
    return 2;
}

static int cmd_uidmap(char **a)
{
    char line[128] = "", sq[128] = "";
    FILE *f = fopen("/proc/self/uid_map", "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = 0;
        fclose(f);
    }
    /* squeeze runs of spaces, drop leading ones and the newline */
    size_t k = 0;
    for (char *c = line; *c && *c != '\n' && k + 1 < sizeof sq; c++)
        if (*c != ' ' || (k && sq[k - 1] != ' '))
            sq[k++] = *c;
    sq[k] = 0;
    result("uidmap", !strcmp(sq, a[0]), "uid_map '%s', want '%s'", sq, a[0]);
    return 1;
}

static int cmd_tmpfs(char **a)
{
    mkdir(a[0], 0755);
    int e = mount("tmpfs", a[0], "tmpfs", 0, 0) < 0 ? errno : 0;
    expect("tmpfs", a[0], e, a[1]);
    return 2;
}

/* Our cgroup, from /proc/self/cgroup ("0::/NAME"): "?" if not found. */
static void own_cgroup(char *out, size_t n)
{
    char line[256] = "";
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = 0;
        fclose(f);
    }
    line[strcspn(line, "\n")] = 0;
    snprintf(out, n, "%s", strncmp(line, "0::", 3) ? "?" : line + 3);
}

static int cmd_incg(char **a)
{
    char cg[256], want[256];
    own_cgroup(cg, sizeof cg);
    snprintf(want, sizeof want, "/%s", a[0]);
    result("incg", !strcmp(cg, want), "in %s, want %s", cg, want);
    return 1;
}

static int cmd_cgput(char **a)
{
    char path[512];
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s", a[0]);
    expect("cgput", a[0], try_write(path, O_WRONLY, a[1]), a[2]);
    return 3;
}

static int cmd_cgleave(char **a)
{
    expect("cgleave", "root", try_write("/sys/fs/cgroup/cgroup.procs", O_WRONLY, "0"), a[0]);
    return 1;
}

static int put_file(const char *path, const char *text)
{
    return try_write(path, O_WRONLY, text);
}

/* The attack through a namespace of our own: as the owner of a new user
 * namespace we may mount cgroup2 for a new cgroup namespace, whose root is
 * our own cgroup, and (as uid 0, which owns the files) write its limits,
 * unless cgroup namespaces are delegation boundaries (nsdelegate). */
static int cmd_cgns(char **a)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return 1;
    mkdir("/tmp/sbx-cg", 0755);
    uid_t u = geteuid();
    gid_t g = getegid();
    pid_t p = fork();
    if (p == 0) {
        close(pfd[0]);
        int e = 0, step = 0;
        char m[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP) < 0) {
            e = errno;
            step = 1;
        } else {
            put_file("/proc/self/setgroups", "deny");
            snprintf(m, sizeof m, "0 %d 1", (int)u);
            put_file("/proc/self/uid_map", m);
            snprintf(m, sizeof m, "0 %d 1", (int)g);
            put_file("/proc/self/gid_map", m);
            if (mount("none", "/tmp/sbx-cg", "cgroup2", 0, 0) < 0) {
                e = errno;
                step = 2;
            } else {
                e = put_file("/tmp/sbx-cg/pids.max", "max");
                step = 3;
            }
        }
        dprintf(pfd[1], "%d %d", step, e);
        _exit(0);
    }
    close(pfd[1]);
    char r[32] = "";
    ssize_t n = read(pfd[0], r, sizeof r - 1);
    r[n > 0 ? n : 0] = 0;
    close(pfd[0]);
    waitpid(p, 0, 0);
    int step = 0, e = 0;
    sscanf(r, "%d %d", &step, &e);
    const char *where[] = { "?", "unshare", "mount", "write" };
    printf("SBX cgns: %s: %s\n", where[step & 3], ename(e));
    fflush(stdout);
    /* Refused at an earlier step is a pass too (the kernel may not let us
     * make the namespaces); what must not happen is the write. */
    int ok = step != 3 || !strcmp(ename(e), a[0]);
    result("cgns", ok, "%s: %s, want the write to fail with %s", where[step & 3], ename(e),
           a[0]);
    return 1;
}

static int cmd_forge(char **a)
{
    char p[512];
    snprintf(p, sizeof p, "/tmp/forge/\n%s", a[0]);
    int fd = open(p, O_RDONLY);
    if (fd >= 0)
        close(fd);
    snprintf(p, sizeof p, "/tmp/forge/%s", a[0]);
    fd = open(p, O_RDONLY);
    if (fd >= 0)
        close(fd);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "/run/%s", a[0]);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0)
        close(fd);
    return 1;
}

static const struct {
    const char *name;
    int nargs;
    int (*fn)(char **);
} CMDS[] = {
    { "bind", 2, cmd_bind },     { "caps", 3, cmd_caps },       { "nnp", 1, cmd_nnp },
    { "ns-save", 1, cmd_ns_save }, { "ns", 3, cmd_ns },         { "pidns", 0, cmd_pidns },
    { "getppid", 1, cmd_getppid }, { "write", 2, cmd_write },   { "read", 2, cmd_read },
    { "escape", 1, cmd_escape }, { "pids", 1, cmd_pids },       { "cgfile", 2, cmd_cgfile },
    { "env", 2, cmd_env },       { "landlock", 0, cmd_landlock }, { "put", 3, cmd_put },
    { "openw", 2, cmd_openw },   { "crash", 0, cmd_crash },     { "pwned", 1, cmd_pwned },
    { "absent", 1, cmd_absent }, { "owner", 2, cmd_owner },     { "same", 2, cmd_same },
    { "swap", 2, cmd_swap },     { "stdin-lacks", 1, cmd_stdin_lacks }, { "ids", 2, cmd_ids },
    { "uidmap", 1, cmd_uidmap }, { "tmpfs", 2, cmd_tmpfs },     { "incg", 1, cmd_incg },
    { "cgput", 3, cmd_cgput },   { "cgleave", 1, cmd_cgleave }, { "cgns", 1, cmd_cgns },
    { "forge", 1, cmd_forge },   { "done", 0, 0 },
};

int main(int argc, char **argv)
{
    int i = 1;
    while (i < argc) {
        if (!strcmp(argv[i], ":")) {
            i++;
            continue;
        }
        size_t k = 0;
        while (k < sizeof CMDS / sizeof *CMDS && strcmp(CMDS[k].name, argv[i]))
            k++;
        if (k == sizeof CMDS / sizeof *CMDS || argc - i - 1 < CMDS[k].nargs) {
            fprintf(stderr, "sbx: bad command at `%s`\n", argv[i]);
            return 2;
        }
        if (!CMDS[k].fn)
            return failed;
        i += 1 + CMDS[k].fn(argv + i + 1);
    }
    return failed;
}
