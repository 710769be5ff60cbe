# The set-up of the "monitor" boot (tests/qemu/monitor.conf), as root
# without a filter: directories, files, owners, the sticky directory and
# the nosymfollow mount, and the kernel's protected_* sysctls (this
# guest's only).
set -e
m=/srv/mon
mkdir -p $m/ll/ro $m/ll/rw $m/ll/no $m/caps/dir $m/sticky $m/nsf \
    $m/alias/allowed/x $m/alias/secret $m/ren/a/sub/private $m/ren/a/pub \
    $m/ro $m/jail/bin $m/jail/etc $m/jail/tmp
echo readable > $m/ll/ro/f
echo SECRET > $m/ll/no/f
echo SECRET > $m/caps/theirs
busybox chown 4242:4242 $m/caps/theirs $m/caps/dir
busybox chmod 600 $m/caps/theirs
busybox chmod 755 $m/caps/dir
echo SECRET > $m/caps/rootonly
busybox chmod 600 $m/caps/rootonly
echo SECRET > $m/alias/secret/data
busybox chmod -R a+rwX $m/alias
echo SECRET > $m/ren/a/sub/private/data
echo public > $m/ren/a/pub/f
echo jailed > $m/jail/etc/jailfile
busybox cp /bin/pathops $m/jail/bin/pathops
mkdir -p $m/jail/etc/mon
busybox cp /etc/mon/jail.ops $m/jail/etc/mon/
echo host > /tmp/host-marker
# A non-root `vigil run` whose worker may not read its target (Yama's
# ptrace_scope 1: only descendants): vigil opens the memory for it.
mkdir -p $m/runuser
echo runuser > $m/runuser/f
busybox chown -R 1000:1000 $m/runuser
if [ -e /proc/sys/kernel/yama/ptrace_scope ]; then
    echo 1 > /proc/sys/kernel/yama/ptrace_scope
    echo "mon-setup: yama ptrace_scope $(cat /proc/sys/kernel/yama/ptrace_scope)"
fi
# The kernel's protections, which vigil's own lookups must honour too.
for p in symlinks regular fifos hardlinks; do
    echo 1 > /proc/sys/fs/protected_$p
done
busybox chmod 1777 $m/sticky
echo followed > $m/sticky/target
busybox ln -s $m/sticky/target $m/sticky/mine
# uid 1000's symlink, file and FIFO in root's sticky directory.
/bin/pathops uid 1000 : symlink $m/sticky/target $m/sticky/ln : write $m/sticky/theirs x \
    : mknod $m/sticky/fifo fifo
mount -t tmpfs -o nosymfollow tmpfs $m/nsf
mkdir $m/nsf/dir
echo ok > $m/nsf/dir/f
busybox ln -s $m/ll/ro/f $m/nsf/ln
busybox ln -s dir $m/nsf/dirln
busybox ls -la $m/sticky $m/nsf
echo "mon-setup: done"
