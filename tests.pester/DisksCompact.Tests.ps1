#Requires -Modules Pester
<#
  Optimize-VzDisk (compact), offline: an image with a plain ext4 partition and an LVM physical volume holding an ext4
  and an XFS logical volume. Files are deleted from each file system before the image is made qcow2, so their data
  is still allocated in it; the compact must give at least 90 % of it back and leave every remaining file as it was
  (checksums). LVM runs metadata-only (global/activation=0, --devices on this run's loop device only); volume group
  names carry the run's id; every loop device and mount is removed.
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Scope = New-VzTestScope -Name disks-compact
    $env:LVM_SUPPRESS_FD_WARNINGS = '1'
    $script:Lvm = @('--config', 'global/activation=0')
    $script:Tag = ($env:VZ_TEST_RUN -replace '[^A-Za-z0-9]', '')

    function script:Disk([string] $Name) { Join-Path $script:Scope.Base $Name }

    # Where an LV's extents start on its PV (bytes) and how long it is, from LVM's metadata.
    function script:Get-LvRange([string] $Pv, [string] $Vg, [string] $Lv) {
        $peStart = [long]((& lvm pvs @Lvm --devices $Pv --noheadings --units b --nosuffix -o pe_start $Pv 2>$null) -join '').Trim()
        $extent = [long]((& lvm vgs @Lvm --devices $Pv --noheadings --units b --nosuffix -o vg_extent_size $Vg 2>$null) -join '').Trim()
        $row = (& lvm lvs @Lvm --devices $Pv --noheadings --segments -o lv_name,seg_pe_ranges $Vg 2>$null | Where-Object { ($_.Trim() -split '\s+')[0] -eq $Lv })
        $range = (($row.Trim() -split '\s+')[1] -split ':')[-1] -split '-'
        [pscustomobject]@{ Offset = $peStart + [long]$range[0] * $extent; Size = ([long]$range[1] - [long]$range[0] + 1) * $extent }
    }

    # Runs $Action with each file system of a raw image mounted: @{ 'partition 1' = <mount point>; '<vg>/root' = ...; '<vg>/data' = ... }.
    function script:Invoke-Mounted([string] $Raw, [string] $Vg, [scriptblock] $Action, [switch] $ReadOnly) {
        $parts = (sfdisk -J $Raw | ConvertFrom-Json).partitiontable.partitions
        $loops = [Collections.Generic.List[string]]::new()
        $mounts = [Collections.Generic.List[string]]::new()
        try {
            $fs = [ordered]@{}
            $p1 = losetup --find --show --offset ($parts[0].start * 512) --sizelimit ($parts[0].size * 512) $Raw; $loops.Add($p1)
            $fs['partition 1'] = $p1
            $pv = losetup --find --show --offset ($parts[1].start * 512) --sizelimit ($parts[1].size * 512) $Raw; $loops.Add($pv)
            foreach ($lv in 'root', 'data') {
                $r = Get-LvRange $pv $Vg $lv
                $dev = losetup --find --show --offset $r.Offset --sizelimit $r.Size $pv; $loops.Add($dev)
                $fs["$Vg/$lv"] = $dev
            }
            $points = [ordered]@{}
            foreach ($k in $fs.Keys) {
                $dir = Disk ("mnt-" + ($k -replace '[^a-z0-9]', ''))
                $null = New-Item -ItemType Directory -Force $dir
                $type = blkid -p -o value -s TYPE $fs[$k]
                $opts = @(if ($ReadOnly) { 'ro' } else { 'rw' }) + @(if ($type -eq 'xfs') { 'nouuid'; if ($ReadOnly) { 'norecovery' } })
                mount -t $type -o ($opts -join ',') $fs[$k] $dir
                if ($LASTEXITCODE -ne 0) { throw "mount $k failed" }
                $mounts.Add($dir)
                $points[$k] = $dir
            }
            & $Action $points
        }
        finally {
            for ($i = $mounts.Count - 1; $i -ge 0; $i--) { umount $mounts[$i] }
            for ($i = $loops.Count - 1; $i -ge 0; $i--) { losetup -d $loops[$i] }
        }
    }

    # sha256 of every file left in every file system of a qcow2 image, read from a raw copy.
    function script:Get-ImageChecksum([string] $Img, [string] $Vg) {
        $raw = "$Img.check.raw"
        qemu-img convert -O raw $Img $raw
        try {
            Invoke-Mounted $raw $Vg -ReadOnly {
                param($points)
                foreach ($k in $points.Keys) {
                    Get-ChildItem $points[$k] -File -Recurse | Sort-Object FullName | ForEach-Object {
                        '{0}:{1}:{2}' -f $k, $_.Name, (Get-FileHash $_.FullName -Algorithm SHA256).Hash
                    }
                }
            }
        }
        finally { Remove-Item $raw }
    }

    <#
      A qcow2 image: GPT, partition 1 ext4 (300 MiB), partition 2 an LVM PV with VG $Vg: root (ext4, 300 MiB) and
      data (XFS, 700 MiB). Each file system keeps two files; $Deleted MiB of random data were written to each and
      deleted again before the conversion, so the qcow2 still holds them.
    #>
    function script:New-CompactImage([string] $Name, [string] $Vg, [hashtable] $Deleted) {
        $raw = Disk "$Name.raw"
        $null = & truncate -s 1600M $raw
        "label: gpt`n,300M,L`n,,L`n" | sfdisk -q $raw
        $parts = (sfdisk -J $raw | ConvertFrom-Json).partitiontable.partitions
        $p1 = losetup --find --show --offset ($parts[0].start * 512) --sizelimit ($parts[0].size * 512) $raw
        $pv = losetup --find --show --offset ($parts[1].start * 512) --sizelimit ($parts[1].size * 512) $raw
        try {
            mkfs.ext4 -q $p1
            $null = & lvm pvcreate @Lvm -q --devices $pv $pv 2>&1
            $null = & lvm vgcreate @Lvm -q --devices $pv $Vg $pv 2>&1
            foreach ($v in @{ Name = 'root'; Size = '300M'; Fs = 'ext4' }, @{ Name = 'data'; Size = '700M'; Fs = 'xfs' }) {
                $null = & lvm lvcreate @Lvm -q --devices $pv -an -Zn -L $v.Size -n $v.Name $Vg 2>&1
                $r = Get-LvRange $pv $Vg $v.Name
                $lv = losetup --find --show --offset $r.Offset --sizelimit $r.Size $pv
                try { if ($v.Fs -eq 'ext4') { mkfs.ext4 -q $lv } else { mkfs.xfs -q $lv } }
                finally { losetup -d $lv }
            }
        }
        finally { losetup -d $pv; losetup -d $p1 }
        Invoke-Mounted $raw $Vg {
            param($points)
            foreach ($k in $points.Keys) {
                Set-Content (Join-Path $points[$k] 'hello.txt') "kept in $k"
                dd if=/dev/urandom "of=$(Join-Path $points[$k] 'keep.bin')" bs=1M count=4 status=none
                dd if=/dev/urandom "of=$(Join-Path $points[$k] 'big.bin')" bs=1M "count=$($Deleted[$k -replace '^.*/', ''])" status=none conv=fsync
            }
        }
        # Deleted in a second mount, so the deletion is committed to disk when the image is made qcow2.
        Invoke-Mounted $raw $Vg { param($points) foreach ($k in $points.Keys) { Remove-Item (Join-Path $points[$k] 'big.bin') } }
        $img = Disk "$Name.qcow2"
        qemu-img convert -O qcow2 $raw $img
        Remove-Item $raw
        $img
    }
}
AfterAll {
    Remove-Item Env:LVM_SUPPRESS_FD_WARNINGS -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'Optimize-VzDisk offline on partitions and LVM logical volumes' -Tag Integration, Disks -Skip:(-not $IsRoot) {
    It 'gives back at least 90 % of the space of deleted files (500 MiB on XFS), every remaining file unchanged' {
        $vg = "vzc$($script:Tag)a"
        $img = New-CompactImage 'compact-lvm' $vg @{ 'partition 1' = 100; root = 100; data = 500 }
        $sums = Get-ImageChecksum $img $vg
        $sums.Count | Should -Be 6
        $report = Optimize-VzDisk $img -Confirm:$false
        $freed = 700MB
        Write-Host ("compact: {0:N0} -> {1:N0} bytes, reclaimed {2:N0} of {3:N0} deleted ({4:P1})" -f $report.BytesBefore, $report.BytesAfter, $report.BytesReclaimed, $freed, ($report.BytesReclaimed / $freed))
        $report | Should -BeOfType ([Virtuozzo.Engine.Disks.Compact.DiskCompactResult])
        $report.Mode | Should -Be 'Offline'
        $report.BytesReclaimed | Should -BeGreaterOrEqual (0.9 * $freed)
        $report.BytesAfter | Should -Be (Get-VzDisk $img).ActualSize
        $report.FileSizeAfter | Should -BeLessThan ($report.FileSizeBefore - 0.9 * $freed)
        @($report.FileSystems | ForEach-Object { "$($_.Location) $($_.FileSystem)" }) | Should -Be @('partition 1 ext4', "$vg/root ext4", "$vg/data xfs")
        ($report.FileSystems | Where-Object Location -eq "$vg/data").TrimmedBytes | Should -BeGreaterThan 500MB
        Get-ImageChecksum $img $vg | Should -Be $sums
        & qemu-img check -q $img; $LASTEXITCODE | Should -Be 0
        losetup -a | Where-Object { $_ -match 'export\.raw|compact-lvm' } | Should -BeNullOrEmpty
        Get-Content /proc/self/mountinfo | Where-Object { $_ -match 'disk-compact' } | Should -BeNullOrEmpty
        Get-ChildItem (Split-Path $img) -Force -Filter '*.vz-tmp' | Should -BeNullOrEmpty
    }

    It 'keeps an overlay an overlay and its content' {
        $base = Disk 'ovl-base.qcow2'
        qemu-img create -q -f qcow2 $base 64M
        & qemu-io -f qcow2 -c 'write -P 3 0 8M' $base | Out-Null
        $top = Disk 'ovl-top.qcow2'
        qemu-img create -q -f qcow2 -b ovl-base.qcow2 -F qcow2 $top
        & qemu-io -f qcow2 -c 'write -P 9 16M 8M' -c 'write -z 16M 4M' $top | Out-Null
        $reference = Disk 'ovl.ref.raw'
        qemu-img convert -O raw $top $reference
        $report = Optimize-VzDisk $top -Confirm:$false
        $report.Disk.BackingFile | Should -Be 'ovl-base.qcow2'
        $report.Skipped | Should -Be @('disk: no known file system')
        & qemu-img compare -q $reference $top; $LASTEXITCODE | Should -Be 0
    }

    It 'refuses an image with internal snapshots, saying why, and leaves it as it was' {
        $img = Disk 'snap.qcow2'
        qemu-img create -q -f qcow2 $img 64M
        & qemu-io -f qcow2 -c 'write -P 1 0 4M' $img | Out-Null
        qemu-img snapshot -c before $img
        $hash = (Get-FileHash $img).Hash
        $err = $null
        try { Optimize-VzDisk $img -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskFeatureUnsupported,Virtuozzo.Commands.OptimizeVzDiskCommand'
        $err.CategoryInfo.Category | Should -Be 'NotImplemented'
        $err.Exception.Message | Should -Match '1 internal snapshots .*would drop them'
        (Get-FileHash $img).Hash | Should -Be $hash
    }

    It 'refuses an image another QEMU process has open (VzDiskInUse) and a file that is not a disk image' {
        $img = Disk 'held.qcow2'
        qemu-img create -q -f qcow2 $img 64M
        $pidFile = Disk 'held.pid'
        qemu-storage-daemon --daemonize --pidfile $pidFile --blockdev "driver=file,filename=$img,node-name=f" --blockdev 'driver=qcow2,file=f,node-name=d'
        try {
            $err = $null
            try { Optimize-VzDisk $img -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzDiskInUse,Virtuozzo.Commands.OptimizeVzDiskCommand'
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }
        finally {
            $daemon = [int](Get-Content $pidFile)
            Stop-Process -Id $daemon
            Wait-Process -Id $daemon -Timeout 15 -ErrorAction Ignore
        }
        $text = Disk 'notes.txt'
        Set-Content $text 'not a disk'
        $err = $null
        try { Optimize-VzDisk $text -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskPathRefused,Virtuozzo.Commands.OptimizeVzDiskCommand'
        Get-Content $text | Should -Be 'not a disk'
    }

    It '-WhatIf compacts nothing and writes nothing' {
        $img = Disk 'whatif.qcow2'
        qemu-img create -q -f qcow2 $img 64M
        & qemu-io -f qcow2 -c 'write -P 1 0 4M' -c 'discard 0 4M' $img | Out-Null
        $hash = (Get-FileHash $img).Hash
        Optimize-VzDisk $img -WhatIf | Should -BeNullOrEmpty
        (Get-FileHash $img).Hash | Should -Be $hash
    }
}
