# qemu/suite plug-in "edge": the seccomp user-notification edge cases of
# tests/edge.rs inside the guest, on every arch and kernel (6.1 lacks
# SYNC_WAKE_UP and RECV's ENOENT, so it runs vigil's fallbacks; 6.12 has
# them). One boot per kernel, config tests/qemu/edge.conf: oneshots run one
# after the other, each printing `TEST edge.NAME: ok|FAIL why`.
#   PID 1 is the monitor (services under tests/qemu/edge.policy):
#     toctou    a thread flips an openat path between an allowed and a
#               forbidden file of the same length: never opens the forbidden
#               one (attempts: see the TCG note below)
#     creds     a uid-65534 service with umask 027: vigil opens and mkdirs
#               with its credentials (no read of a root-only file; 65534:750)
#     restart   SA_RESTART signals during emulated mkdirs: none runs twice
#     fair      three flooding children do not starve a fourth (max < 1 s)
#     threads   8 threads, 3200 opens, all filtered and served
#   a fresh `/init run` per scenario, driven by tests/guest/edge-drive.c:
#     held-id-valid, held-send   the target is SIGKILLed while vigil holds
#               its notification (tests/progs/holdkill.c traces vigil to its
#               NOTIF_ID_VALID / NOTIF_SEND); vigil serves on, exit 0
#     nofile    ADDFD at RLIMIT_NOFILE: EMFILE, vigil's fds unchanged
#     pending   the last task dies with a notification pending while vigil
#               is stopped: vigil sees POLLHUP and exits 137
# Also checks the probed feature line of PID 1 and of `/init run` against
# the kernel. The programs are tests/progs/*.c built static with $CC.
#
# TCG time (2 vCPUs, so the flipping thread really runs beside vigil; one
# vCPU is ~1.5x faster but the flip would then almost never land between
# vigil's read of the path and its open): a TOCTOU attempt is a
# notification round trip with ADDFD, ~1 ms on x86_64 and ~2-4.5 ms on
# aarch64 on a quiet host, and several times that with the other arch's
# suite beside it (qemu/test-all runs both at once): 100000 attempts (the
# count of tests/edge.rs) took 400 s on x86_64 and overran a 650 s deadline
# on aarch64; 10000 took 134 s on aarch64 6.1 (13 ms each, no SYNC_WAKE_UP)
# beside the x86_64 suite. So the guest runs 10000 on x86_64 and 3000 on
# aarch64, and the host test keeps the full count on the host's arch. The
# rest of a boot is ~20 s (x86_64) to ~60 s (aarch64 6.1), more beside the
# other suite. VIGIL_EDGE_TOCTOU=N sets N.

EDGE_PROGS=(toctou held holdkill nofile pending restart fair threads)

edge_toctou_attempts() {
    if [ -n "${VIGIL_EDGE_TOCTOU:-}" ]; then
        echo "$VIGIL_EDGE_TOCTOU"
    elif [ "$A" = aarch64 ]; then
        echo 3000
    else
        echo 10000
    fi
}

edge_build() {
    local p
    for p in "${EDGE_PROGS[@]}"; do
        "$CC" -static -O2 -Wall -pthread -o "$work/edge-$p-$A" "tests/progs/$p.c" || return 1
    done
    "$CC" -static -O2 -Wall -o "$work/edge-drive-$A" tests/guest/edge-drive.c || return 1
}

# One argument per line. Also writes this kernel's edge.conf: the policy of
# tests/qemu/edge.policy (without comments) pasted into it.
edge_files() {
    local p
    awk -v n="$(edge_toctou_attempts)" '
        FNR == NR { if ($0 !~ /^#/ && $0 != "") pol = pol "    " $0 "\n"; next }
        $1 == "@EDGE_POLICY@" { printf "%s", pol; next }
        { gsub(/@TOCTOU_ATTEMPTS@/, n); print }' \
        tests/qemu/edge.policy tests/qemu/edge.conf >"$kdir/edge.conf"
    printf '%s\n' --file "/etc/edge/edge.conf=$kdir/edge.conf" \
        --file "/etc/edge/edge.policy=tests/qemu/edge.policy" \
        --file "/edge/drive=$work/edge-drive-$A"
    for p in "${EDGE_PROGS[@]}"; do
        printf '%s\n' --file "/edge/$p=$work/edge-$p-$A"
    done
}

edge_run() {
    local n
    n=$(edge_toctou_attempts)
    boot edge --append "quiet vigil.config=/etc/edge/edge.conf" --smp 2 \
        --timeout $((240 + n / 50))
    sane edge
    rc_is edge.exit-status 0 "$RC"
    has edge.config-loaded 'vigil: PID 1 up in [0-9]+ us, config /etc/edge/edge.conf'
    local feats
    case $K in
        6.1.*) feats='sync-wake-up no, addfd yes, addfd-send yes' ;;
        *) feats='sync-wake-up yes, addfd yes, addfd-send yes' ;;
    esac
    has edge.kernel-features "^vigil: kernel: wait-killable-recv yes, $feats\$"
    has edge.run-kernel-features "^edge-run: vigil: kernel: wait-killable-recv yes, $feats\$"
    tests edge.toctou edge.creds edge.restart edge.fair edge.threads \
        edge.held-id-valid edge.held-send edge.nofile edge.pending
    has edge.toctou-attempts "^edge: toctou attempts=$n leaks=0 "
    lacks edge.no-errors 'vigil: error:'
}
