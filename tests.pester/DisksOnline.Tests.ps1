#Requires -Modules Pester
<#
  Optimize-VzDisk and Resize-VzDisk -ResizeGuestFileSystem on the disk of a running VM (the TCG test guest, which
  carries sfdisk, partx, lvm, resize2fs and xfs_growfs, and loads device-mapper and XFS from /etc/modules.storage).
  The VM's disk is an image made here: GPT, partition 1 ext4 (the compact test), partition 2 an LVM physical volume
  with an ext4 LV (root) and an XFS LV (data), all mounted in the guest. LVM on the host runs metadata-only
  (global/activation=0, --devices on this run's loop device only). The VM is removed afterwards.
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Root = Resolve-Path (Join-Path $PSScriptRoot '..')
    $script:Scope = New-VzTestScope -Name disks-online
    $env:LVM_SUPPRESS_FD_WARNINGS = '1'
    $script:Lvm = @('--config', 'global/activation=0')
    $script:Vg = 'vzo' + ($env:VZ_TEST_RUN -replace '[^A-Za-z0-9]', '')

    function script:Get-LvRange([string] $Pv, [string] $Vg, [string] $Lv) {
        $peStart = [long]((& lvm pvs @Lvm --devices $Pv --noheadings --units b --nosuffix -o pe_start $Pv 2>$null) -join '').Trim()
        $extent = [long]((& lvm vgs @Lvm --devices $Pv --noheadings --units b --nosuffix -o vg_extent_size $Vg 2>$null) -join '').Trim()
        $row = (& lvm lvs @Lvm --devices $Pv --noheadings --segments -o lv_name,seg_pe_ranges $Vg 2>$null | Where-Object { ($_.Trim() -split '\s+')[0] -eq $Lv })
        $range = (($row.Trim() -split '\s+')[1] -split ':')[-1] -split '-'
        [pscustomobject]@{ Offset = $peStart + [long]$range[0] * $extent; Size = ([long]$range[1] - [long]$range[0] + 1) * $extent }
    }

    # A shell command line in the guest; fails the test on a non-zero exit.
    function script:Guest([string] $Script) {
        $r = Invoke-VzVmCommand cpvm1 sh -ArgumentList '-c', $Script -Timeout 600
        if ($r.ExitCode -ne 0) { throw "guest: '$Script' exited $($r.ExitCode): $($r.StdErr)" }
        $r.StdOut
    }
    # A file system's size in the guest (bytes), from statfs.
    function script:Get-GuestFsBytes([string] $MountPoint) {
        $f = (Guest "stat -f -c '%b %S' $MountPoint").Trim() -split ' '
        [long]$f[0] * [long]$f[1]
    }

    # The image: 1280 MiB, GPT; p1 700 MiB ext4 with two files; p2 LVM PV, VG $Vg: root (ext4, 96 MiB), data (XFS, 320 MiB).
    $raw = Join-Path $Scope.Base 'online.raw'
    $null = & truncate -s 1280M $raw
    "label: gpt`n,700M,L`n,,L`n" | sfdisk -q $raw
    $parts = (sfdisk -J $raw | ConvertFrom-Json).partitiontable.partitions
    $p1 = losetup --find --show --offset ($parts[0].start * 512) --sizelimit ($parts[0].size * 512) $raw
    $pv = losetup --find --show --offset ($parts[1].start * 512) --sizelimit ($parts[1].size * 512) $raw
    try {
        mkfs.ext4 -q $p1
        $mnt = Join-Path $Scope.Base 'mnt'
        $null = New-Item -ItemType Directory $mnt
        mount $p1 $mnt
        try {
            Set-Content (Join-Path $mnt 'hello.txt') 'kept across the compact'
            dd if=/dev/urandom "of=$(Join-Path $mnt 'keep.bin')" bs=1M count=8 status=none
        }
        finally { umount $mnt }
        $null = & lvm pvcreate @Lvm -q --devices $pv $pv 2>&1
        $null = & lvm vgcreate @Lvm -q --devices $pv $Vg $pv 2>&1
        foreach ($v in @{ Name = 'root'; Size = '96M'; Fs = 'ext4' }, @{ Name = 'data'; Size = '320M'; Fs = 'xfs' }) {
            $null = & lvm lvcreate @Lvm -q --devices $pv -an -Zn -L $v.Size -n $v.Name $Vg 2>&1
            $r = Get-LvRange $pv $Vg $v.Name
            $lv = losetup --find --show --offset $r.Offset --sizelimit $r.Size $pv
            try { if ($v.Fs -eq 'ext4') { mkfs.ext4 -q $lv } else { mkfs.xfs -q $lv } }
            finally { losetup -d $lv }
        }
    }
    finally { losetup -d $pv; losetup -d $p1 }
    $script:Image = Join-Path $Scope.Base 'online.qcow2'
    qemu-img convert -O qcow2 $raw $Image
    Remove-Item $raw

    $guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root
    $null = New-VzVm cpvm1 -MemorySize 384MB -CpuCount 1 -Network None -DiskPath $Image `
        -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
    $null = Start-VzVm cpvm1 -Wait -Timeout 300
    $script:Disk = @((Get-VzVm cpvm1).Disks)[0].Path
    # The guest's view: find the disk by its serial (the disk id), activate the VG, mount all three file systems.
    $null = Guest @"
while read -r m; do insmod /lib/modules/`$m.ko; done < /etc/modules.storage
for b in /sys/block/vd*; do [ "`$(cat `$b/serial)" = disk0 ] && d=/dev/`${b##*/}; done
lvm vgchange -ay $Vg >/dev/null
mkdir -p /mnt/p1 /mnt/root /mnt/data
mount -t ext4 `${d}1 /mnt/p1 && mount -t ext4 /dev/mapper/$Vg-root /mnt/root && mount -t xfs /dev/mapper/$Vg-data /mnt/data
echo kept in root > /mnt/root/hello.txt
sync
"@
}
AfterAll {
    Get-VzVm cpvm1 -ErrorAction Ignore | Remove-VzVm -Confirm:$false -Force
    Remove-Item Env:LVM_SUPPRESS_FD_WARNINGS -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'Optimize-VzDisk on a running VM' -Tag Integration, Slow, Vms, Disks -Skip:(-not $IsRoot) {
    It 'trims through the guest agent: at least 90 % of a deleted 500 MiB file comes back, the other files unchanged' {
        $sums = Guest 'sha256sum /mnt/p1/hello.txt /mnt/p1/keep.bin'
        $null = Guest 'dd if=/dev/urandom of=/mnt/p1/big.bin bs=1M count=500 2>/dev/null && sync'
        $null = Guest 'rm /mnt/p1/big.bin && sync'
        $report = Optimize-VzDisk $Disk -Confirm:$false
        $freed = 500MB
        Write-Host ("online compact: {0:N0} -> {1:N0} bytes, reclaimed {2:N0} of {3:N0} deleted ({4:P1})" -f $report.BytesBefore, $report.BytesAfter, $report.BytesReclaimed, $freed, ($report.BytesReclaimed / $freed))
        $report.Mode | Should -Be 'Online'
        $report.VmName | Should -Be 'cpvm1'
        $report.FileSystems.Location | Should -Contain '/mnt/p1'
        $report.BytesReclaimed | Should -BeGreaterOrEqual (0.9 * $freed)
        $report.BytesAfter | Should -Be (Get-VzDisk $Disk).ActualSize
        Guest 'sha256sum /mnt/p1/hello.txt /mnt/p1/keep.bin' | Should -Be $sums
        (Get-VzVm cpvm1).State | Should -Be 'Running'
    }
}

Describe 'Resize-VzDisk -ResizeGuestFileSystem on a running VM with LVM' -Tag Integration, Slow, Vms, Disks -Skip:(-not $IsRoot) {
    It 'grows the disk by 2 GiB and, in the guest, the partition, the PV, the XFS LV that ends the VG and its mounted file system' {
        $before = (Get-VzDisk $Disk).VirtualSize
        $fsBefore = Get-GuestFsBytes /mnt/data
        $rootBefore = Get-GuestFsBytes /mnt/root
        Resize-VzDisk -Confirm:$false $Disk -Size ($before + 2GB) -ResizeGuestFileSystem
        (Get-VzDisk $Disk).VirtualSize | Should -Be ($before + 2GB)
        $fsAfter = Get-GuestFsBytes /mnt/data
        Write-Host ("guest XFS /mnt/data: {0:N0} -> {1:N0} bytes" -f $fsBefore, $fsAfter)
        $fsAfter - $fsBefore | Should -BeGreaterThan (2GB - 64MB)
        Get-GuestFsBytes /mnt/root | Should -Be $rootBefore
        (Guest "lvm lvs --noheadings --units b --nosuffix -o lv_size $Vg/data").Trim() | Should -BeGreaterThan (2GB)
    }

    It 'grows the ext4 LV named with -LogicalVolume, mounted, keeping its data' {
        $before = (Get-VzDisk $Disk).VirtualSize
        $fsBefore = Get-GuestFsBytes /mnt/root
        Resize-VzDisk -Confirm:$false $Disk -Size ($before + 2GB) -ResizeGuestFileSystem -LogicalVolume root
        $fsAfter = Get-GuestFsBytes /mnt/root
        Write-Host ("guest ext4 /mnt/root: {0:N0} -> {1:N0} bytes" -f $fsBefore, $fsAfter)
        # statfs leaves out ext4's own metadata (inode tables of the new block groups): the LV itself grew by 2 GiB.
        $fsAfter - $fsBefore | Should -BeGreaterThan (0.9 * 2GB)
        [long](Guest "lvm lvs --noheadings --units b --nosuffix -o lv_size $Vg/root").Trim() | Should -Be (96MB + 2GB)
        (Guest 'cat /mnt/root/hello.txt').Trim() | Should -Be 'kept in root'
    }

    It 'refuses an LV the guest''s VG lacks before growing anything' {
        $before = (Get-VzDisk $Disk).VirtualSize
        $err = $null
        try { Resize-VzDisk -Confirm:$false $Disk -Size ($before + 1GB) -ResizeGuestFileSystem -LogicalVolume nosuch -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzLogicalVolumeNotFound,Virtuozzo.Commands.ResizeVzDiskCommand'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        (Get-VzDisk $Disk).VirtualSize | Should -Be $before
    }
}
