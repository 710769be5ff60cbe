# Plug-in boot of qemu/suite: a service attacking its own sandbox (issue
# 13), tests/qemu/confine.conf with the probe /bin/csbx (tests/guest/sbx.c):
# stdio swapped for symlinks to root-only files, root without capabilities
# against sysctls (core_pattern), sysrq, sysfs, device nodes and its
# cgroup, uid 1000 against its cgroup, a user namespace, a forged result
# line through vigil's decision log, and a kernel command line word that is
# not UTF-8. One boot per kernel.

confine_build() {
    "$CC" -static -O2 -Wall -o "$work/csbx-$A" tests/guest/sbx.c || return 1
    # The tool passes text only: this QEMU wrapper turns @BADBYTES@ on the
    # kernel command line into two bytes that are not UTF-8.
    local t="$work/confine-targets"
    mkdir -p "$t"
    sed "s|^QEMU=.*|QEMU=$t/qemu-$A|" "targets/$A" >"$t/$A"
    {
        echo '#!/bin/bash'
        echo 'a=(); for x in "$@"; do a+=("${x//@BADBYTES@/$'"'"'\xff\xfe'"'"'}"); done'
        echo "exec $QEMU \"\${a[@]}\""
    } >"$t/qemu-$A"
    chmod +x "$t/qemu-$A"
}

confine_files() {
    local f
    for f in "/bin/csbx=$work/csbx-$A" "/srv/sj/bin/sbx=$work/csbx-$A" \
        "/srv/j2/bin/sbx=$work/csbx-$A" /etc/confine.conf=tests/qemu/confine.conf; do
        printf '%s\n' --file "$f"
    done
    for f in /srv/j2/tmp; do
        printf '%s\n' --dir "$f"
    done
}

confine_run() {
    VIGIL_TARGETS="$work/confine-targets" boot confine \
        --append "quiet vigil.config=/etc/confine.conf sbxbad=@BADBYTES@" --timeout 120
    sane confine
    rc_is confine.test-exit 0 "$RC"
    # Item 7: the bad word is reported and skipped; vigil.config= still counts.
    has confine.cmdline-bad-word 'vigil: warning: kernel command line: `sbxbad=\\xff\\xfe`: not UTF-8: skipped'
    has confine.cmdline-still-read 'vigil: PID 1 up in [0-9]+ us, config /etc/confine.conf'
    # Item 1: stdio opened as the service. The swaps happened, the restarts
    # were refused with the path named, and nothing was read, appended or
    # created through the links.
    local s
    for s in in out err; do
        has "confine.s-$s-swapped" "SBX swapped /srv/s1/$s -> /srv/root-only/"
    done
    has confine.s-in-refused '\[s-in\] cannot start: opening its stdin /srv/s1/in as uid 1000: EACCES'
    has confine.s-out-refused '\[s-out\] cannot start: opening its stdout /srv/s1/out as uid 1000: EACCES'
    has confine.s-err-refused '\[s-err\] cannot start: opening its stderr /srv/s1/err as uid 1000: EACCES'
    lacks confine.s-never-through-link 'TEST s-(in|out|err)\.(swap|stdin)'
    tests check.same:/srv/root-only/log check.absent:/srv/root-only/new \
        check.owner:/srv/s1/new.log check.same:/srv/s1/new.log \
        check.owner:/srv/sj/log/out check.same:/srv/sj/log/out
    # Item 2: root without capabilities.
    tests rootmask.put:/proc/sys/kernel/core_pattern rootmask.crash \
        rootmask.put:/proc/sysrq-trigger rootmask.openw:/sys/module/printk/parameters/time \
        rootmask.openw:/dev/kmsg rootmask.openw:/dev/console rootmask.put:/dev/null \
        rootmask.getppid
    tests rootjail.put:/proc/sys/kernel/core_pattern rootjail.crash rootjail.put:/proc/sysrq-trigger
    tests check.absent:/run/pwned-core check.same:/proc/sys/kernel/core_pattern
    # Item 3: its cgroup, as root without capabilities and as uid 1000.
    tests rootmask.cgput:vigil-rootmask-cg/pids.max rootmask.cgleave:root rootmask.cgns \
        rootmask.cg:pids.max rootmask.cgput:vigil-rootmask-mem/memory.max \
        rootmask.cgput:vigil-rootmask-mem/cpu.max rootmask.cg:memory.max rootjail.cgns \
        cg1000.cgput:vigil-cg1000/pids.max cg1000.cgleave:root cg1000.cgns cg1000.incg
    sed -nE 's/^SBX cgns: /    cgns: /p' "$LOG"
    # A user namespace: root inside, uid 1000 to everything outside.
    tests userns.ids userns.uidmap userns.put:/proc/sys/kernel/core_pattern \
        userns.openw:/sys/module/printk/parameters/time userns.openw:/dev/kmsg \
        userns.cgput:vigil-userns-2/pids.max userns.cgleave:root userns.read:/srv/root-only/secret \
        userns.write:/run/userns-x userns.tmpfs:/tmp/userns-t userns.write:/srv/u1/mine userns.getppid \
        check.owner:/srv/u1/mine check.absent:/run/userns-x
    # Item 5 (the cgroup case is the hostile boot's cpuhog): a restarting
    # service's process group is killed first, with a log line.
    has confine.leftovers-killed '\[leaver\] killed the leftover processes of its last run \(its process group\)'
    tests leaver.killed
    # Item 4: the forged result lines reached the decision log, escaped.
    has confine.forge-logged '\[forge\] pid [0-9]+ (open|openat) "/tmp/forge/vigil\\x3a test exit=42": allow'
    has confine.forge-newline-logged '\[forge\] pid [0-9]+ (open|openat) "/tmp/forge/\\x0avigil\\x3a test signal=9": allow'
    has confine.forge-denied-logged '\[forge\] pid [0-9]+ (open|openat) "/run/vigil\\x3a test exit=42": deny EACCES'
    lacks confine.no-forged-result 'vigil: test (exit=42|signal=9)'
    lacks confine.no-errors-but-refusals 'vigil: error: (\[(rootmask|rootjail|cg1000|userns|forge|check)[^]]*\]|poll|cannot boot)'
}
