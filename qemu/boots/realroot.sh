# qemu/suite plug-in "realroot": vigil as the initramfs /init that finds,
# mounts and switches to a real root (issue 15), on every arch and kernel.
# Images are built here with the real tools (mkfs.ext4 -d, mksquashfs,
# sfdisk, veritysetup format); the root holds busybox, the suite's probes
# and coreutils' env with Debian's libc of the guest arch (dynamically
# linked: proof of a real root). Boots:
#   rr-ext4        root=/dev/vda (ext4, rw), the disk plugged in through
#                  QEMU's monitor while vigil waits (woken by its uevent):
#                  vigil stays PID 1, runs the
#                  root's /etc/vigil.conf (a notify rule, the sandbox
#                  suite's jail escapes, a jail that keeps CAP_SYS_CHROOT
#                  and still cannot leave: pivot_root), then rr-check.sh
#   rr-label-init  root=LABEL= on a SCSI disk (virtio-scsi, sd_mod), init=
#                  hand-over; the config's overlay data partition is
#                  missing: tmpfs with a warning
#   rr-verity      root=PARTUUID= squashfs through dm-verity
#                  (systemd.verity_root_hash=PARTLABEL=), tmpfs overlay
#                  (systemd.volatile=overlay); a flipped byte in a file
#                  reads as EIO
#   rr-data1/2     the config's sysroot block: squashfs + ext4 data overlay;
#                  a file written in the first boot is read in the second
#   failures       missing device (rootwait=2, devices listed), two disks
#                  with the root's label (refused, not guessed), rootfstype
#                  the kernel lacks, a corrupt superblock, a wrong roothash,
#                  a missing init=: the reason, the emergency shell, power off

realroot_build() {
    "$CC" -static -O2 -Wall -o "$work/rootcheck-$A" tests/guest/rootcheck.c || return 1
    "$CC" -static -O2 -Wall -o "$work/rr-sbx-$A" tests/guest/sbx.c || return 1
    for t in mkfs.ext4 mksquashfs sfdisk veritysetup; do
        command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
        command -v "$t" >/dev/null || { echo "realroot: no $t (run qemu/setup)" >&2; return 1; }
    done
    # Built on the first kernel (it needs the cached busybox).
    rm -rf "$work/rr-$A"
}

