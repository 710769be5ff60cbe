# qemu/suite plug-in "monitor": the monitor's emulation under attack with
# PID 1 as the monitor (issue 12, part B), on every arch and kernel. One
# boot, config tests/qemu/monitor.conf: oneshots one after the other, each
# running /bin/pathops (tests/progs/pathops.c), which prints one
# `TEST TAG.OP:PATH: ok|FAIL got X, want Y` line per check:
#   ll, llnative       Landlock rules of the service apply to what vigil
#                      emulates for it (and what the kernel says without
#                      vigil)
#   caps, capsnative   root with `capabilities none`: no capabilities
#                      through vigil either
#   sym, symnative     fs.protected_symlinks/regular/fifos/hardlinks and a
#                      nosymfollow mount, with and without vigil
#   alias, aliasuser, aliasfd
#                      a forbidden directory bind-mounted under an allowed
#                      one from a mount namespace of the target's own (as
#                      root; as uid 1000 in a user namespace), or passed in
#                      as a directory fd from one: EXDEV
#   rename             renaming an ancestor of a denied prefix: refused
#   runuser           `vigil run` as uid 1000 with Yama's ptrace_scope 1:
#                      vigil opens the target's memory for its worker
#   nsview, jail, pidns
#                      the worker serves from the service's own mount
#                      namespace (private /tmp, read-only bind), root
#                      (chroot) and pid namespace (its /proc)
# The attack of item 10 (a fault held in a path argument) is in the
# hostile boot (qemu/boots/hostile.sh), where a probe measures latency.

MON_TESTS="ll.read:/srv/mon/ll/ro/f ll.read:/srv/mon/ll/no/f ll.write:/srv/mon/ll/rw/x
ll.write:/srv/mon/ll/ro/x ll.mkdir:/srv/mon/ll/no/d ll.mknod:/srv/mon/ll/no/p
ll.rename:/srv/mon/ll/rw/x
caps.read:/srv/mon/caps/theirs caps.write:/srv/mon/caps/dir/x caps.chmod:/srv/mon/caps/theirs
capsnative.read:/srv/mon/caps/theirs capsnative.write:/srv/mon/caps/dir/x
capsnative.chmod:/srv/mon/caps/theirs
alias.read:/srv/mon/alias/secret/data alias.unshare alias.bind:/srv/mon/alias/allowed/x
alias.read:/srv/mon/alias/allowed/x/data
aliasuser.uid aliasuser.userns aliasuser.bind:/srv/mon/alias/allowed/x
aliasuser.read:/srv/mon/alias/allowed/x/data aliasfd.uid aliasfd.passfd
rename.rename:/srv/mon/ren/a/sub rename.read:/srv/mon/ren/a/sub2/private/data
rename.exchange:/srv/mon/ren/a/pub rename.rename:/srv/mon/ren/a/pub
nsview.write:/tmp/x nsview.read:/tmp/x nsview.read:/tmp/host-marker
nsview.write:/srv/mon/ro/x nsview.mkdir:/srv/mon/ro/d
jail.read:/etc/jailfile jail.read:/srv/mon/caps/theirs jail.write:/tmp/y
pidns.read:/proc/self/comm pidns.read:/proc/1/comm pidns.write:/tmp/pidns
runuser.read:/srv/mon/runuser/f runuser.write:/srv/mon/runuser/g runuser.read:/srv/mon/runuser/g
runuser.read:/srv/mon/caps/rootonly runuser.mkdir:/srv/mon/nope"

# The same checks for `sym` and `symnative`, and `ll` and `llnative`.
MON_SYM="read:/srv/mon/sticky/ln read:/srv/mon/sticky/mine read:/srv/mon/nsf/ln
read:/srv/mon/nsf/dirln/f read:/srv/mon/nsf/dir/f write:/srv/mon/sticky/theirs
write:/srv/mon/sticky/fifo uid link:/srv/mon/caps/rootonly"
MON_LLNATIVE="read:/srv/mon/ll/ro/f read:/srv/mon/ll/no/f write:/srv/mon/ll/rw/x
write:/srv/mon/ll/ro/x mkdir:/srv/mon/ll/no/d mknod:/srv/mon/ll/no/p
rename:/srv/mon/ll/rw/x"

monitor_build() {
    "$CC" -static -O2 -Wall -o "$work/pathops-$A" tests/progs/pathops.c
}

monitor_files() {
    printf '%s\n' --file "/bin/pathops=$work/pathops-$A" \
        --file "/etc/monitor.conf=tests/qemu/monitor.conf"
    local f
    for f in tests/qemu/mon/*.ops tests/qemu/mon/*.policy; do
        printf '%s\n' --file "/etc/mon/$(basename "$f")=$f"
    done
}

monitor_run() {
    boot monitor --append "quiet vigil.config=/etc/monitor.conf" --timeout 150
    sane monitor
    rc_is monitor.exit-status 0 "$RC"
    has monitor.setup-done '^mon-setup: done'
    local t
    # shellcheck disable=SC2086
    tests $MON_TESTS
    for t in $MON_SYM; do tests "sym.$t" "symnative.$t"; done
    for t in $MON_LLNATIVE; do tests "llnative.$t"; done
    has monitor.alias-logged 'vigil: error: \[alias\] pid [0-9]+ openat: its mount namespace is not the one it started with: EXDEV: denied'
    has monitor.aliasfd-logged 'vigil: error: \[alias-fd\] pid [0-9]+ openat: its dirfd or cwd is not the one its path names'
    has monitor.rename-logged '\[rename\] pid [0-9]+ rename(at2?)? .*: deny EPERM \(it would move a path across a rule\)'
    if grep -q '^mon-setup: yama ptrace_scope 1' "$LOG"; then
        has monitor.runuser-mem-from-vigil "vigil: \\[pathops\\] its worker may not read its memory"
    fi
    lacks monitor.no-worker-trouble "vigil: error: .*(worker|cannot read the target)"
}
