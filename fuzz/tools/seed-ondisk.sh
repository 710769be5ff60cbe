#!/usr/bin/env bash
# Seed corpora of the on-disk targets (mbr, gpt, ext4, squashfs, verity,
# rootspec) from images the real tools make, as the real-root boots do:
#   fuzz/tools/seed-ondisk.sh        (from the repository root)
# Needs e2fsprogs, fdisk, squashfs-tools, cryptsetup-bin (qemu/setup).
# Each input is a selector byte (see fuzz/src/disk.rs: 0 = the device is as
# long as the input, 1 = unbounded) and then the device's first bytes.
set -euo pipefail
c=fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p $c/mbr $c/gpt $c/ext4 $c/squashfs $c/verity $c/rootspec
seed() { # FILE SELECTOR SRC SKIP COUNT
    { printf "\\x$(printf %02x "$2")"; dd if="$3" bs=1 skip="$4" count="$5" status=none; } >"$1"
}
truncate -s 8M "$tmp/dos.img"
printf 'label: dos\nsize=2MiB, type=83, bootable\nsize=2MiB, type=83\n' | sfdisk -q "$tmp/dos.img" >/dev/null
seed $c/mbr/dos-two-partitions 1 "$tmp/dos.img" 0 512
truncate -s 8M "$tmp/gpt.img"
printf 'label: gpt\nsize=2MiB, name=sysroot\nsize=2MiB, name="data ü"\n' | sfdisk -q "$tmp/gpt.img" >/dev/null
seed $c/gpt/two-partitions 1 "$tmp/gpt.img" 0 17408
seed $c/mbr/protective 1 "$tmp/gpt.img" 0 512
mkfs.ext4 -q -F -L sysroot "$tmp/e4.img" 8M >/dev/null
seed $c/ext4/mkfs-ext4-csum 1 "$tmp/e4.img" 1024 1024
mkfs.ext2 -q -F -L old "$tmp/e2.img" 4M >/dev/null
seed $c/ext4/mkfs-ext2 1 "$tmp/e2.img" 1024 1024
mkfs.ext4 -q -F -O 64bit,^metadata_csum -b 4096 "$tmp/e64.img" 16M >/dev/null
seed $c/ext4/mkfs-64bit-nocsum 1 "$tmp/e64.img" 1024 1024
mkdir -p "$tmp/tree/d" && echo hello >"$tmp/tree/d/f"
for comp in gzip xz zstd; do
    mksquashfs "$tmp/tree" "$tmp/$comp.sqfs" -noappend -quiet -comp $comp >/dev/null
    seed $c/squashfs/$comp 1 "$tmp/$comp.sqfs" 0 96
done
seed $c/squashfs/gzip-whole 0 "$tmp/gzip.sqfs" 0 "$(stat -c %s "$tmp/gzip.sqfs")"
truncate -s 1M "$tmp/data"
veritysetup format "$tmp/data" "$tmp/hash" >/dev/null
seed $c/verity/sha256 1 "$tmp/hash" 0 512
veritysetup format --salt=- --hash=sha1 --data-block-size=1024 "$tmp/data" "$tmp/hash1" >/dev/null
seed $c/verity/sha1-no-salt-1k 1 "$tmp/hash1" 0 512
printf 'console=ttyS0 root=PARTUUID=7a2f3c4d-1e5b-4a69-8c0d-e1f2a3b4c5d6 rootfstype=squashfs ro rootwait=30 roothash=%064d systemd.verity_root_hash=PARTLABEL=vhash systemd.verity_root_options=hash-offset=4096,panic-on-corruption systemd.volatile=overlay init=/sbin/init -- x' 0 >$c/rootspec/verity
printf 'root=LABEL="my root" rw rootdelay=3 rootflags=noatime,data=ordered root=/dev/disk/by-uuid/5e1f0c2a-6b7d-4c8e-9f01-23456789abcd' >$c/rootspec/label-quoted
printf 'root=8:3 root=0x803 root=/dev/../x root=PARTUUID=ab/PARTNROFF=1 rootwait rootwait=x init= roothash=xyz root=\xff' >$c/rootspec/bad-values
