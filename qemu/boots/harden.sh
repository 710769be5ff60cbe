# qemu/suite plug-in: issue 12's attacks on PID 1, for real (one boot per
# kernel and arch, tests/qemu/harden.conf, guest side tests/guest/harden.sh,
# attacks tests/progs/attack.c):
#   - root services under `default allow` alone, and under the embedded
#     default policy, try every way to signal PID 1 (the pid with its high
#     half set, rt_tgsigqueueinfo, F_SETOWN + F_SETSIG, pidfd_send_signal on
#     /proc/1), to trace it, lower its limits, starve it, give it SIGTRAP
#     through perf, and to reboot the machine: only the stopper's SIGUSR2
#     may shut it down;
#   - a root service whose opens PID 1 performs (a paths block that only
#     logs) gets a pidfd of PID 1 from a fanotify event and tries to take
#     its descriptors (pidfd_getfd);
#   - a service that is PID 1 of its own pid namespace signals itself;
#   - with no policy, a service lowers PID 1's RLIMIT_CPU to what it used
#     plus 2 s while another floods it with notifications: vigil must put
#     it back (the machine's init ignores even the kernel's SIGKILL);
#   - vigil as PID 1 of a container inside the guest must leave the
#     guest's mounts (a busy one whose source looks like a disk) and
#     hostname alone, survive the same RLIMIT_CPU attack (a container's
#     init is killed at the hard limit), and end with SIGINT (power off).

harden_build() {
    "$CC" -static -O2 -Wall -pthread -o "$work/attack-$A" tests/progs/attack.c
}

harden_files() {
    printf '%s\n' --file "/bin/attack=$work/attack-$A" \
        --file /etc/harden.conf=tests/qemu/harden.conf \
        --file /etc/harden-inner.conf=tests/qemu/harden-inner.conf
}

harden_run() {
    boot harden --append "quiet vigil.config=/etc/harden.conf" --timeout 150
    sane harden
    # No test program, a shutdown in order: vigil-qemu says 0.
    rc_is harden.exit-status 0 "$RC"
    local m
    for m in sigs sigs-default; do
        tests $m.kill64-term $m.tgsigqueue-usr1 $m.setown-term $m.pidfd-proc-usr2 \
            $m.seize $m.prlimit $m.perf $m.nice $m.machine $m.reboot
    done
    tests fanotify.steal ownpidns.kill-own-init limits.cpu-reset
    has harden.cpu-limit-reset \
        'vigil: warning: RLIMIT_CPU of vigil was lowered to [0-9]+/[0-9]+: reset to unlimited/unlimited'
    sed -nE 's/^(inner\| )?(flood|lower-cpu|inner-limits): /    \1\2: /p' "$LOG"
    tests container.mount-still-writable container.hostname-kept
    has harden.container-detected '^inner\| vigil: PID 1 of a container'
    has harden.container-mounts-alone "^inner\| vigil: shutdown: in a container: the machine's mounts are left alone"
    has harden.container-hostname "^inner\| vigil: warning: hostname: not set"
    has harden.container-cpu-reset \
        '^inner\| vigil: warning: RLIMIT_CPU of vigil was lowered to [0-9]+/[0-9]+: reset to unlimited/unlimited'
    has harden.container-ends-by-sigint 'container: the inner PID 1 ended with status 130'
    lacks harden.machine-is-no-container '^vigil: PID 1 of a container'
    in_order harden.only-the-stopper-shuts-down 'harden: sending SIGUSR2 to PID 1' \
        'vigil: shutdown \(SIGUSR2\): power off' 'vigil: shutdown: power off \([0-9]+ ms\)'
    lacks harden.no-other-shutdown 'vigil: shutdown \((SIGTERM|SIGINT|SIGUSR1|SIGPWR)'
    lacks harden.no-errors '^vigil: error:'
}
