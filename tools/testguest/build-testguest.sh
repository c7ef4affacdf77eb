#!/bin/bash
# Builds the VM test guest: a Debian cloud kernel plus a small initramfs (static busybox, qemu-ga with the
# shared libraries it links, the virtio modules). Boots under TCG to a working guest agent in a few seconds.
#
#   tools/testguest/build-testguest.sh OUTDIR [cloud|generic]
#
# cloud (the default) boots fastest; generic is Debian's full kernel of the same release, for what the cloud
# kernel leaves out: 9p (CONFIG_9P_FS is off in cloud), which the shared-folder tests and benchmark compare with virtio-fs.
#
# Writes OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/cmdline and OUTDIR/stamp (a hash of this script and its inputs,
# so the cache is rebuilt when either changes). Needs apt-get, dpkg, busybox-static; no root-only step besides apt.
set -euo pipefail

out=${1:?usage: build-testguest.sh OUTDIR [cloud|generic]}
flavour=${2:-cloud}
case "$flavour" in cloud|generic) ;; *) echo "unknown kernel flavour '$flavour' (cloud or generic)" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck source=initramfs.sh
. "$here/initramfs.sh"

# Virtio drivers are modules in the cloud kernel. No depmod in the image: each module's `depends=` is read from
# its .modinfo and the list is ordered so every dependency loads first (button and evdev let busybox acpid see the ACPI power button).
modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console virtio_balloon
         virtio_blk failover net_failover virtio_net virtio_mem button evdev fuse virtiofs)
# The generic kernel adds 9p (the shared-folder fallback, see SharedFolders/VmSharePlan.cs).
if [ "$flavour" = generic ]; then modules+=(9pnet 9pnet_virtio 9p); fi
cdrom_modules=(ata_piix sr_mod isofs)
# Device-mapper (LVM) and XFS, for the online disk tests; ext4 is built into the kernel. Loaded on demand, like the CD-ROM stack.
storage_modules=(dm-mod xfs)
# The guest-side disk tools of Resize-VzDisk -ResizeGuestFileSystem on a running VM (partition, PV, LV, file
# system; blkid, as busybox has none): the host's own binaries (same Debian release) with the libraries they link.
storage_tools=(/usr/sbin/blkid /usr/sbin/sfdisk /usr/bin/partx /usr/sbin/lvm /usr/sbin/resize2fs /usr/sbin/e2fsck /usr/sbin/xfs_growfs)

if [ "$flavour" = cloud ]; then meta=linux-image-cloud-amd64; pattern='linux-image-[0-9].*-cloud-amd64'
else meta=linux-image-amd64; pattern='linux-image-[0-9].*-amd64'; fi
kernel_pkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n "s/^ *Depends: \($pattern\)\$/\1/p" | head -1)
[ -n "$kernel_pkg" ] || { echo "cannot resolve $meta (run apt-get update)" >&2; exit 1; }
ga_version=$(apt-cache policy qemu-guest-agent | sed -n 's/^ *Candidate: //p')
stamp=$( { cat "$0" "$here"/initramfs.sh "$here"/init "$here"/chpasswd "$here"/shutdown; echo "$kernel_pkg $ga_version"; sha256sum /bin/busybox "${storage_tools[@]}"; } | sha256sum | cut -c1-16)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ]; then
    echo "test guest is up to date in $out"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vz-testguest.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download runs as the _apt user when it can; a private folder it can write keeps it quiet and sandboxed.
chmod 0777 "$work"
apt-get download -q "$kernel_pkg" qemu-guest-agent >/dev/null
dpkg -x linux-image-*.deb kernel
dpkg -x qemu-guest-agent_*.deb ga

root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,lib/modules,var,mnt}
ln -s ../run "$root/var/run"
cp /bin/busybox "$root/bin/busybox"
cp ga/usr/sbin/qemu-ga "$root/usr/sbin/qemu-ga"
# qemu-ga links glib and friends dynamically: copy exactly what ldd resolves on this host (same Debian release).
ldd ga/usr/sbin/qemu-ga | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | copy_libs "$root"
for t in "${storage_tools[@]}"; do install -D -m 0755 "$t" "$root$t"; done
ldd "${storage_tools[@]}" | awk '/=> \// { print $3 }' | sort -u | copy_libs "$root"
# No udev in the guest: LVM creates its /dev/mapper nodes itself and does not wait for udev.
mkdir -p "$root/etc/lvm"
printf 'activation {\n\tudev_sync = 0\n\tudev_rules = 0\n}\ndevices {\n\tobtain_device_list_from_udev = 0\n}\n' > "$root/etc/lvm/lvm.conf"

kver=$(ls kernel/lib/modules)
# The CD-ROM stack (the pc machine's PIIX IDE, SCSI CD, ISO 9660; the cloud kernel has no AHCI for q35) is in the
# image but not loaded at boot, so VMs without a DVD boot as fast as before; the DVD tests load it through the agent
# from /etc/modules.cdrom (load order, dependencies first).
copy_modules "$root" "kernel/lib/modules/$kver" "${cdrom_modules[@]}"
mv "$root/etc/modules.order" "$root/etc/modules.cdrom"
copy_modules "$root" "kernel/lib/modules/$kver" "${storage_modules[@]}"
mv "$root/etc/modules.order" "$root/etc/modules.storage"
copy_modules "$root" "kernel/lib/modules/$kver" "${modules[@]}"

install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/chpasswd" "$root/sbin/chpasswd"
install -m 0755 "$here/shutdown" "$root/sbin/shutdown"
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
guest:x:1000:1000:Test guest user:/tmp:/bin/sh
P
cat > "$root/etc/group" <<'G'
root:x:0:
guest:x:1000:
G
printf 'root:*:19000:0:99999:7:::\nguest:*:19000:0:99999:7:::\n' > "$root/etc/shadow"
chmod 0600 "$root/etc/shadow"
echo testguest > "$root/etc/hostname"
# busybox acpid maps the power button to the action PWRF/00000080, a script under /etc/acpi.
printf 'PWRF PWRF/00000080\n' > "$root/etc/acpid.conf"
mkdir -p "$root/etc/acpi/PWRF"
printf '#!/bin/sh\nsync\npoweroff -f\n' > "$root/etc/acpi/PWRF/00000080"
chmod 0755 "$root/etc/acpi/PWRF/00000080"
cat > "$root/etc/udhcpc.script" <<'U'
#!/bin/sh
case "$1" in bound|renew) ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up ;; esac
U
chmod 0755 "$root/etc/udhcpc.script"

(cd "$root" && find . | sort | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -6) > "$work/initrd.img"
cp "kernel/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$work/initrd.img" "$out/initrd.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "console=ttyS0 panic=-1 quiet memhp_default_state=online_movable" > "$out/cmdline"
echo "$kernel_pkg" > "$out/kernel-package"
echo "$stamp" > "$out/stamp"
echo "test guest built in $out ($kernel_pkg, qemu-guest-agent $ga_version)"
