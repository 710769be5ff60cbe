#!/bin/sh
# Oneshot "edge-setup" of the edge boot (qemu/boots/edge.sh), as root and
# without a filter: the files of every scenario under /run/edge. Only
# /run/edge/forbidden is denied by tests/qemu/edge.policy.
D=/run/edge
mkdir -p $D/forbidden $D/permitted $D/restart $D/fair $D/creds
# toctou: two paths of the same length.
printf public >$D/permitted/secret
printf SECRET >$D/forbidden/secret
# threads
printf ok >$D/ok
printf no >$D/forbidden/bad
# nofile
printf x >$D/file
# creds: a file only root may read, in a directory anyone may write.
printf root >$D/creds/root-only
busybox chmod 600 $D/creds/root-only
busybox chmod 777 $D/creds
echo "edge: setup done"
