#!/bin/sh
# Guest side of qemu/boots/harden.sh (tests/qemu/harden.conf): one mode per
# service, one `TEST MODE.NAME: ok|FAIL why` line per check. /bin/attack is
# tests/progs/attack.c; it exits 0 when its attack was blocked.
B=/bin/busybox
A=/bin/attack
mode=$1

# t NAME ARGS...: the attack must be blocked.
t() {
    n=$1
    shift
    out=$($A "$@" 2>&1)
    rc=$?
    if [ $rc = 0 ]; then
        echo "TEST $mode.$n: ok"
    else
        echo "TEST $mode.$n: FAIL (status $rc) $out"
    fi
}

case $mode in
sigs | sigs-default)
    # Root, under `default allow` alone (sigs) or the embedded default
    # policy: every way to signal, trace, limit or starve PID 1, and to
    # end its machine behind its back. Each would shut the machine down,
    # kill PID 1 (a kernel panic) or stop it if it went through.
    export ATTACK_TARGET=1
    t kill64-term kill64 15
    t tgsigqueue-usr1 tgsigqueue 10
    t setown-term setown 15
    t pidfd-proc-usr2 pidfd-proc 12
    t seize seize
    t prlimit prlimit
    t perf perf
    t nice nice
    t machine machine
    t reboot reboot
    ;;
fanotify)
    # A pidfd of PID 1 without pidfd_open: a fanotify event for a file PID
    # 1 opened for us; then its descriptors, other services' listeners
    # among them, with pidfd_getfd.
    export ATTACK_TARGET=1
    t steal fanotify /etc/harden-inner.conf
    ;;
ownpidns)
    # PID 1 of a pid namespace of its own, under the same one-line policy:
    # it cannot name vigil, and signals its own init (itself) freely.
    trap 'echo "TEST ownpidns.kill-own-init: ok"' USR1
    kill -USR1 1 || echo "TEST ownpidns.kill-own-init: FAIL kill says $?"
    $B sleep 0.3
    ;;
limits)
    # No policy: nothing filters prlimit. PID 1's RLIMIT_CPU (soft and hard)
    # goes to the CPU time it has used plus 2 s while the flood service
    # keeps its loop busy. The machine's init ignores even the kernel's
    # SIGKILL at the hard limit (the container below does not), but vigil
    # must put the limit back all the same.
    $B sleep 1
    $A lower-cpu 1 2
    $B sleep 3
    if $B grep -q 'Max cpu time *unlimited *unlimited' /proc/1/limits; then
        echo "TEST limits.cpu-reset: ok"
    else
        echo "TEST limits.cpu-reset: FAIL $($B grep 'Max cpu' /proc/1/limits)"
    fi
    ;;
inner-limits)
    # Inside the container below: the same attack on its PID 1 (a vigil
    # that the kernel does kill at the hard limit), during a flood.
    $B sleep 1
    $A lower-cpu 1 2
    $B sleep 11
    echo "inner-limits: PID 1 used $($B cut -d' ' -f14,15 /proc/1/stat) ticks (user, system)"
    kill -USR2 1
    exit 0
    ;;
container)
    # vigil as PID 1 of a pid + mount namespace (a container, as tini is
    # used), with its stdout on a tmpfs whose source looks like a disk: at
    # its shutdown that mount is busy, so a vigil that took the machine's
    # mounts for its own would remount it read-only, for the whole machine.
    # It also survives the RLIMIT_CPU attack (inner-limits) or is killed
    # (status 137 instead of 130).
    # After the limits test: the floods would slow each other.
    i=0
    while [ ! -e /run/harden/limits ] && [ $i -lt 300 ]; do
        $B sleep 0.1
        i=$((i + 1))
    done
    $B mkdir -p /srv/c
    $B mount -t tmpfs /dev/harden-disk /srv/c || echo "TEST container.setup: FAIL mount"
    host=$($B hostname)
    $B unshare -m -p -f --mount-proc --propagation private /bin/sh -c \
        "$B mount --bind /etc/harden-inner.conf /etc/harden.conf && exec /init >/srv/c/inner.log 2>&1"
    echo "container: the inner PID 1 ended with status $?"
    $B sed 's/^/inner| /' /srv/c/inner.log
    if $B touch /srv/c/after 2>/dev/null; then
        echo "TEST container.mount-still-writable: ok"
    else
        echo "TEST container.mount-still-writable: FAIL $($B grep ' /srv/c ' /proc/mounts)"
    fi
    if [ "$($B hostname)" = "$host" ]; then
        echo "TEST container.hostname-kept: ok"
    else
        echo "TEST container.hostname-kept: FAIL now $($B hostname)"
    fi
    ;;
stop)
    # Until every other mode is done, or 90 s.
    i=0
    for m in sigs sigs-default fanotify ownpidns limits container; do
        while [ ! -e /run/harden/$m ] && [ $i -lt 900 ]; do
            $B sleep 0.1
            i=$((i + 1))
        done
    done
    echo "harden: sending SIGUSR2 to PID 1"
    kill -USR2 1
    exit 0
    ;;
esac
$B mkdir -p /run/harden
$B touch "/run/harden/$mode"
