# qemu/suite plug-in: hostile services and resource exhaustion.
# Sourced by qemu/suite (see its "Plug-in boots" comment); uses its helpers
# and globals ($A, $K, $work, $kdir, $mods, $initrd, $tool, $CC, ...).
#
# Boots (on the first kernel of each arch, to keep the suite inside its time
# budget; on every kernel with VIGIL_HOSTILE_ALL_KERNELS=1):
#   hostile          tests/qemu/hostile.conf: 64-thread notification flood,
#                    fork bomb under RLIMIT_NPROC, fd chaos + exec, signals
#                    to PID 1, ptrace / pidfd_getfd / /proc/1/mem of PID 1,
#                    a service's own seccomp filter, console flood, crash
#                    loop, stdio FIFOs nobody opens, the console's output
#                    stopped with a write held behind it, a userfaultfd fault
#                    held in a path argument for 60 s (one until vigil stops
#                    it after 10 s, one until power-off); a probe service
#                    times a notification every 100 ms throughout (bound:
#                    1 s).
#   hostile-limits   tests/qemu/hostile-limits.conf: out of pids, listener
#                    table full, `vigil run` at RLIMIT_NOFILE 3..16 and
#                    without /proc.
#   hostile-full     a config with MAX_SERVICES + 1 services: error, place.
#   hostile-stopped  a test program that stops the console's output and
#                    exits: PID 1 gives its result line up after 5 s and
#                    still powers off.
#   hostile-disk     a service still writing when power-off is signalled:
#                    every write it reported must be on the disk.
#   hostile-foreign  x86_64: x32 and i386 syscalls (also on Debian's generic
#                    kernel, linux-image-amd64, which has the x32 ABI);
#                    aarch64: an AArch32 busybox (armhf busybox-static).
# Env: VIGIL_HOSTILE_BOUND_MS (the probe's latency bound, default 1000),
#      VIGIL_HOSTILE_BOOTS="hostile disk ..." runs only those boots.

hostile_want() { case " ${VIGIL_HOSTILE_BOOTS:-hostile limits full stopped disk foreign} " in *" $1 "*) return 0 ;; esac; return 1; }

hostile_cache() { echo "${VIGIL_HOSTILE_CACHE:-$root/.cache/hostile}"; }

hostile_build() {
    "$CC" -static -O2 -Wall -pthread -o "$work/hostile-$A" tests/guest/hostile.c || return 1
    # MAX_SERVICES + 1 services: the last one is the error.
    local max i
    max=$(sed -n 's/^pub const MAX_SERVICES: usize = \([0-9]*\);/\1/p' src/core/config/mod.rs)
    {
        echo "# MAX_SERVICES ($max) + 1 services: a config error at the last one."
        for ((i = 0; i <= max; i++)); do
            printf 'service s%d {\n    exec /bin/hostile monitored\n}\n' "$i"
        done
    } >"$work/hostile-full.conf"
    HOSTILE_FULL_LINE=$((max * 3 + 2))
    if [ "$A" = aarch64 ]; then
        # An AArch32 program: Debian's armhf busybox-static.
        local c
        c=$(hostile_cache)/armhf
        if [ ! -f "$c/x/bin/busybox" ]; then
            mkdir -p "$c"
            if ! dpkg --print-foreign-architectures | grep -qx armhf; then
                dpkg --add-architecture armhf && apt-get update -q >/dev/null 2>&1
            fi
            (cd "$c" && apt-get download -q busybox-static:armhf >/dev/null 2>&1 \
                && dpkg -x busybox-static_*_armhf.deb x) || { echo "no busybox-static:armhf" >&2; return 1; }
        fi
    fi
}

hostile_files() {
    echo "--file"; echo "/bin/hostile=$work/hostile-$A"
    local f
    for f in hostile hostile-limits hostile-disk hostile-foreign-$A; do
        echo "--file"; echo "/etc/$f.conf=$kdir/$f.conf"
    done
    echo "--file"; echo "/etc/hostile-full.conf=$work/hostile-full.conf"
    echo "--file"; echo "/etc/hostile-run.policy=tests/qemu/hostile-run.policy"
    if [ "$A" = aarch64 ]; then
        echo "--file"; echo "/bin/busybox32=$(hostile_cache)/armhf/x/bin/busybox"
    fi
    # The configs as packed (the disk one gets this kernel's module lines).
    for f in hostile hostile-limits hostile-foreign-$A; do
        sed "s|/run/h/stop [0-9]*\$|/run/h/stop ${VIGIL_HOSTILE_BOUND_MS:-1000}|" \
            "tests/qemu/$f.conf" >"$kdir/$f.conf"
    done
    awk -v mods="$mods" '$1 == "@MODULES@" { print mods; next } { print }' \
        tests/qemu/hostile-disk.conf >"$kdir/hostile-disk.conf"
}

