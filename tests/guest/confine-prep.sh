#!/bin/sh
# Oneshot "prep" of the confine boot (tests/qemu/confine.conf): the files
# the attacks aim at, and the places their services own.
set -e
bb=/bin/busybox
# uid 1000's own directory, with the stdio files its services swap for
# symlinks.
mkdir -p /srv/s1
printf 'plain input\n' >/srv/s1/in
: >/srv/s1/out
: >/srv/s1/err
$bb chown -R 1000:1000 /srv/s1
# What only root may read or write.
mkdir -p /srv/root-only
printf 'TOPSECRET\n' >/srv/root-only/secret
printf 'original\n' >/srv/root-only/log
$bb chmod 600 /srv/root-only/secret /srv/root-only/log
$bb chmod 700 /srv/root-only
# A jail for uid 1000 with a log directory of its own.
mkdir -p /srv/sj/log
$bb chown 1000:1000 /srv/sj/log
# uid 1000's directory for the user-namespace service.
mkdir -p /srv/u1
$bb chown 1000:1000 /srv/u1
# Paths the forging service may create under /tmp.
mkdir -p /tmp/forge
$bb chmod 1777 /tmp/forge
echo "confine: prepared"