# A Debian package of the guest arch, unpacked in the cache: its directory.
realroot_deb() {
    local pkg=$1 ver dir tmp cache=${VIGIL_CACHE:-$root/.cache}
    ver=$(apt-cache show --no-all-versions "$pkg:$DEB_ARCH" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
    [ -n "$ver" ] || { echo "realroot: apt-cache knows no $pkg:$DEB_ARCH" >&2; return 1; }
    dir="$cache/$A/pkg/${pkg}_${ver//:/%}"
    if [ ! -f "$dir/.done" ]; then
        tmp=$(mktemp -d)
        (cd "$tmp" && apt-get download -q "$pkg:$DEB_ARCH=$ver" >/dev/null 2>&1) \
            && rm -rf "$dir" && mkdir -p "$dir" && dpkg -x "$tmp"/*.deb "$dir" && touch "$dir/.done"
        rm -rf "$tmp"
        [ -f "$dir/.done" ] || { echo "realroot: cannot fetch $pkg:$DEB_ARCH" >&2; return 1; }
    fi
    echo "$dir"
}

# The images, once per arch: $work/rr-$A/{ext4.img,gpt.img,corrupt.img,env}.
realroot_images() {
    local d="$work/rr-$A" tree cu lc a off
    [ -f "$d/env" ] && return 0
    mkdir -p "$d" && tree="$d/tree" && mkdir -p "$tree"
    cu=$(realroot_deb coreutils) && lc=$(realroot_deb libc6) || return 1
    (cd "$tree" && mkdir -p bin sbin usr/bin etc t dev proc sys run tmp var data srv/jail/bin srv/jail/tmp)
    install -m 0755 "$BUSYBOX" "$tree/bin/busybox"
    for a in $(busybox --list); do [ -e "$tree/bin/$a" ] || ln -s busybox "$tree/bin/$a"; done
    install -m 0755 "$cu/usr/bin/env" "$tree/usr/bin/env"
    # Debian's loader and libc of the guest arch, where env looks for them.
    (cd "$lc" && find lib lib64 usr/lib -maxdepth 2 \( -name 'ld-linux*' -o -name 'libc.so.6' \) 2>/dev/null) \
        | while read -r f; do mkdir -p "$tree/$(dirname "$f")"; cp -a "$lc/$f" "$tree/$f"; done
    install -m 0755 "$vtest" "$tree/bin/vtest"
    install -m 0755 "$work/rr-sbx-$A" "$tree/bin/sbx"
    install -m 0755 "$work/rr-sbx-$A" "$tree/srv/jail/bin/sbx"
    install -m 0755 "$work/rootcheck-$A" "$tree/bin/rootcheck"
    install -m 0755 "$work/rootcheck-$A" "$tree/srv/jail/bin/rootcheck"
    install -m 0644 tests/realroot/vigil.conf "$tree/etc/vigil.conf"
    install -m 0755 tests/realroot/rr-check.sh "$tree/t/rr-check.sh"
    install -m 0755 tests/realroot/rr-init "$tree/sbin/rr-init"
    echo "the real root" >"$tree/etc/rr-root"
    head -c 65536 /dev/urandom >"$tree/data/good"
    # Two squashfs blocks of random data (stored as they are), a marker in
    # the second: its byte is flipped after veritysetup has hashed it.
    { head -c 163840 /dev/urandom; printf 'VIGIL-TAMPER-MARK-%s' "$A"; head -c 32768 /dev/urandom; } >"$tree/data/tampered"
    file -L "$tree/usr/bin/env" >"$d/env-file"

    mkfs.ext4 -q -F -L vigilroot -U 5e1f0c2a-6b7d-4c8e-9f01-23456789abcd -d "$tree" "$d/ext4.img" 64M || return 1
    cp --sparse=always "$d/ext4.img" "$d/corrupt.img"
    # One byte of the superblock's label: its metadata_csum no longer matches.
    printf 'X' | dd of="$d/corrupt.img" bs=1 seek=$((1024 + 0x78)) conv=notrunc status=none

    mksquashfs "$tree" "$d/root.part" -noappend -quiet -all-root -no-xattrs -b 131072 -comp xz >/dev/null || return 1
    truncate -s 32M "$d/root.part"
    veritysetup format "$d/root.part" "$d/hash.part" >"$d/verity.out" 2>&1 || { cat "$d/verity.out" >&2; return 1; }
    off=$(grep -obUa "VIGIL-TAMPER-MARK-$A" "$d/root.part" | head -n1 | cut -d: -f1)
    [ -n "$off" ] || { echo "realroot: no marker in the squashfs" >&2; return 1; }
    printf 'x' | dd of="$d/root.part" bs=1 seek=$((off + 6)) conv=notrunc status=none
    truncate -s 16M "$d/data.part"
    mkfs.ext4 -q -F -L rrdata "$d/data.part" || return 1
    truncate -s 4M "$d/hash.part"
    truncate -s 54M "$d/gpt.img"
    sfdisk -q "$d/gpt.img" >/dev/null <<SFD || return 1
label: gpt
start=2048, size=32MiB, name=sysroot, uuid=7a2f3c4d-1e5b-4a69-8c0d-e1f2a3b4c5d6
start=67584, size=16MiB, name=data
start=100352, size=4MiB, name=vhash
SFD
    dd if="$d/root.part" of="$d/gpt.img" bs=512 seek=2048 conv=notrunc,sparse status=none
    dd if="$d/data.part" of="$d/gpt.img" bs=512 seek=67584 conv=notrunc,sparse status=none
    dd if="$d/hash.part" of="$d/gpt.img" bs=512 seek=100352 conv=notrunc,sparse status=none
    rm -f "$d/root.part" "$d/data.part" "$d/hash.part"
    {
        echo "ROOTHASH=$(sed -n 's/^Root hash:[[:space:]]*//p' "$d/verity.out")"
        echo "PARTUUID=7a2f3c4d-1e5b-4a69-8c0d-e1f2a3b4c5d6"
    } >"$d/env"
}

# The module lines for NAME...: dependencies first, built-ins left out.
realroot_modules() {
    "$tool" modules --moddir "$MODULES" "$@" 2>/dev/null \
        | awk '$2 != "builtin" { print "module /lib/modules/" $1 ".ko" }'
}

