# qemu/suite plug-in "run": `vigil-qemu run` and `matrix` as a user runs
# them, one command per check, the test program being
# tests/guest/runtest.c (static, per arch) or a program of the host. Not a
# boot of the suite's initramfs: each check is its own VM, built by
# `vigil-qemu run` (vigil's embedded config plus the generated one, the
# result channel, the shares).
#
# On the first kernel of each arch:
#   run.exit0/1/77, run.kill9    the test's status is the command's, and
#                                stdout is the test's own output, nothing else
#   run.args                     arguments with spaces and quotes arrive whole
#   run.policy                   --policy: vigil answers the test's getppid
#   run.share-rw                 a file written in a read-write share is on
#                                the host (virtio-fs, virtiofsd)
#   run.share-9p                 the same over 9p, on Debian's generic kernel
#   run.panic                    sysrq c: 126, "KERNEL PANIC"
#   run.timeout                  a test that hangs: 124 at the deadline
#   run.forge                    the test prints `vigil: test exit=0`, has
#                                vigil log a path holding it, tries to open
#                                the result channel (EBUSY) and leaves a child
#                                printing it, then exits 1: the command says 1
#   x86_64 (the host's arch): run.python3, run.git: Debian's python3 -c and
#   git --version from the host's / (read-only share) print what they print
#   on the host and exit as there
#   aarch64: run.script: a #!/bin/sh script under the guest's busybox
#   bad input, refused before QEMU starts (exit 2, no boot); QEMU that
#   cannot start (125)
#   x86_64 only: run.matrix: matrix over 2 arches x 2 kernels, -j 1, table
#   and JUnit XML
# On the other kernels: run.exit3 and run.share-rw.

run_build() {
    "$CC" -static -O2 -Wall -o "$work/runtest-$A" tests/guest/runtest.c || return 1
    if [ "$A" = x86_64 ]; then
        # The matrix runs both arches from this suite.
        local cc
        cc=$(. targets/aarch64; echo "$CC")
        "$cc" -static -O2 -Wall -o "$work/runtest-aarch64" tests/guest/runtest.c || return 1
    fi
}

run_files() { :; }

# vrun NAME [vigil-qemu run options...] -- PROG ARGS: sets RC, OUT (stdout
# file) and ERR (stderr file); logs the time like `boot`.
vrun() {
    local name=$1 t0 t1 secs
    shift
    OUT="$work/$A-$K-run-$name.out"
    ERR="$work/$A-$K-run-$name.err"
    LOG=$ERR
    t0=$(date +%s.%N)
    "$tool" run --arch "$A" --kernel "$kpkg" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    times+=("$A $K run.$name: ${secs}s (exit $RC)")
    echo "== $A $K run $name: exit $RC, ${secs}s"
}

# out_is NAME WANT: stdout is exactly WANT (plus its newline).
out_is() {
    local got
    got=$(cat "$OUT")
    check "$1" "$([ "$got" = "$2" ] && echo 0 || echo 1)" "stdout '$(head -c 300 "$OUT" | tr '\n' '|')', want '$2'"
}

# err_has NAME ERE
err_has() {
    grep -Eq -- "$2" "$ERR"
    check "$1" $? "stderr has no line matching /$2/: $(head -c 300 "$ERR" | tr '\n' '|')"
}

