#Requires -Modules Pester
<#
  Resize-VzDisk -ResizeGuestFileSystem on an LVM-on-partition layout (a GPT partition holding a PV, a volume group
  with an ext4 and an XFS logical volume), offline. LVM runs metadata-only here (global/activation=0, --devices on
  this run's loop device only): this host has no device-mapper, and nothing is activated, so there is no dm/LVM
  state to leave behind. Volume group names carry the run's id; every loop device made is detached.
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Scope = New-VzTestScope -Name disks-lvm
    $env:LVM_SUPPRESS_FD_WARNINGS = '1'
    $script:Lvm = @('--config', 'global/activation=0')

    function script:Disk([string] $Name) { Join-Path $script:Scope.Base $Name }

    # Where an LV's extents start on its PV (bytes) and how long it is, from LVM's metadata.
    function script:Get-LvRange([string] $Pv, [string] $Vg, [string] $Lv) {
        $peStart = [long]((& lvm pvs @Lvm --devices $Pv --noheadings --units b --nosuffix -o pe_start $Pv 2>$null) -join '').Trim()
        $extent = [long]((& lvm vgs @Lvm --devices $Pv --noheadings --units b --nosuffix -o vg_extent_size $Vg 2>$null) -join '').Trim()
        $row = (& lvm lvs @Lvm --devices $Pv --noheadings --segments -o lv_name,seg_pe_ranges $Vg 2>$null | Where-Object { ($_.Trim() -split '\s+')[0] -eq $Lv })
        @($row).Count | Should -Be 1 -Because "$Vg/$Lv is one linear segment"
        $range = (($row.Trim() -split '\s+')[1] -split ':')[-1] -split '-'
        [pscustomobject]@{ Offset = $peStart + [long]$range[0] * $extent; Size = ([long]$range[1] - [long]$range[0] + 1) * $extent }
    }

    # A qcow2 image: GPT, one partition = PV, VG $Vg with LVs in the order given (name, fs, size); ext4 LVs get a file.
    function script:New-LvmImage([string] $Name, [string] $Vg, [object[]] $Volumes, [long] $Size) {
        $raw = Disk "$Name.raw"
        $null = & truncate -s $Size $raw
        "label: gpt`n,,L`n" | sfdisk -q $raw
        $p = (sfdisk -J $raw | ConvertFrom-Json).partitiontable.partitions[0]
        $pv = losetup --find --show --offset ($p.start * 512) --sizelimit ($p.size * 512) $raw
        try {
            $null = & lvm pvcreate @Lvm -q --devices $pv $pv 2>&1
            $null = & lvm vgcreate @Lvm -q --devices $pv $Vg $pv 2>&1
            foreach ($v in $Volumes) {
                $null = & lvm lvcreate @Lvm -q --devices $pv -an -Zn -L $v.Size -n $v.Name $Vg 2>&1
                $r = Get-LvRange $pv $Vg $v.Name
                $lv = losetup --find --show --offset $r.Offset --sizelimit $r.Size $pv
                try {
                    if ($v.Fs -eq 'ext4') {
                        mkfs.ext4 -q $lv
                        Set-Content (Disk "$Name.txt") "data in $($v.Name)"
                        debugfs -w -R "write $(Disk "$Name.txt") hello.txt" $lv 2>&1 | Out-Null
                    }
                    else { mkfs.xfs -q $lv }
                }
                finally { losetup -d $lv }
            }
        }
        finally { losetup -d $pv }
        $img = Disk "$Name.qcow2"
        qemu-img convert -O qcow2 $raw $img
        Remove-Item $raw
        $img
    }

    # Each LV's file system size as the guest would see it, read from a raw copy of the image.
    function script:Get-LvmLayout([string] $Img, [string] $Vg) {
        $raw = "$Img.check.raw"
        qemu-img convert -O raw $Img $raw
        $p = (sfdisk -J $raw | ConvertFrom-Json).partitiontable.partitions[0]
        $pv = losetup --find --show --offset ($p.start * 512) --sizelimit ($p.size * 512) $raw
        try {
            $names = @(& lvm lvs @Lvm --devices $pv --noheadings -o lv_name $Vg 2>$null | ForEach-Object Trim)
            $out = @{ PvBytes = [long]((& lvm pvs @Lvm --devices $pv --noheadings --nosuffix --units b -o pv_size $pv 2>$null) -join '').Trim() }
            foreach ($n in $names) {
                $r = Get-LvRange $pv $Vg $n
                $lv = losetup --find --show --offset $r.Offset --sizelimit $r.Size $pv
                try {
                    $type = blkid -p -o value -s TYPE $lv
                    if ($type -eq 'ext4') {
                        $h = dumpe2fs -h $lv 2>$null
                        $bytes = [long](($h | Select-String '^Block count:\s+(\d+)').Matches[0].Groups[1].Value) * [long](($h | Select-String '^Block size:\s+(\d+)').Matches[0].Groups[1].Value)
                        $file = debugfs -R 'cat hello.txt' $lv 2>$null
                    }
                    else {
                        $db = xfs_db -r -c 'sb 0' -c 'p dblocks blocksize' $lv
                        $bytes = [long](($db | Select-String 'dblocks = (\d+)').Matches[0].Groups[1].Value) * [long](($db | Select-String 'blocksize = (\d+)').Matches[0].Groups[1].Value)
                        $file = $null
                    }
                    $out[$n] = [pscustomobject]@{ Type = $type; LvBytes = $r.Size; FsBytes = $bytes; File = $file }
                }
                finally { losetup -d $lv }
            }
            [pscustomobject]$out
        }
        finally { losetup -d $pv; Remove-Item $raw }
    }
    $script:Tag = ($env:VZ_TEST_RUN -replace '[^A-Za-z0-9]', '')
}
AfterAll {
    Remove-Item Env:LVM_SUPPRESS_FD_WARNINGS -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'Resize-VzDisk -ResizeGuestFileSystem with LVM on a partition' -Tag Integration, Disks -Skip:(-not $IsRoot) {
    It 'grows by 2 GiB: the partition, the PV, the XFS LV that ends the VG, and its file system' {
        $vg = "vzt$($script:Tag)a"
        $img = New-LvmImage 'lvm-xfs' $vg @(@{ Name = 'root'; Fs = 'ext4'; Size = '64M' }, @{ Name = 'data'; Fs = 'xfs'; Size = '320M' }) 600MB
        $before = Get-LvmLayout $img $vg
        Resize-VzDisk -Confirm:$false $img -Size (600MB + 2GB) -ResizeGuestFileSystem
        $after = Get-LvmLayout $img $vg
        Write-Host ("XFS LV data: {0:N0} -> {1:N0} bytes; ext4 LV root stays {2:N0}" -f $before.data.FsBytes, $after.data.FsBytes, $after.root.FsBytes)
        $after.PvBytes - $before.PvBytes | Should -BeGreaterThan (2GB - 8MB)
        $after.data.Type | Should -Be 'xfs'
        $after.data.FsBytes - $before.data.FsBytes | Should -BeGreaterThan (2GB - 16MB)
        $after.root.FsBytes | Should -Be $before.root.FsBytes
        $after.root.File | Should -Be 'data in root'
        & qemu-img check $img *> $null; $LASTEXITCODE | Should -Be 0
        losetup -a | Where-Object { $_ -match 'export\.raw|lvm-xfs' } | Should -BeNullOrEmpty
    }

    It 'grows an ext4 LV named with -LogicalVolume, keeping its data' {
        $vg = "vzt$($script:Tag)b"
        $img = New-LvmImage 'lvm-ext4' $vg @(@{ Name = 'srv'; Fs = 'xfs'; Size = '320M' }, @{ Name = 'home'; Fs = 'ext4'; Size = '64M' }) 600MB
        $before = Get-LvmLayout $img $vg
        Resize-VzDisk -Confirm:$false $img -Size (600MB + 2GB) -ResizeGuestFileSystem -LogicalVolume home
        $after = Get-LvmLayout $img $vg
        Write-Host ("ext4 LV home: {0:N0} -> {1:N0} bytes" -f $before.home.FsBytes, $after.home.FsBytes)
        $after.home.Type | Should -Be 'ext4'
        $after.home.FsBytes - $before.home.FsBytes | Should -BeGreaterThan (2GB - 16MB)
        $after.home.File | Should -Be 'data in home'
        $after.srv.FsBytes | Should -Be $before.srv.FsBytes
    }

    It 'refuses an LV that is not last, or one the VG lacks, with typed errors' {
        $vg = "vzt$($script:Tag)c"
        $img = New-LvmImage 'lvm-bad' $vg @(@{ Name = 'root'; Fs = 'ext4'; Size = '64M' }, @{ Name = 'data'; Fs = 'xfs'; Size = '320M' }) 600MB
        $err = $null
        try { Resize-VzDisk -Confirm:$false $img -Size 800MB -ResizeGuestFileSystem -LogicalVolume nosuch -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzLogicalVolumeNotFound,Virtuozzo.Commands.ResizeVzDiskCommand'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err = $null
        try { Resize-VzDisk -Confirm:$false $img -Size 900MB -ResizeGuestFileSystem -LogicalVolume root -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskFeatureUnsupported,Virtuozzo.Commands.ResizeVzDiskCommand'
        $err.Exception.Message | Should -Match "followed on the disk by $vg/data"
        (Get-LvmLayout $img $vg).root.File | Should -Be 'data in root'
        losetup -a | Where-Object { $_ -match 'export\.raw|lvm-bad' } | Should -BeNullOrEmpty
    }
}

Describe 'Resize-VzDisk -Shrink -ResizeGuestFileSystem with LVM on a partition' -Tag Integration, Disks -Skip:(-not $IsRoot) {
    It 'shrinks the ext4 LV that ends the VG, its PV and the partition, offline, keeping its data' {
        $vg = "vzt$($script:Tag)s"
        $img = New-LvmImage 'lvm-shrink' $vg @(@{ Name = 'srv'; Fs = 'xfs'; Size = '320M' }, @{ Name = 'home'; Fs = 'ext4'; Size = '200M' }) 600MB
        $before = Get-LvmLayout $img $vg
        Resize-VzDisk -Confirm:$false $img -Size 500MB -Shrink -ResizeGuestFileSystem
        (Get-VzDisk $img).VirtualSize | Should -Be 500MB
        $after = Get-LvmLayout $img $vg
        Write-Host ("ext4 LV home: {0:N0} -> {1:N0} bytes (LV {2:N0}); PV {3:N0} -> {4:N0}" -f $before.home.FsBytes, $after.home.FsBytes, $after.home.LvBytes, $before.PvBytes, $after.PvBytes)
        $after.home.FsBytes | Should -BeLessThan $before.home.FsBytes
        $after.home.FsBytes | Should -BeLessOrEqual $after.home.LvBytes
        $after.home.File | Should -Be 'data in home'
        $after.srv.FsBytes | Should -Be $before.srv.FsBytes
        $after.PvBytes | Should -BeLessThan (500MB - 1MB)
        & qemu-img check -q $img; $LASTEXITCODE | Should -Be 0
        # The GPT is whole again: its backup header sits at the new end.
        $raw = "$img.verify.raw"
        qemu-img convert -O raw $img $raw
        try { $verify = sfdisk --verify $raw 2>&1; $LASTEXITCODE | Should -Be 0 -Because ($verify -join "`n") }
        finally { Remove-Item $raw }
        losetup -a | Where-Object { $_ -match 'export\.raw|lvm-shrink' } | Should -BeNullOrEmpty
    }

    It 'refuses, saying why, an XFS LV (it cannot shrink), an LV that is not last, and a shrink without -Shrink; the image is unchanged' {
        $vg = "vzt$($script:Tag)r"
        $img = New-LvmImage 'lvm-noshrink' $vg @(@{ Name = 'root'; Fs = 'ext4'; Size = '64M' }, @{ Name = 'data'; Fs = 'xfs'; Size = '320M' }) 600MB
        $hash = (Get-FileHash $img).Hash
        $err = $null
        try { Resize-VzDisk -Confirm:$false $img -Size 300MB -Shrink -ResizeGuestFileSystem -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskFeatureUnsupported,Virtuozzo.Commands.ResizeVzDiskCommand'
        $err.CategoryInfo.Category | Should -Be 'NotImplemented'
        $err.Exception.Message | Should -Match "file system 'xfs' in $vg/data, which cannot shrink"
        $err = $null
        try { Resize-VzDisk -Confirm:$false $img -Size 300MB -Shrink -ResizeGuestFileSystem -LogicalVolume root -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskFeatureUnsupported,Virtuozzo.Commands.ResizeVzDiskCommand'
        $err.Exception.Message | Should -Match "$vg/root, followed on the disk by $vg/data"
        $err = $null
        try { Resize-VzDisk -Confirm:$false $img -Size 500MB -ResizeGuestFileSystem -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskShrinkNotAllowed,Virtuozzo.Commands.ResizeVzDiskCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        (Get-FileHash $img).Hash | Should -Be $hash
        (Get-VzDisk $img).VirtualSize | Should -Be 600MB
    }
}
