#!/bin/sh
# Service "leaver" of the confine boot: its first run leaves a sleeper in
# its process group and fails; vigil must kill the group before the
# restart, so the second run finds the sleeper gone.
if [ -f /run/leaver.pid ]; then
    p=$(cat /run/leaver.pid)
    # A killed sleeper may stay a zombie until PID 1 reaps it.
    for i in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$p" 2>/dev/null; then
        echo "TEST leaver.killed: FAIL pid $p is alive"
    else
        echo "TEST leaver.killed: ok"
    fi
    exit 0
fi
sleep 1000 &
echo $! >/run/leaver.pid
exit 1
