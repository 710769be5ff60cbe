#!/bin/sh
# The test program of the real-root boots, run by vigil (still PID 1) in
# the real root after its services: rr-check.sh MODE [NONCE].
# Prints `TEST rr.NAME: ok|FAIL why`; exits 0.
mode=$1 nonce=$2
t() { # NAME CONDITION... : run the condition, report
    n=$1; shift
    if "$@" >/tmp/rr-out 2>&1; then echo "TEST rr.$n: ok"; else echo "TEST rr.$n: FAIL $(head -c 200 /tmp/rr-out)"; fi
}
fstype() { stat -f -c %T / ; }
# PID 1 is vigil, whose initramfs file was deleted with the initramfs.
t pid1-vigil-deleted sh -c 'readlink /proc/1/exe | grep -q "(deleted)"'
t no-initramfs sh -c '[ ! -e /init ] && [ -e /etc/rr-root ]'
t pid1-no-sockets sh -c '! ls -l /proc/1/fd | grep -q socket'
t kernel-mounts-moved sh -c 'for m in /dev /proc /sys /run; do grep -q " $m " /proc/self/mounts || exit 1; done'
# A dynamically linked Debian program (coreutils' env, with Debian's libc)
# runs: proof of a real root, not another initramfs.
t dynamic-is-dynamic sh -c 'head -c 4096 /usr/bin/env | grep -q ld-linux'
t dynamic-runs sh -c '[ "$(/usr/bin/env -i RR=42 /usr/bin/env)" = RR=42 ]'
echo "rr: / is $(fstype), $(grep ' / ' /proc/self/mounts | tail -n1)"
echo "rr: PID 1 $(grep VmRSS /proc/1/status | tr -s ' \t' ' ')"
case $mode in
ext4)
    t fstype-ext4 sh -c 'stat -f -c %T / | grep -q ext'
    t root-writable sh -c 'echo w >/rr-written && sync && [ "$(cat /rr-written)" = w ]'
    ;;
verity)
    t fstype-overlay sh -c 'grep -q "^overlay / overlay " /proc/self/mounts'
    t lower-is-verity sh -c 'grep -q "^/dev/dm-[0-9]* /run/vigil/lower squashfs ro" /proc/self/mounts'
    t upper-is-tmpfs sh -c 'grep -q "^tmpfs /run/vigil/data tmpfs" /proc/self/mounts'
    t overlay-writable sh -c 'echo w >/etc/rr-probe && [ "$(cat /etc/rr-probe)" = w ]'
    t good-file-reads sh -c 'cat /data/good >/dev/null'
    VTEST_TAG=rr /bin/rootcheck eio /data/tampered
    ;;
data1)
    t upper-on-disk sh -c 'grep -q "^/dev/vd[a-z][0-9]* /run/vigil/data ext4" /proc/self/mounts'
    t persist-write sh -c "echo $nonce >/var/rr-persist && sync"
    # Without verity, the tampered block is read as it is: wrong data, no error.
    t unverified-reads-tampered sh -c 'cat /data/tampered >/dev/null'
    ;;
data2)
    t upper-on-disk sh -c 'grep -q "^/dev/vd[a-z][0-9]* /run/vigil/data ext4" /proc/self/mounts'
    t persist-read sh -c "[ \"\$(cat /var/rr-persist)\" = $nonce ]"
    ;;
esac
exit 0
