/* The freeze attack on a monitor that reads target memory itself: the path
 * argument of an openat lies on a page registered with userfaultfd, and
 * nobody serves the fault for HOLD seconds. A monitor that reads the path
 * with process_vm_readv sleeps in that fault for as long as we like.
 *
 *   uffd HOLD        prints `holding` once the openat is under way, then
 *                    serves the fault with "/nonexistent" after HOLD
 *                    seconds and prints `openat=RESULT errno=E` (EIO or
 *                    ENOENT, ...) when the call came back, then exits 0.
 *
 * userfaultfd needs privileges for faults the kernel takes on our behalf
 * (CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1), or /dev/userfaultfd
 * (5.11+; its file mode decides: root's alone, as Debian has it), which
 * is tried when the syscall says EPERM (root under a vigil policy has no
 * CAP_SYS_PTRACE). Without either this prints `no userfaultfd: ERRNO`
 * and exits 77. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char *page;
static long psize;

static void *opener(void *arg) {
    (void)arg;
    long r = syscall(SYS_openat, AT_FDCWD, page, O_RDONLY);
    int e = r < 0 ? errno : 0;
    printf("openat=%ld errno=%s\n", r, e ? strerrorname_np(e) : "0");
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv) {
    double hold = argc > 1 ? atof(argv[1]) : 60;
    psize = sysconf(_SC_PAGESIZE);
    int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (uffd < 0 && errno == EPERM) {
        int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
        if (dev >= 0) {
            uffd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
            close(dev);
        }
        if (uffd < 0) errno = EPERM;
    }
    if (uffd < 0) {
        printf("no userfaultfd: %s\n", strerrorname_np(errno));
        return 77;
    }
    struct uffdio_api api = {.api = UFFD_API};
    if (ioctl(uffd, UFFDIO_API, &api) < 0) {
        printf("no userfaultfd: UFFDIO_API %s\n", strerrorname_np(errno));
        return 77;
    }
    page = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct uffdio_register reg = {
        .range = {.start = (unsigned long)page, .len = psize},
        .mode = UFFDIO_REGISTER_MODE_MISSING,
    };
    if (page == MAP_FAILED || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
        printf("no userfaultfd: UFFDIO_REGISTER %s\n", strerrorname_np(errno));
        return 77;
    }
    pthread_t t;
    pthread_create(&t, NULL, opener, NULL);
    /* The fault arrives when the monitor reads the page. */
    struct pollfd p = {.fd = uffd, .events = POLLIN};
    int got = poll(&p, 1, 5000);
    printf("holding%s\n", got == 1 ? "" : " (no fault seen)");
    fflush(stdout);
    struct timespec ts = {(time_t)hold, (long)((hold - (time_t)hold) * 1e9)};
    nanosleep(&ts, NULL);
    char *src = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(src, "/nonexistent");
    struct uffdio_copy c = {.dst = (unsigned long)page, .src = (unsigned long)src, .len = psize};
    ioctl(uffd, UFFDIO_COPY, &c);
    pthread_join(t, NULL);
    return 0;
}
