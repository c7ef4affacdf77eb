# The disk cmdlets against real files and the real qemu-img as the peer. No root needed.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    $script:scope = New-VzTestScope -Name disks
    $script:dir = Join-Path $script:scope.Base 'disks'
    $null = New-Item -ItemType Directory -Path $script:dir -Force
    function script:Disk([string] $name) { Join-Path $script:dir $name }
    function script:QemuInfo([string] $path) { qemu-img info --output=json $path | ConvertFrom-Json }
    function script:QemuCheck([string] $path) { $null = qemu-img check $path 2>&1; $LASTEXITCODE }
}
AfterAll { Remove-VzTestScope $script:scope }

# Exact parameter lists of every cmdlet are asserted in one place: Parameters.Tests.ps1 with Parameters.psd1.

Describe 'New-VzDisk' -Tag Unit, Disks {
    It 'creates an image qemu-img checks clean, with the size and cluster size asked for' {
        $d = New-VzDisk (Disk 'new1.qcow2') -Size 3GB -ClusterSize 4KB -LazyRefcounts
        $d | Should -BeOfType Virtuozzo.Engine.Disks.DiskInfo
        QemuCheck $d.Path | Should -Be 0
        $q = QemuInfo $d.Path
        $q.'virtual-size' | Should -Be 3GB
        $q.'cluster-size' | Should -Be 4KB
        $q.'format-specific'.data.'lazy-refcounts' | Should -BeTrue
    }

    It 'creates an overlay that inherits the backing size' {
        $base = New-VzDisk (Disk 'base.qcow2') -Size 1GB
        $o = New-VzDisk (Disk 'overlay.qcow2') -BackingDisk $base.Path -RelativeBackingPath
        $o.VirtualSize | Should -Be 1GB
        $o.BackingFile | Should -Be 'base.qcow2'
        (QemuInfo $o.Path).'backing-filename-format' | Should -Be 'qcow2'
    }

    It 'creates nothing under -WhatIf' {
        New-VzDisk (Disk 'whatif.qcow2') -Size 1GB -WhatIf
        Test-Path (Disk 'whatif.qcow2') | Should -BeFalse
    }

    It 'refuses an existing file and leaves it alone' {
        Set-Content (Disk 'exists.qcow2') 'keep'
        { New-VzDisk (Disk 'exists.qcow2') -Size 1GB -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskAlreadyExists,Virtuozzo.Commands.NewVzDiskCommand'
        Get-Content (Disk 'exists.qcow2') | Should -Be 'keep'
    }

    It 'refuses a cluster size that is not a power of two, leaving no file' {
        { New-VzDisk (Disk 'bad.qcow2') -Size 1GB -ClusterSize 3000 -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskInvalidClusterSize,Virtuozzo.Commands.NewVzDiskCommand'
        Get-ChildItem $script:dir -Force -Filter '*bad*' | Should -BeNullOrEmpty
    }

    It 'needs a size without a backing disk' {
        { New-VzDisk (Disk 'nosize.qcow2') -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskSizeRequired,Virtuozzo.Commands.NewVzDiskCommand'
    }
}

Describe 'Get-VzDisk' -Tag Unit, Disks {
    BeforeAll {
        $script:g = Join-Path $script:dir 'get'
        $null = New-Item -ItemType Directory $script:g
        foreach ($n in 'a', 'b', 'c') { $null = New-VzDisk (Join-Path $script:g "$n.qcow2") -Size 256MB }
        qemu-img create -q -f raw (Join-Path $script:g 'd.raw') 64M
        qemu-io -f qcow2 -c 'write -P 7 0 3M' (Join-Path $script:g 'a.qcow2') | Out-Null
    }

    It 'expands wildcards' {
        (Get-VzDisk (Join-Path $script:g '*.qcow2')).Count | Should -Be 3
    }

    It 'takes many paths' {
        (Get-VzDisk (Join-Path $script:g 'a.qcow2'), (Join-Path $script:g 'd.raw')).Format | Should -Be 'qcow2', 'raw'
    }

    It 'takes files from Get-ChildItem' {
        $disks = Get-ChildItem $script:g | Get-VzDisk
        $disks.Count | Should -Be 4
        ($disks | Where-Object Format -eq 'raw').VirtualSize | Should -Be 64MB
    }

    It 'agrees with qemu-img info' {
        $d = Get-VzDisk (Join-Path $script:g 'a.qcow2')
        $q = QemuInfo $d.Path
        $d.VirtualSize | Should -Be $q.'virtual-size'
        $d.ActualSize | Should -Be $q.'actual-size'
        $d.ClusterSize | Should -Be $q.'cluster-size'
        $d.Compat | Should -Be $q.'format-specific'.data.compat
        $d.RefcountBits | Should -Be $q.'format-specific'.data.'refcount-bits'
        $d.AllocatedSize | Should -Be 3MB
    }

    It 'reports a missing file and goes on with the others' {
        $out = Get-VzDisk (Join-Path $script:g 'missing.qcow2'), (Join-Path $script:g 'b.qcow2') -ErrorVariable err -ErrorAction SilentlyContinue
        $out.Path | Should -Be (Join-Path $script:g 'b.qcow2')
        $err[0].FullyQualifiedErrorId | Should -Be 'VzDiskNotFound,Virtuozzo.Commands.GetVzDiskCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'gives a typed error for a damaged image' {
        $bad = Join-Path $script:dir 'damaged.qcow2'
        [IO.File]::WriteAllBytes($bad, [byte[]](0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3) + [byte[]]::new(200))
        { Get-VzDisk $bad -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskCorrupt,Virtuozzo.Commands.GetVzDiskCommand'
    }

    It 'matching nothing with a wildcard is not an error' {
        Get-VzDisk (Join-Path $script:g '*.vmdk') -ErrorAction Stop | Should -BeNullOrEmpty
    }
}

Describe 'Resize-VzDisk' -Tag Unit, Disks {
    BeforeEach {
        $script:r = Disk "resize-$([guid]::NewGuid().ToString('N').Substring(0, 6)).qcow2"
        $null = New-VzDisk $script:r -Size 1GB -ClusterSize 4KB
        qemu-io -f qcow2 -c 'write -P 9 0 1M' -c 'write -P 8 1000M 1M' $script:r | Out-Null
    }

    It 'grows a disk; qemu-img checks it clean and the data is intact' {
        $copy = "$script:r.ref"
        Copy-Item $script:r $copy
        $d = Resize-VzDisk -Confirm:$false $script:r -Size 64GB -PassThru
        $d.VirtualSize | Should -Be 64GB
        QemuCheck $script:r | Should -Be 0
        qemu-img compare $copy $script:r | Out-Null
        $LASTEXITCODE | Should -Be 0
    }

    It 'takes disks from Get-VzDisk' {
        Get-VzDisk $script:r | Resize-VzDisk -Confirm:$false -Size 2GB
        (QemuInfo $script:r).'virtual-size' | Should -Be 2GB
    }

    It 'changes nothing under -WhatIf' {
        Resize-VzDisk $script:r -Size 5GB -WhatIf
        (QemuInfo $script:r).'virtual-size' | Should -Be 1GB
    }

    It 'needs -Shrink to shrink' {
        { Resize-VzDisk -Confirm:$false $script:r -Size 512MB -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskShrinkNotAllowed,Virtuozzo.Commands.ResizeVzDiskCommand'
    }

    It 'refuses to shrink over data and changes nothing' {
        { Resize-VzDisk -Confirm:$false $script:r -Size 512MB -Shrink -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskShrinkWouldLoseData,Virtuozzo.Commands.ResizeVzDiskCommand'
        (QemuInfo $script:r).'virtual-size' | Should -Be 1GB
    }

    It 'shrinks when nothing is stored past the new end' {
        Resize-VzDisk -Confirm:$false $script:r -Size 1001MB -Shrink
        (QemuInfo $script:r).'virtual-size' | Should -Be 1001MB
        QemuCheck $script:r | Should -Be 0
    }

    It 'refuses a size that is not a multiple of 512' {
        { Resize-VzDisk -Confirm:$false $script:r -Size 1000001 -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskInvalidSize,Virtuozzo.Commands.ResizeVzDiskCommand'
    }
}

Describe 'Test-VzDisk' -Tag Unit, Disks {
    It 'reports a clean image as clean' {
        $d = New-VzDisk (Disk 'check.qcow2') -Size 1GB
        $r = $d | Test-VzDisk
        $r | Should -BeOfType Virtuozzo.Engine.Disks.DiskCheckResult
        $r.IsClean | Should -BeTrue
        $r.TotalClusters | Should -Be (1GB / 64KB)
    }

    It 'has nothing to check in a raw image' {
        qemu-img create -q -f raw (Disk 'check.raw') 1M
        { Test-VzDisk (Disk 'check.raw') -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskFeatureUnsupported,Virtuozzo.Commands.TestVzDiskCommand'
    }

    It 'repairs nothing under -WhatIf' {
        Test-VzDisk (Disk 'check.qcow2') -Repair -WhatIf | Should -BeNullOrEmpty
    }
}

Describe 'Optimize-VzDisk and Convert-VzDisk' -Tag Integration, Disks {
    It 'compacts a disk whose data was discarded' {
        $p = Disk 'compact.qcow2'
        $null = New-VzDisk $p -Size 1GB
        qemu-io -f qcow2 -c 'write -P 1 0 64M' -c 'discard 0 60M' $p | Out-Null
        $before = (Get-Item $p).Length
        $after = Optimize-VzDisk $p -PassThru -Confirm:$false
        $after.FileSize | Should -BeLessThan ($before / 4)
        QemuCheck $p | Should -Be 0
        Get-ChildItem $script:dir -Force -Filter '*.vz-tmp' | Should -BeNullOrEmpty
    }

    It 'converts to raw into a new file and refuses an existing destination' {
        $p = Disk 'conv.qcow2'
        $null = New-VzDisk $p -Size 64MB
        qemu-io -f qcow2 -c 'write -P 5 1M 1M' $p | Out-Null
        $raw = Convert-VzDisk -Confirm:$false $p -Format Raw -DestinationPath (Disk 'conv.img') -PassThru
        $raw.Format | Should -Be 'raw'
        qemu-img compare $p $raw.Path | Out-Null
        $LASTEXITCODE | Should -Be 0
        { Convert-VzDisk -Confirm:$false $p -Format Raw -DestinationPath (Disk 'conv.img') -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskAlreadyExists,Virtuozzo.Commands.ConvertVzDiskCommand'
    }

    It 'converts in place under the same name' {
        $p = Disk 'inplace.img'
        qemu-img create -q -f raw $p 32M
        Get-VzDisk $p | Convert-VzDisk -Confirm:$false -Format Qcow2
        (Get-VzDisk $p).Format | Should -Be 'qcow2'
    }
}

Describe 'Resize-VzDisk -ResizeGuestFileSystem' -Tag Integration, Disks {
    BeforeAll {
        # A disk image with a GPT and one partition holding a file system and a file, built through a loop device.
        function script:New-GuestImage([string] $name, [string] $fs, [long] $size, [switch] $AsRaw) {
            $raw = Disk "$name.raw"
            $null = & truncate -s $size $raw
            "label: gpt`n,,L`n" | sfdisk -q $raw
            $p = (sfdisk -J $raw | ConvertFrom-Json).partitiontable.partitions[0]
            $loop = losetup --find --show --offset ($p.start * 512) --sizelimit ($p.size * 512) $raw
            try {
                if ($fs -eq 'ext4') {
                    mkfs.ext4 -q $loop
                    Set-Content (Disk "$name.txt") 'guest data'
                    debugfs -w -R "write $(Disk "$name.txt") hello.txt" $loop 2>&1 | Out-Null
                }
                elseif ($fs -eq 'lvm') { $null = pvcreate -q --devices $loop $loop 2>&1 }
                else { mkfs.xfs -q $loop }
            }
            finally { losetup -d $loop }
            if ($AsRaw) { return $raw }
            $img = Disk "$name.qcow2"
            qemu-img convert -O qcow2 $raw $img
            Remove-Item $raw
            $img
        }
        # Reads the grown partition and file system back through a raw copy.
        function script:Get-GuestLayout([string] $img) {
            $raw = "$img.check.raw"
            qemu-img convert -O raw $img $raw
            $t = (sfdisk -J $raw | ConvertFrom-Json).partitiontable
            $p = $t.partitions[0]
            $loop = losetup --find --show --offset ($p.start * 512) --sizelimit ($p.size * 512) $raw
            try {
                $type = blkid -p -o value -s TYPE $loop
                $fsBytes = if ($type -eq 'LVM2_member') {
                    [long]((pvs --devices $loop --noheadings --nosuffix --units b -o pv_size $loop 2>$null) -join '').Trim()
                }
                elseif ($type -eq 'ext4') {
                    $h = dumpe2fs -h $loop 2>$null
                    [long](($h | Select-String '^Block count:\s+(\d+)').Matches[0].Groups[1].Value) * [long](($h | Select-String '^Block size:\s+(\d+)').Matches[0].Groups[1].Value)
                }
                else {
                    $db = xfs_db -r -c 'sb 0' -c 'p dblocks blocksize' $loop
                    [long](($db | Select-String 'dblocks = (\d+)').Matches[0].Groups[1].Value) * [long](($db | Select-String 'blocksize = (\d+)').Matches[0].Groups[1].Value)
                }
                $file = if ($type -eq 'ext4') { debugfs -R 'cat hello.txt' $loop 2>$null } else { $null }
                [pscustomobject]@{ LastLba = $t.lastlba; PartEnd = $p.start + $p.size; PartBytes = $p.size * 512; FsBytes = $fsBytes; Type = $type; File = $file }
            }
            finally { losetup -d $loop; Remove-Item $raw }
        }
    }

    It 'grows an ext4 partition and file system, keeping the data' {
        $img = New-GuestImage 'guest-ext4' 'ext4' 200MB
        Resize-VzDisk -Confirm:$false $img -Size 600MB -ResizeGuestFileSystem
        QemuCheck $img | Should -Be 0
        $g = Get-GuestLayout $img
        $g.Type | Should -Be 'ext4'
        $g.PartEnd | Should -BeGreaterThan (590MB / 512)
        $g.FsBytes | Should -BeGreaterThan 550MB
        $g.File | Should -Be 'guest data'
    }

    It 'grows an XFS partition and file system' {
        $img = New-GuestImage 'guest-xfs' 'xfs' 400MB
        Resize-VzDisk -Confirm:$false $img -Size 900MB -ResizeGuestFileSystem
        QemuCheck $img | Should -Be 0
        $g = Get-GuestLayout $img
        $g.Type | Should -Be 'xfs'
        $g.FsBytes | Should -BeGreaterThan 800MB
    }

    It 'grows an LVM physical volume' {
        $img = New-GuestImage 'guest-lvm' 'lvm' 200MB
        Resize-VzDisk -Confirm:$false $img -Size 500MB -ResizeGuestFileSystem
        $g = Get-GuestLayout $img
        $g.Type | Should -Be 'LVM2_member'
        $g.FsBytes | Should -BeGreaterThan 450MB
    }

    It 'grows ext4 in a raw image directly' {
        $img = New-GuestImage 'guest-raw' 'ext4' 200MB -AsRaw
        Resize-VzDisk -Confirm:$false $img -Size 400MB -ResizeGuestFileSystem
        (Get-Item $img).Length | Should -Be 400MB
        $g = Get-GuestLayout $img
        $g.FsBytes | Should -BeGreaterThan 350MB
        $g.File | Should -Be 'guest data'
    }

    It 'refuses a disk without a partition table and leaves nothing set up' {
        $img = Disk 'guest-empty.qcow2'
        $null = New-VzDisk $img -Size 64MB
        { Resize-VzDisk -Confirm:$false $img -Size 128MB -ResizeGuestFileSystem -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskNoPartition,Virtuozzo.Commands.ResizeVzDiskCommand'
        losetup -a | Where-Object { $_ -match 'export\.raw' } | Should -BeNullOrEmpty
        Get-Content /proc/self/mountinfo | Where-Object { $_ -match 'disk-resize' } | Should -BeNullOrEmpty
    }
}
