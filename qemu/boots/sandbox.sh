# Plug-in boot of qemu/suite: per-service sandboxing (tests/qemu/sandbox.conf,
# probe tests/guest/sbx.c). Each directive is tried against and within:
# capabilities, no-new-privs, namespaces (net/ipc/uts/cgroup/pid), read-only
# binds, private /tmp, root (chroot escape), read-only root, Landlock (or its
# warning and refusal in a second boot with Landlock left out of `lsm=`),
# cgroup v2 limits, env-pass.

sandbox_build() {
    "$CC" -static -O2 -Wall -o "$work/sbx-$A" tests/guest/sbx.c
}

sandbox_files() {
    local f
    for f in "/bin/sbx=$work/sbx-$A" "/srv/jail/bin/sbx=$work/sbx-$A" \
        /etc/sandbox.conf=tests/qemu/sandbox.conf \
        /srv/ll/ok/f=tests/qemu/sandbox.conf /srv/ll/no/f=tests/qemu/sandbox.conf; do
        printf '%s\n' --file "$f"
    done
    for f in /srv/ns /srv/ro /srv/rw /srv/ll/rw /srv/jail/tmp; do
        printf '%s\n' --dir "$f"
    done
}

sandbox_run() {
    boot sandbox --append "quiet vigil.config=/etc/sandbox.conf SBX_PASS=hello" --timeout 90
    sane sandbox
    rc_is sandbox.test-exit 0 "$RC"
    lacks sandbox.cgroup2-mounted 'mount cgroup2 on /sys/fs/cgroup'
    # Capabilities: port 80 as uid 1000 only with CAP_NET_BIND_SERVICE.
    tests nocaps.bind:80 nocaps.bind:8080 caps.bind:80 caps.caps:CapEff caps.caps:CapBnd \
        caps.caps:CapAmb rootnocaps.bind:80 rootnocaps.caps:CapEff rootnocaps.caps:CapBnd
    tests nnp.nnp nnpoff.nnp
    # Namespaces.
    tests nocaps.ns-new:net \
        caps.ns-new:net ns.ns-new:ipc ns.ns-new:uts ns.ns-new:cgroup \
        ns.ns-same:net ns.ns-same:pid ns.ns-same:mnt
    # A pid namespace: PID 1 there, its own /proc, vigil serves and reaps it.
    tests pidns.pid1 pidns.proc-only-self pidns.getppid pidns.ns-new:pid pidns.ns-new:mnt
    has sandbox.pidns-notification-pid '\[pidns\] pid ([2-9]|[1-9][0-9]+) getppid: return 4242'
    has sandbox.pidns-reaped '\[pidns\] exited with status 0'
    # Read-only binds and a private /tmp.
    tests ro.write:/srv/ro/x ro.write:/srv/rw/x ro.read:/tmp/host-marker ro.write:/tmp/private \
        tmpcheck.read:/tmp/private tmpcheck.read:/tmp/host-marker
    # Roots: no way out. Both are chroots here (a root on the initramfs
    # rootfs cannot pivot_root), one of them in its own mount namespace.
    local t
    for t in jail jailns; do
        tests $t.jail-visible $t.host-hidden $t.chroot-denied $t.chroot-dot-denied \
            $t.dotdot-walk $t.cwd-at-root $t.root-dotdot-is-root
    done
    tests jailns.write:/x jailns.write:/tmp/y
    # Landlock, where the kernel has it (Debian's do); its warning where not.
    sandbox_landlock
    # cgroup v2 limits.
    tests cg.forks-below-max cg.fork-at-max cg.cg:pids.max cg.cg:memory.max cg.cg:cpu.max
    tests envpass.env:SBX_PASS envpass.env:HOME envpass.env:SBX_NOPE envpass.env:TERM
    # Again with Landlock left out of the kernel's LSM list: the optional
    # service starts with a warning, the required one is refused.
    boot sandbox-nolandlock --append "quiet vigil.config=/etc/sandbox.conf SBX_PASS=hello lsm=capability,yama" --timeout 90
    sane sandbox-nolandlock
    rc_is sandbox-nolandlock.test-exit 0 "$RC"
    has sandbox-nolandlock.abi-0 'SBX landlock-abi=0 '
    sandbox_landlock
}

# The Landlock checks of the boot in $LOG, by what the kernel has.
sandbox_landlock() {
    local abi
    abi=$(sed -nE 's/.*SBX landlock-abi=([0-9]+).*/\1/p' "$LOG" | head -n1)
    if [ "${abi:-0}" -gt 0 ]; then
        echo "   ($A $K: Landlock ABI $abi: enforced)"
        tests ll.read:/srv/ll/ok/f ll.read:/srv/ll/no/f ll.write:/srv/ll/rw/x \
            ll.write:/srv/ll/ok/x llreq.read:/srv/ll/ok/f llreq.read:/srv/ll/no/f
        lacks sandbox.landlock-no-warning 'Landlock is not available'
    else
        echo "   ($A $K: no Landlock in this boot: checking the warning instead)"
        tests ll.read:/srv/ll/ok/f ll.write:/srv/ll/rw/x
        has sandbox.landlock-optional-warns '\[ll\] Landlock is not available in this kernel'
        has sandbox.landlock-required-refuses '\[llreq\] cannot start: Landlock is required'
        lacks sandbox.landlock-required-not-started '\[llreq\] started'
    fi
}