run_run() {
    local rt="$work/runtest-$A" n want share
    if [ "$first" != 1 ]; then
        vrun exit3 -- "$rt" exit 3
        rc_is run.exit3.status 3 "$RC"
        out_is run.exit3.output "exiting 3"
        share="$work/share-$A-$K"
        rm -rf "$share"; mkdir -p "$share"
        vrun share-rw --share "$share=/out" -- "$rt" write /out/r.txt "from $A $K"
        rc_is run.share-rw.status 0 "$RC"
        check run.share-rw.host-reads "$([ "$(cat "$share/r.txt" 2>/dev/null)" = "from $A $K" ] && echo 0 || echo 1)" \
            "the host read '$(cat "$share/r.txt" 2>&1)'"
        return 0
    fi

    # Exit statuses, and nothing but the test's output on stdout.
    for n in 0 1 77; do
        vrun "exit$n" -- "$rt" exit $n
        rc_is "run.exit$n.status" $n "$RC"
        out_is "run.exit$n.output" "exiting $n"
    done
    vrun kill9 -- "$rt" kill 9
    rc_is run.kill9.status 137 "$RC"
    err_has run.kill9.says 'test killed by signal 9 -> exit 137'

    # Arguments arrive as given (spaces, quotes).
    vrun args -- "$rt" args "two words" "it's" 'say "hi"' ''
    rc_is run.args.status 0 "$RC"
    out_is run.args.output "$(printf '%s\n' "two words" "it's" 'say "hi"' '')"

    # --policy: the test runs under it (vigil answers getppid).
    printf 'default allow\ngetppid: notify return 4242\n' >"$work/ppid.policy"
    vrun policy --policy "$work/ppid.policy" -- "$rt" ppid
    rc_is run.policy.status 0 "$RC"
    out_is run.policy.answered "ppid 4242"

    # A read-write share: written in the guest, read on the host.
    share="$work/share-$A-$K"
    rm -rf "$share"; mkdir -p "$share"
    vrun share-rw --share "$share=/out" -- "$rt" write /out/r.txt "from $A $K"
    rc_is run.share-rw.status 0 "$RC"
    check run.share-rw.host-reads "$([ "$(cat "$share/r.txt" 2>/dev/null)" = "from $A $K" ] && echo 0 || echo 1)" \
        "the host read '$(cat "$share/r.txt" 2>&1)'"
    # ... and over 9p, on the generic kernel (the cloud kernels have none).
    if [ -n "${EXTRA_KERNEL_PKGS:-}" ]; then
        local kp=$kpkg
        kpkg=${EXTRA_KERNEL_PKGS%% *}
        vrun share-9p --fs 9p --share "$share=/out" -- "$rt" write /out/9p.txt "9p $A"
        kpkg=$kp
        rc_is run.share-9p.status 0 "$RC"
        check run.share-9p.host-reads "$([ "$(cat "$share/9p.txt" 2>/dev/null)" = "9p $A" ] && echo 0 || echo 1)" \
            "the host read '$(cat "$share/9p.txt" 2>&1)'"
    fi

    # A kernel panic is reported as one, not as a hang or a result.
    vrun panic -- "$rt" panic
    rc_is run.panic.status 126 "$RC"
    err_has run.panic.says 'KERNEL PANIC: .*sysrq triggered crash'

    # A hang ends at the deadline.
    local limit=15
    [ "$A" = aarch64 ] && limit=30
    vrun timeout --timeout $limit -- "$rt" hang
    rc_is run.timeout.status 124 "$RC"
    err_has run.timeout.says "TIMEOUT: no result within ${limit}s"
    out_is run.timeout.test-ran "hanging"

    # The forged result: the console is not believed.
    printf 'default allow\nmkdir?, mkdirat: notify paths {\n    allow /tmp/\n}\n' >"$work/forge.policy"
    vrun forge --policy "$work/forge.policy" -- "$rt" forge
    rc_is run.forge.status 1 "$RC"
    has_out() { grep -Fq -- "$2" "$OUT"; check "$1" $? "stdout has no '$2'"; }
    has_out run.forge.printed-the-line 'vigil: test exit=0'
    has_out run.forge.channel-busy 'forge: open /dev/vport0p1: Device or resource busy'

    if [ "$A" = "$(uname -m)" ]; then
        # Dynamic programs of the host, from its /, as on the host.
        local py='import sys, os, json; print(json.dumps([sys.version.split()[0], os.getcwd()])); sys.exit(3)'
        want=$(cd "$root" && /usr/bin/python3 -c "$py")
        vrun python3 -- /usr/bin/python3 -c "$py"
        rc_is run.python3.status 3 "$RC"
        out_is run.python3.output "$want"
        want=$(/usr/bin/git --version)
        vrun git -- /usr/bin/git --version
        rc_is run.git.status 0 "$RC"
        out_is run.git.output "$want"
    else
        printf '#!/bin/sh\necho "sh in $(uname -m): $*"\nexit 5\n' >"$work/script.sh"
        chmod +x "$work/script.sh"
        vrun script -- "$work/script.sh" a b
        rc_is run.script.status 5 "$RC"
        out_is run.script.output "sh in aarch64: a b"
    fi

    # Bad input: refused before QEMU starts (no VM, no time).
    local other=aarch64
    [ "$A" = aarch64 ] && other=x86_64
    vrun bad-arch -- "$work/runtest-$other" exit 0 2>/dev/null
    if [ -f "$work/runtest-$other" ]; then
        rc_is run.bad-arch.status 2 "$RC"
        err_has run.bad-arch.says "is an ELF program for $other; the guest is $A"
    fi
    vrun bad-file --file /x="$work/no-such-file" -- "$rt" exit 0
    rc_is run.bad-file.status 2 "$RC"
    err_has run.bad-file.says 'no such file'
    vrun bad-share --share "$work/no-such-dir=/in" -- "$rt" exit 0
    rc_is run.bad-share.status 2 "$RC"
    err_has run.bad-share.says 'no such directory'
    vrun bad-fs --fs 9p --share "$share=/in" -- "$rt" exit 0
    rc_is run.bad-fs.status 2 "$RC"
    err_has run.bad-fs.says 'has no 9p support'
    printf 'default allow\nfrobnicate: allow\n' >"$work/bad.policy"
    vrun bad-policy --policy "$work/bad.policy" -- "$rt" exit 0
    rc_is run.bad-policy.status 2 "$RC"
    err_has run.bad-policy.says 'bad.policy:2:1: error'

    # QEMU that cannot start (95 TB of guest memory): 125, its message.
    vrun qemu-fails --mem 99999999 -- "$rt" exit 0
    rc_is run.qemu-fails.status 125 "$RC"
    err_has run.qemu-fails.says 'QEMU FAILED: QEMU exited with status 1'

    if [ "$A" = x86_64 ]; then
        # Both arches x both kernels, one VM at a time: the other arch's
        # suite runs beside this one in qemu/test-all, and its timing checks
        # (the hostile probe) want no third VM on two cores.
        local t0 t1 junit="$work/matrix.xml"
        OUT="$work/matrix.out"; ERR="$work/matrix.err"; LOG=$OUT
        t0=$(date +%s.%N)
        "$tool" matrix -j 1 --junit "$junit" -- "$work/runtest-{arch}" args matrix >"$OUT" 2>"$ERR" </dev/null
        RC=$?
        t1=$(date +%s.%N)
        times+=("matrix 2x2 -j 1: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s (exit $RC)")
        echo "== matrix: exit $RC"
        sed 's/^/     | /' "$OUT"
        rc_is run.matrix.status 0 "$RC"
        check run.matrix.table "$(grep -cE '^(x86_64|aarch64) +[^ ]+ +0 pass ' "$OUT" | grep -qx 4 && echo 0 || echo 1)" \
            "want 4 passing cells in the table"
        check run.matrix.junit "$(grep -c '<testcase ' "$junit" 2>/dev/null | grep -qx 4 && grep -q 'failures="0"' "$junit" && echo 0 || echo 1)" \
            "want 4 testcases, 0 failures in $junit"
    fi
}
