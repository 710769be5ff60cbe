#!/bin/sh
# Oneshot "disk": wait for the virtio disk (its modules were loaded by
# vigil's `module` lines), mount it on /mnt.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -b /dev/vda ]; then
    echo "TEST disk.mount: FAIL no /dev/vda after 10 s ($(ls /sys/block))"
    exit 1
fi
mkdir -p /mnt
if mount -t ext2 /dev/vda /mnt; then
    echo "TEST disk.mount: ok"
else
    echo "TEST disk.mount: FAIL mount -t ext2 /dev/vda /mnt"
    exit 1
fi