# The probe's numbers and checks (after a boot with a probe).
hostile_probe_checks() {
    local b=$1
    tests hostile.probe.answers hostile.probe.latency hostile.probe.stopped
    sed -n 's/^hostile: probe: /    probe: /p' "$LOG"
    has "$b.sigusr2-power-off" 'vigil: shutdown \(SIGUSR2\): power off'
    lacks "$b.no-other-shutdown" 'vigil: shutdown \((SIGTERM|SIGINT|SIGUSR1|SIGPWR)'
}

hostile_run() {
    if [ "$first" != 1 ] && [ "${VIGIL_HOSTILE_ALL_KERNELS:-}" != 1 ]; then return 0; fi
    # TCG on a loaded host sometimes fails the kernel's IO-APIC timer
    # check ("IO-APIC + timer doesn't work!" panic): skip that check.
    HOSTILE_APPEND=
    [ "$A" = x86_64 ] && HOSTILE_APPEND=no_timer_check

    # ---- hostile -------------------------------------------------------
    if hostile_want hostile; then
    boot hostile --append "$HOSTILE_APPEND quiet vigil.config=/etc/hostile.conf" --timeout 240
    sane hostile
    rc_is hostile.clean-shutdown 0 "$RC"
    hostile_probe_checks hostile
    tests hostile.flood hostile.forkbomb.bounded hostile.fdchaos.answers hostile.fdchaos.after-exec \
        hostile.signals.survived
    sed -nE 's/^hostile: ((flood|forkbomb|fdchaos|signals|console-flood|pid1|killpid1|own-filter)[^:]*: .*)/    \1/p' "$LOG" \
        | awk '!/signals:/ || !seen++'
    has hostile.bomb-uid-limited 'forkbomb: uid 2001, RLIMIT_NPROC 64'
    tests hostile.forkbomb.reaped
    tests hostile.pid1-user.ptrace-seize hostile.pid1-user.ptrace-attach hostile.pid1-user.proc-fd \
        hostile.pid1-user.pidfd-getfd hostile.pid1-user.mem \
        hostile.pid1-denied.ptrace-seize hostile.pid1-denied.ptrace-attach hostile.pid1-denied.pidfd-getfd \
        hostile.pid1-denied.mem
    tests hostile.killpid1.kill hostile.killpid1.tkill hostile.killpid1.tgkill \
        hostile.killpid1.rt_sigqueueinfo hostile.killpid1.pidfd_open
    tests hostile.own-filter-denied.no-second-listener hostile.own-filter-denied.denied \
        hostile.own-filter-denied.vigil-still-answers \
        hostile.own-filter-allowed.no-second-listener hostile.own-filter-allowed.ebusy \
        hostile.own-filter-allowed.vigil-still-answers
    has hostile.crashloop-gives-up '\[crashloop\] exited with status 1; failed: restarted 5 times within 10000 ms, giving up'
    lacks hostile.crashloop-no-7th '\[crashloop\] started, pid [0-9]+ \(start 7\)'
    has hostile.console-flood-done 'hostile: console-flood: 262144 bytes'
    # Nobody opens the FIFOs: starting those services must neither stall
    # vigil nor run them unmonitored (a `monitored` that ran exits 0 or 3).
    has hostile.fifo-out-fails 'vigil: error: \[fifo-out\] cannot start: opening its stdout /run/fifo-out as uid 0: ENXIO'
    has hostile.fifo-out-gives-up '\[fifo-out\] exited with status 126; failed: restarted 2 times'
    has hostile.fifo-in-runs '\[fifo-in\] exited with status 0'
    lacks hostile.fifo-never-unmonitored '\[fifo-(in|out)\] exited with status 3'
    lacks hostile.no-fatal 'vigil: error: (poll|cannot boot)'
    # A throttled service's restarts: leftovers killed, no hand-over stall
    # (the probe's latency above is the measure).
    has hostile.cpuhog-leftovers-killed '\[cpuhog\] killed [0-9]+ leftover processes of its last run \(its cgroup\)'
    has hostile.cpuhog-restarted '\[cpuhog\] started, pid [0-9]+ \(start 2\)'
    lacks hostile.cpuhog-no-handover-timeout '\[cpuhog\] cannot start: the listener hand-over failed'
    # The console stopped for 3 s with a write held behind it: the probe's
    # decisions are logged meanwhile (its latency above is the measure),
    # and it kept answering through the phase.
    has hostile.console-hold-done 'hostile: console-hold: output stopped for [0-9]+ ms \(TCOON 0\)'
    local held
    held=$(sed -nE 's/^hostile: probe: phase console-hold +samples +([0-9]+) .*/\1/p' "$LOG" | head -n1)
    check hostile.console-hold-probed "$([ "${held:-0}" -ge 10 ] && echo 0 || echo 1)" \
        "the probe answered ${held:-no} times while the console was held, want >= 10"
    # A fault held in a path argument: vigil's loop (the probe) never
    # waits; the worker is killed after 10 s and the service stopped; a
    # second one still holding at power-off does not delay it.
    in_order hostile.uffd-stopped-after-10s 'hostile: uffd: holding' \
        'vigil: error: \[uffd\] pid [0-9]+ openat: not served within 10 s: its worker is killed, the call fails with EIO; the service is stopped as misbehaving' \
        '\[uffd\] killed by signal 9'
    lacks hostile.uffd-never-let-go 'hostile: uffd: held'
    has hostile.uffd-late-holding 'hostile: uffd-late: holding'
    in_order hostile.uffd-late-held-at-shutdown 'hostile: uffd-late: holding' 'vigil: shutdown \(SIGUSR2\)'
    local off_ms
    off_ms=$(sed -nE 's/^vigil: shutdown: power off \(([0-9]+) ms\).*/\1/p' "$LOG" | tail -n1)
    check hostile.uffd-shutdown-not-delayed "$([ -n "$off_ms" ] && [ "$off_ms" -lt 4000 ] && echo 0 || echo 1)" \
        "power off after '${off_ms:-?}' ms (grace 1 s)"
    sed -nE 's/^(vigil: error: \[uffd\] .*)/    \1/p; s/^(vigil: shutdown: power off .*)/    \1/p' "$LOG"

    fi

    # ---- hostile-limits ------------------------------------------------
    if hostile_want limits; then
    boot hostile-limits --append "$HOSTILE_APPEND quiet vigil.config=/etc/hostile-limits.conf" --timeout 240
    sane hostile-limits
    rc_is hostile-limits.clean-shutdown 0 "$RC"
    hostile_probe_checks hostile-limits
    sed -nE 's/^hostile: ((pidhog|fdlimit|noproc|mkdirs|monitored)[^:]*: .*)/    \1/p' "$LOG"
    tests hostile.pidhog hostile.fdlimit hostile.noproc
    in_order hostile-limits.eagain-then-restart 'pidhog: pid_max 400' \
        'vigil: error: \[restarter\] cannot start: fork failed: EAGAIN' \
        'pidhog: released' '\[restarter\] started'
    has hostile-limits.eagain-backoff '\[restarter\] exited with status 127; restart [0-9]+ in [0-9]+ ms'
    in_order hostile-limits.listener-table-full '\[leaker\] started' \
        'vigil: error: \[leaker\] cannot start: listener table full' '\[leaker\] .*giving up'
    local leaks
    leaks=$(grep -c '\[leaker\] started' "$LOG")
    echo "    leaker: $leaks starts before the listener table was full"
    has hostile-limits.noproc-logged 'vigil: error: \[hostile\] pid [0-9]+ mkdir(at)?: cannot read the target.s root or credentials in /proc: ENOENT: denied'
    has hostile-limits.noproc-denied 'mkdirs: relative (ENOENT|EACCES|EOPNOTSUPP|EPERM) \(exists 0\)'
    local unmon
    unmon=$(grep "hostile: monitored: getppid" "$LOG" | grep -v " 4242$" | head -n1)
    check hostile-limits.never-unmonitored "$([ -z "$unmon" ] && echo 0 || echo 1)" "$unmon"
    grep -q 'monitored: getppid 4242' "$LOG"
    check hostile-limits.fdlimit-some-monitored $? "no \`vigil run\` under a low fd limit ran its program"

    fi

    # ---- hostile-full --------------------------------------------------
    if hostile_want full; then
    boot hostile-full --append "$HOSTILE_APPEND quiet vigil.config=/etc/hostile-full.conf" --timeout 60
    sane hostile-full
    in_order hostile-full.error-then-power-off \
        "^/etc/hostile-full.conf:$HOSTILE_FULL_LINE:1: error: too many services" \
        'vigil: error: cannot boot: the config is invalid' \
        'vigil: shutdown: power off \([0-9]+ ms\)'
    lacks hostile-full.nothing-started '\[s[0-9]+\] started'

    fi

    # ---- hostile-stopped -----------------------------------------------
    if hostile_want stopped; then
    # Without a bound on PID 1's last writes, it would wait for the console
    # for good and QEMU would be killed at the deadline.
    boot hostile-stopped --append "$HOSTILE_APPEND quiet vigil.config=/etc/test.conf vigil.test=/bin/hostile vigil.args=console-stop,16" --timeout 60
    sane hostile-stopped
    rc_is hostile-stopped.no-result-line 125 "$RC"
    # kmsg (printed by the kernel's console, which the stop does not hold).
    has hostile-stopped.result-given-up 'vigil: error: the console was busy for 5 s: not written to it: vigil\\x3a test exit=0'

    fi

    # ---- hostile-disk --------------------------------------------------
    if hostile_want disk; then
    local img="$kdir/hostile-disk.img" last got n missing i
    rm -f "$img"
    truncate -s 16M "$img" && mkfs.ext2 -q -F "$img" >/dev/null 2>&1
    boot hostile-disk --append "$HOSTILE_APPEND quiet vigil.config=/etc/hostile-disk.conf" --disk "$img" --timeout 120
    sane hostile-disk
    tests disk.mount
    in_order hostile-disk.writing-at-power-off 'hostile: durable: written 500' \
        'vigil: shutdown \(SIGUSR2\): power off' 'vigil: shutdown: stopping \[durable\]' \
        'vigil: shutdown: synced'
    last=$(sed -nE 's/^hostile: durable: written ([0-9]+).*/\1/p' "$LOG" | tail -n1)
    got=$(debugfs -R 'cat /log.txt' "$img" 2>/dev/null)
    n=$(printf '%s\n' "$got" | grep -c '^record ')
    # Every record up to the last one reported, in order, none torn.
    missing=$(printf '%s\n' "$got" | awk -v last="${last:-0}" '
        $0 ~ /^record [0-9]+$/ { if ($2 != k) { print "record " k " missing"; exit } k++; next }
        NF { print "torn line: " $0; exit }
        END { if (k <= last) print "only " k " records, " last " reported written" }')
    check hostile-disk.every-record "$([ -n "$last" ] && [ -z "$missing" ] && echo 0 || echo 1)" \
        "${missing:-no 'written' line}"
    missing=
    files=$(( ${last:-0} / 50 < 799 ? ${last:-0} / 50 : 799 ))   # the writer stops at 800 files
    for ((i = 0; i <= files; i++)); do
        [ "$(debugfs -R "cat /f$i" "$img" 2>/dev/null)" = "record $((i * 50))" ] || missing="$missing f$i"
    done
    check hostile-disk.every-file "$([ -z "$missing" ] && echo 0 || echo 1)" "missing or wrong:$missing"
    echo "    durable: last reported record ${last:-none}, $n records on the disk, $((files + 1)) files checked"
    state=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Filesystem state: *//p')
    check hostile-disk.left-clean "$([ "$state" = clean ] && echo 0 || echo 1)" "ext2 state '$state'"

    fi

    # ---- hostile-foreign -----------------------------------------------
    if hostile_want foreign; then
    hostile_foreign "$KERNEL"
    if [ "$A" = x86_64 ] && [ "$first" = 1 ]; then
        # Debian's generic kernel has CONFIG_X86_X32_ABI=y (the cloud one not).
        local paths k_save=$K kernel_save=$KERNEL
        if paths=$("$here/fetch" x86_64 linux-image-amd64); then
            KERNEL=$(sed -n 's/^KERNEL=//p' <<<"$paths")
            K=$(sed -n 's/^KERNEL_RELEASE=//p' <<<"$paths")
            # Debian builds it with CONFIG_X86_X32_DISABLED: enable it.
            HOSTILE_APPEND="$HOSTILE_APPEND syscall.x32=y"
            hostile_foreign "$KERNEL" generic
        else
            LOG=/dev/null; bad hostile-foreign.fetch "qemu/fetch x86_64 linux-image-amd64 failed"
        fi
        K=$k_save KERNEL=$kernel_save
    fi
    fi
}

hostile_foreign() {
    local generic=${2:-}
    boot hostile-foreign --append "$HOSTILE_APPEND quiet vigil.config=/etc/hostile-foreign-$A.conf" --timeout 120
    sane hostile-foreign
    has hostile-foreign.power-off 'vigil: shutdown \(SIGUSR2\): power off'
    if [ "$A" = x86_64 ]; then
        has hostile-foreign.x32-killed '\[x32\] killed by signal 31'
        has hostile-foreign.i386-killed '\[i386\] killed by signal 31'
        lacks hostile-foreign.filtered-never-ran 'foreign (x32|i386): the call returned.*getppid 4242'
        has hostile-foreign.i386-runs-unfiltered 'foreign i386: the call returned [0-9]+'
        sed -nE 's/^hostile: (foreign .*)/    \1/p' "$LOG"
        if [ -n "$generic" ]; then
            # Proof that the kernel runs x32: without a filter the call works.
            has hostile-foreign.x32-runs-unfiltered 'foreign x32: the call returned [0-9]+ '
        fi
    else
        has hostile-foreign.arm32-killed '\[arm32\] killed by signal 31'
        lacks hostile-foreign.arm32-filtered-never-ran 'arm32 ran under the policy'
        has hostile-foreign.arm32-runs-unfiltered 'hostile: arm32 ran without a policy'
    fi
}
