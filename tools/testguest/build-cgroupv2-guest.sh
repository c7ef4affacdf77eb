#!/bin/bash
# Builds the pure cgroup v2 test host: the Debian cloud kernel of the VM test guest booted with cgroup_no_v1=all,
# and an initramfs holding static busybox, crun, runc and GNU cp (with the shared libraries ldd resolves on this
# host, the same Debian release), the virtio block modules, and an init that mounts cgroup2 with every controller
# enabled. The .NET runtime goes on a read-only ext4 disk image beside it (the cloud kernel has no 9p, and an
# image needs no daemon the way virtio-fs does); the engine's test output goes on a second one each run.
#
#   tools/testguest/build-cgroupv2-guest.sh OUTDIR
#
# Writes OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/dotnet.img, OUTDIR/cmdline and OUTDIR/stamp (a hash of this
# script, the init and every input binary, so the cache is rebuilt when one changes). Needs apt-get, dpkg,
# busybox-static, crun, runc, mkfs.ext4 and the .NET runtime the tests run on.
set -euo pipefail

out=${1:?usage: build-cgroupv2-guest.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck source=initramfs.sh
. "$here/initramfs.sh"

modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk)
# Binaries the engine and its tests run inside the guest; busybox provides the rest (sh, mkswap, swapon, dd, ...).
tools=(/usr/bin/crun /usr/sbin/runc /bin/cp)
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime_dir=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/* | sort -V | tail -1)
fxr_dir=$(ls -d "$dotnet_root"/host/fxr/* | sort -V | tail -1)

kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
[ -n "$kernel_pkg" ] || { echo "cannot resolve linux-image-cloud-amd64 (run apt-get update)" >&2; exit 1; }
stamp=$( { cat "$0" "$here"/initramfs.sh "$here"/init-cgroupv2; echo "$kernel_pkg $runtime_dir $fxr_dir"; sha256sum /bin/busybox "${tools[@]}" "$dotnet_root/dotnet" /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3; } | sha256sum | cut -c1-16)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$out/dotnet.img" ]; then
    echo "cgroup v2 guest is up to date in $out"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vz-cgv2guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
chmod 0777 "$work"
apt-get download -q "$kernel_pkg" >/dev/null
dpkg -x linux-image-*.deb kernel

root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,run,tmp,root,lib/modules,var,mnt/dotnet,mnt/tests}
ln -s ../run "$root/var/run"
cp /bin/busybox "$root/bin/busybox"
# GNU cp (the engine copies templates with cp -a --reflink=auto, which busybox cp does not know) goes first in PATH.
for t in "${tools[@]}"; do cp "$t" "$root/usr/local/bin/$(basename "$t")"; done
libs() { ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'; }
{
    for t in "${tools[@]}" "$dotnet_root/dotnet" "$fxr_dir/libhostfxr.so"; do libs "$t"; done
    for so in "$runtime_dir"/*.so; do libs "$so"; done
    # .NET dlopens OpenSSL (not in ldd's view) as soon as anything touches System.Security.Cryptography.
    for so in /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3; do echo "$so"; libs "$so"; done
} | grep -v "^$dotnet_root" | sort -u | copy_libs "$root"

kver=$(ls kernel/lib/modules)
copy_modules "$root" "kernel/lib/modules/$kver" "${modules[@]}"

install -m 0755 "$here/init-cgroupv2" "$root/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\n' > "$root/etc/group"
echo cgroupv2host > "$root/etc/hostname"

# The .NET runtime (host, hostfxr, Microsoft.NETCore.App) on its own read-only disk, at the layout dotnet expects.
mkdir -p dotnet/host/fxr dotnet/shared/Microsoft.NETCore.App
cp "$dotnet_root/dotnet" dotnet/
cp -r "$fxr_dir" dotnet/host/fxr/
cp -r "$runtime_dir" dotnet/shared/Microsoft.NETCore.App/
size_mb=$(( $(du -sm dotnet | cut -f1) * 5 / 4 + 16 ))
rm -f dotnet.img
mkfs.ext4 -q -F -L vzdotnet -d dotnet dotnet.img "${size_mb}M"

(cd "$root" && find . | sort | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -6) > "$work/initrd.img"
cp "kernel/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$work/initrd.img" "$out/initrd.img"
mv dotnet.img "$out/dotnet.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
# cgroup_no_v1=all keeps every controller off v1, so the unified tree gets them all (no systemd here to ask for it;
# systemd.unified_cgroup_hierarchy=1 says the same to a systemd that would read it).
echo "console=ttyS0 panic=-1 quiet loglevel=3 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1" > "$out/cmdline"
echo "$kernel_pkg" > "$out/kernel-package"
echo "$stamp" > "$out/stamp"
echo "cgroup v2 guest built in $out ($kernel_pkg, $(basename "$runtime_dir"))"
