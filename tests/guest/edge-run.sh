#!/bin/sh
# Service "edge-run" of the edge boot (qemu/boots/edge.sh), without a
# filter: the scenarios of tests/edge.rs that need vigil's pid, fds or exit
# status, each under a fresh `/init run --policy /etc/edge/edge.policy`
# driven by /edge/drive (tests/guest/edge-drive.c).
# The target is SIGKILLed while vigil holds its notification: at vigil's
# first NOTIF_ID_VALID (before the effect: the mkdir must not happen) and
# at its NOTIF_SEND (after the effect: SEND fails with ENOENT).
/edge/drive held 0x40082102 0 held-id-valid
/edge/drive held 0xc0182101 1 held-send
/edge/drive nofile
/edge/drive pending
exit 0