realroot_files() {
    local mods c
    for c in rr data fallback; do
        # The hand-over boot's disk is SCSI (another bus, another driver).
        if [ $c = fallback ]; then
            mods=$(realroot_modules virtio_pci virtio_scsi sd_mod overlay ext4)
        else
            mods=$(realroot_modules virtio_pci virtio_blk squashfs overlay dm_verity ext4)
        fi
        awk -v mods="$mods" '$1 == "@MODULES@" { print mods; next } { print }' \
            "tests/realroot/$c.conf" >"$kdir/rr-$c.conf"
        printf '%s\n' --file "/etc/rr/$c.conf=$kdir/rr-$c.conf"
    done
    printf '%s\n' --module squashfs --module overlay --module dm_verity --module ext4 \
        --module virtio_scsi --module sd_mod
}

realroot_run() {
    local d="$work/rr-$A" ROOTHASH PARTUUID wrong nonce
    if ! realroot_images; then
        LOG=/dev/null; bad realroot.images "building the real-root images failed"; return
    fi
    # shellcheck disable=SC1091
    . "$d/env"
    grep -q 'dynamically linked' "$d/env-file"
    check realroot.env-is-dynamic $? "$(cat "$d/env-file")"
    local ext4="$kdir/rr-ext4.img" gpt="$kdir/rr-gpt.img" ro="$kdir/rr-ro.img"
    cp --sparse=always "$d/ext4.img" "$ext4"
    cp --sparse=always "$d/ext4.img" "$ro"
    cp --sparse=always "$d/gpt.img" "$gpt"
    local c="vigil.config=/etc/rr/rr.conf" t="vigil.test=/bin/sh"

    # ---- root=/dev/vda, ext4 read-write, vigil stays PID 1 --------------
    # The disk is plugged in (QEMU's monitor) once vigil says it waits for
    # it: the kernel's uevent must wake the wait.
    realroot_hotplug rr-ext4 "$ext4" "quiet $c root=/dev/vda rootfstype=ext4 rw rootwait=60 $t vigil.args=/t/rr-check.sh,ext4"
    sane rr-ext4
    rc_is rr-ext4.test-exit 0 "$RC"
    in_order rr-ext4.found-on-uevent 'vigil: root: waiting for the root device /dev/vda \(at most 60000 ms\)' \
        'vigil: root: /dev/vda is vda .*\(after [0-9]+ ms, [2-9][0-9]* scans, [1-9][0-9]* uevents\)'
    in_order rr-ext4.switched 'vigil: root: /dev/vda is vda ' \
        'vigil: root: mount /dev/vda on /sysroot as ext4 \(read-write\)' \
        'vigil: root: switched to /dev/vda in [0-9]+ ms' \
        'vigil: PID 1 up in [0-9]+ us, config /etc/vigil.conf of the new root'
    tests rr.pid1-vigil-deleted rr.no-initramfs rr.pid1-no-sockets rr.kernel-mounts-moved rr.dynamic-is-dynamic \
        rr.dynamic-runs rr.fstype-ext4 rr.root-writable rrnotify.getppid
    has rr-ext4.notify-decision '\[notify\] pid [0-9]+ getppid: return 4242'
    for s in rrjail rrjailns; do
        tests $s.jail-visible $s.host-hidden $s.chroot-denied $s.chroot-dot-denied \
            $s.dotdot-walk $s.cwd-at-root $s.root-dotdot-is-root
    done
    tests rrjailns.write:/x rrjailns.write:/tmp/y
    tests rrpivot.host-hidden rrpivot.chroot-allowed rrpivot.chroot-dot-allowed rrpivot.escape-blocked
    lacks rr-ext4.no-errors 'vigil: error:'
    state=$(dumpe2fs -h "$ext4" 2>/dev/null | sed -n 's/^Filesystem state: *//p')
    check rr-ext4.root-left-clean "$([ "$state" = clean ] && echo 0 || echo 1)" \
        "ext4 root after shutdown: '$state' (not remounted read-only)"
    got=$(debugfs -R 'cat /rr-written' "$ext4" 2>/dev/null)
    check rr-ext4.write-on-disk "$([ "$got" = w ] && echo 0 || echo 1)" "debugfs read '$got'"

    # ---- root=LABEL=, init= hand-over, overlay fallback -----------------
    boot rr-label-init --timeout 90 --qemu-arg -device --qemu-arg virtio-scsi-pci,id=scsi0 \
        --qemu-arg -drive --qemu-arg "file=$ro,format=raw,if=none,id=s0" \
        --qemu-arg -device --qemu-arg scsi-hd,drive=s0,bus=scsi0.0 \
        --append "quiet vigil.config=/etc/rr/fallback.conf root=LABEL=vigilroot init=/sbin/rr-init"
    sane rr-label-init
    rc_is rr-label-init.no-result-line 125 "$RC"
    in_order rr-label-init.hand-over 'vigil: root: LABEL=vigilroot is sda ' \
        'vigil: warning: root: the overlay data device was not found: changes go to a tmpfs' \
        'vigil: root: switched to LABEL=vigilroot' 'vigil: root: handing PID 1 to /sbin/rr-init' \
        'rrinit: pid 1 ' 'rrinit: done'
    tests rrinit.is-pid1 rrinit.no-initramfs rrinit.dynamic-runs rrinit.fallback-tmpfs \
        rrinit.signal-mask-clear
    # PID 1 is rr-init now: vigil never shuts the machine down.
    lacks rr-label-init.no-vigil-after 'vigil: shutdown'

    # ---- squashfs + dm-verity + tmpfs overlay, by PARTUUID --------------
    boot rr-verity --disk "$gpt" --timeout 120 \
        --append "quiet $c root=PARTUUID=$PARTUUID roothash=$ROOTHASH systemd.verity_root_hash=PARTLABEL=vhash systemd.volatile=overlay $t vigil.args=/t/rr-check.sh,verity"
    sane rr-verity
    rc_is rr-verity.test-exit 0 "$RC"
    in_order rr-verity.switched "vigil: root: PARTUUID=$PARTUUID is vda1 " \
        'vigil: root: verity: /dev/dm-[0-9]+ over vda1, hashes on vda3 at 0, sha256' \
        'vigil: root: mount /dev/dm-[0-9]+ on /run/vigil/lower as squashfs \(read-only\)' \
        'vigil: root: the overlay is a tmpfs' 'vigil: root: switched to'
    tests rr.fstype-overlay rr.lower-is-verity rr.upper-is-tmpfs rr.overlay-writable rr.good-file-reads \
        rr.first-block-reads rr.tampered-block-eio rr.dynamic-runs rr.no-initramfs
    has rr-verity.kernel-verity-error 'verity.*(data|metadata) block [0-9]+ is corrupted'

    # ---- the config's sysroot block: squashfs + ext4 data overlay, twice --
    nonce="rr-$A-$(date +%s%N | tail -c 8)"
    for n in 1 2; do
        boot rr-data$n --disk "$gpt" --timeout 120 \
            --append "quiet vigil.config=/etc/rr/data.conf $t vigil.args=/t/rr-check.sh,data$n,$nonce"
        sane rr-data$n
        rc_is rr-data$n.test-exit 0 "$RC"
        has rr-data$n.data-mounted 'vigil: root: mount /dev/vda2 on /run/vigil/data as ext4'
        tests rr.upper-on-disk rr.dynamic-runs
    done
    tests rr.persist-read
    LOG="$work/$A-$K-rr-data1.log" tests rr.persist-write rr.unverified-reads-tampered

    # ---- failures: reason, emergency shell, clean power-off -------------
    realroot_fail rr-missing "$gpt" "root=PARTLABEL=nope rootwait=2" \
        'vigil: error: root: root device PARTLABEL=nope not found after [0-9]+ ms; block devices seen:' \
        'vigil: error: root:   vda1 .*PARTLABEL=sysroot: squashfs \(xz\)' \
        'vigil: error: cannot boot: root: the root device was not found'
    # A second disk with the root's label (a USB stick plugged in): vigil
    # refuses to guess rather than boot whichever the kernel named first.
    realroot_fail rr-twice "$ro" "root=LABEL=vigilroot" --disk "$ext4" \
        'vigil: error: root: root device LABEL=vigilroot matches both vd[ab] and vd[ab]: refusing to guess' \
        'vigil: error: cannot boot: root: two devices match the root'
    realroot_fail rr-badfs "$ro" "root=/dev/vda rootfstype=xfs" \
        'vigil: error: root: mount /dev/vda on /sysroot as xfs \(read-only\): ENODEV \(the kernel has no such filesystem' \
        'vigil: error: cannot boot: root: the root filesystem cannot be mounted'
    realroot_fail rr-corrupt "$d/corrupt.img" "root=/dev/vda" \
        'vigil: root: /dev/vda is vda .*ext2/3/4 refused: superblock checksum mismatch' \
        'vigil: error: root: mount /dev/vda on /sysroot as ext4 \(read-only\): E' \
        'vigil: error: cannot boot: root: the root filesystem cannot be mounted'
    wrong=$(printf '%s' "$ROOTHASH" | tr '0-9a-f' '1-9a-f0')
    realroot_fail rr-verity-bad "$gpt" "root=PARTLABEL=sysroot roothash=$wrong systemd.verity_root_hash=PARTLABEL=vhash" \
        'vigil: root: verity: /dev/dm-[0-9]+ over vda1' \
        'vigil: error: root: verity: reading the first block of /dev/dm-[0-9]+ failed \(EIO\): the data or its hashes do not match roothash=, refusing to boot' \
        'vigil: error: cannot boot: root: verity: the root hash does not match'
    realroot_fail rr-noinit "$ro" "root=/dev/vda init=/sbin/nope" \
        'vigil: error: root: init=/sbin/nope is not an executable file in the new root' \
        'vigil: error: cannot boot: root: init= is missing from the new root'
}

