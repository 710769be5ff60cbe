#!/bin/sh
# Service "runner": vigil as a plain program inside the guest: `/init run`
# (the notification monitor without PID 1) and `/init check`.
export VTEST_TAG=run
P=/etc/run.policy
expect() { # NAME WANT GOT
    if [ "$2" = "$3" ]; then echo "TEST run.$1: ok"; else echo "TEST run.$1: FAIL status $3, want $2"; fi
}
/init run --policy $P -- /bin/vtest getppid 4242
expect getppid-status 0 $?
/init run --policy $P -- /bin/vtest mkdir /tmp/run-ok ok
/init run --policy $P -- /bin/vtest mkdir /run/run-no EOPNOTSUPP
/init run --policy $P -- /bin/vtest exit 42
expect exit-status 42 $?
/init run --policy $P -- /bin/vtest kill-self 9
expect signal-status 137 $?
/init run --policy /etc/kill.policy -- /bin/vtest getppid
expect kill-status 159 $?
/init check $P
expect check-good 0 $?
out=$(/init check /etc/bad.policy 2>&1)
st=$?
echo "$out"
expect check-bad 2 $st
case $out in
    */etc/bad.policy:2:17:\ error:*) echo "TEST run.check-bad-position: ok" ;;
    *) echo "TEST run.check-bad-position: FAIL no /etc/bad.policy:2:17: error:" ;;
esac
touch /run/done/runner
