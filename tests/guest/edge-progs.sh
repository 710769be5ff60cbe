#!/bin/sh
# Services of the edge boot (qemu/boots/edge.sh) under the policy `edge`
# (tests/qemu/edge.policy), with PID 1 as the monitor: one scenario of
# tests/edge.rs each, `edge-progs.sh NAME`, one `TEST edge.NAME: ...` line.
D=/run/edge
name=$1
ok() { echo "TEST edge.$name: ok"; }
fail() { echo "TEST edge.$name: FAIL $*"; }
uptime() { read -r u _ </proc/uptime; echo "$u"; }
t0=$(uptime)
took() { busybox awk -v a="$t0" -v b="$(uptime)" 'BEGIN { printf "%.1f", b - a }'; }

case $name in
toctou)
    # A thread flips the path between an allowed and a forbidden file
    # while another opens it: vigil must never open the forbidden one.
    n=${EDGE_TOCTOU_ATTEMPTS:-100000}
    out=$(/edge/toctou $D/permitted/secret $D/forbidden/secret "$n")
    st=$?
    echo "edge: toctou $out (status $st, $(took) s)"
    case $out in
        *"attempts=$n leaks=0 "*) ;;
        *) fail "status $st, '$out', want attempts=$n leaks=0"; exit 0 ;;
    esac
    case $out in
        *" opened=0 "* | *" denied=0 "*) fail "one side of the race never happened: '$out'" ;;
        *) [ $st = 0 ] && ok || fail "status $st" ;;
    esac
    ;;
creds)
    # Runs as uid 65534 (service user/group): vigil must open and mkdir
    # with the target's credentials and umask.
    umask 027
    got=$(busybox id -u):$(busybox id -g)
    leak=
    cat $D/creds/root-only 2>/dev/null && leak=" LEAK: read a root-only file"
    mkdir $D/creds/made
    mode=$(busybox stat -c %u:%a $D/creds/made)
    echo "edge: creds ids $got, made $mode$leak"
    if [ "$got" != 65534:65534 ]; then fail "runs as $got, want 65534:65534"
    elif [ -n "$leak" ]; then fail "$leak"
    elif [ "$mode" != 65534:750 ]; then fail "mkdir made $mode, want 65534:750"
    else ok; fi
    ;;
restart)
    # A child bombards us with SA_RESTART signals during emulated mkdirs:
    # a restarted mkdir must not run twice (EEXIST).
    out=$(/edge/restart $D/restart 2000 2>&1)
    st=$?
    echo "edge: restart $(echo "$out" | tail -n 1) (status $st, $(took) s)"
    case $out in
        *"mkdirs=2000 failures=0 "*signals=0*) fail "no signal arrived: '$out'" ;;
        *"mkdirs=2000 failures=0 "*) [ $st = 0 ] && ok || fail "status $st" ;;
        *) fail "status $st, '$(echo "$out" | head -n 3 | tr '\n' ' ')'" ;;
    esac
    ;;
fair)
    # Three children flood vigil with emulated mkdir/rmdir; our notified
    # getppid must still be answered in bounded time (FIFO service).
    out=$(/edge/fair $D/fair 3 2000)
    st=$?
    echo "edge: fair $out (status $st, $(took) s)"
    max=${out##*max=}
    case $max in
        '' | *[!0-9]*) fail "status $st, '$out'" ;;
        *) if [ $st != 0 ]; then fail "status $st, '$out'"
           elif [ "${#max}" -gt 9 ]; then fail "max latency $max ns >= 1 s: '$out'"
           else ok; fi ;;
    esac
    ;;
threads)
    # Every thread is under the filter and served.
    out=$(/edge/threads $D/ok $D/forbidden/bad 8 200)
    st=$?
    echo "edge: threads $out (status $st, $(took) s)"
    if [ "$out" = "threads=8 calls=3200 bad=0" ] && [ $st = 0 ]; then ok
    else fail "status $st, '$out', want 'threads=8 calls=3200 bad=0'"; fi
    ;;
*) fail "unknown scenario" ;;
esac
exit 0