# realroot_hotplug NAME DISK APPEND: boot with no disk, and plug DISK in
# (QEMU's monitor: drive_add, device_add) once vigil says it is waiting
# for the root device /dev/vda.
realroot_hotplug() {
    local name=$1 disk=$2 append=$3 port=$((40000 + RANDOM % 20000)) raw bus="" qa=()
    raw="$work/$A-$K-$name.console"
    rm -f "$raw"
    if [ "$A" = aarch64 ]; then
        # virt has no hotplug slot of its own: a PCIe root port is one.
        qa=(--qemu-arg -device --qemu-arg pcie-root-port,id=rp1,chassis=1)
        bus=",bus=rp1"
    fi
    (
        for _ in $(seq 900); do
            grep -q 'root: waiting for the root device /dev/vda' "$raw" 2>/dev/null && break
            sleep 0.1
        done
        exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 0
        printf 'drive_add 0 if=none,id=hot,file=%s,format=raw\n' "$disk" >&3
        sleep 0.5
        printf 'device_add virtio-blk-pci,drive=hot,id=hotdisk%s\n' "$bus" >&3
        sleep 1
        exec 3>&-
    ) &
    local watcher=$!
    boot "$name" --timeout 120 "${qa[@]}" \
        --qemu-arg -monitor --qemu-arg "tcp:127.0.0.1:$port,server,nowait" --append "$append"
    wait "$watcher" 2>/dev/null
}

# realroot_fail NAME DISK ROOT-ARGS [--disk DISK2] ERE...: a boot that must
# fail with these lines in order, then the emergency shell and a clean
# power-off.
realroot_fail() {
    local name=$1 disk=$2 args=$3 more=()
    shift 3
    [ "$1" = --disk ] && { more=(--disk "$2"); shift 2; }
    # In test-run mode: the test program never runs, and the console says
    # why the boot could not go on (vigil-qemu: 123, could not boot).
    boot "$name" --disk "$disk" "${more[@]}" --timeout 60 \
        --append "quiet vigil.config=/etc/rr/rr.conf $args vigil.test=/bin/sh"
    sane "$name"
    rc_is "$name.bad-guest" 123 "$RC"
    lacks "$name.test-not-run" '\[test\] started|vigil: test (exit|signal)='
    has "$name.cannot-boot-line" '^vigil: error: cannot boot: root: ' 
    in_order "$name.reason-shell-power-off" "$@" 'emergency shell ran' 'vigil: shutdown: power off \([0-9]+ ms\)'
    lacks "$name.not-switched" 'vigil: root: switched to'
}
