#!/bin/sh
# Service "timer": once every check service has finished (their marker
# files in /run/done) and the crasher has given up (4 runs), send PID 1
# the signal named by $1 (TERM: reboot, USR2: power off, ...).
# Further arguments: the markers to wait for (default: the main boot's).
sig=$1
shift
[ $# -gt 0 ] || set -- gated mounts emulate uname mkdir-ok mkdir-rel mkdir-no machine orphans runner writer
files=
for m in "$@"; do files="$files /run/done/$m"; done
/bin/vtest wait-files 60000 $files || echo "timer: giving up waiting"
if [ -n "${CRASHES:-}" ]; then
    i=0
    while [ "$(cat /run/crashes 2>/dev/null | wc -l)" -lt "$CRASHES" ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
fi
sleep 0.5
# PID 1's resident set after serving the whole boot (qemu/suite checks it).
echo "timer: PID 1 $(grep -E '^(VmRSS|RssAnon|RssFile|RssShmem)' /proc/1/status | tr -s ' \t\n' ' ')"
echo "timer: PID 1 maps $(awk '/^[0-9a-f]+-/ { m = ($6 == "" ? $1 : $6) } /^Rss:/ { if ($2 > 0) printf "%s=%s ", m, $2 }' /proc/1/smaps)"
echo "timer: sending SIG$sig to PID 1"
kill -"$sig" 1
