# Issue 19: foreign disk images (VMDK, VHDX, VHD, VDI, Parallels, QED, qcow v1) made by qemu-img itself are
# recognised by content, described as qemu-img describes them, converted to QCOW2 (and back) identically, and
# refused where an operation does not apply, unchanged. Hostile headers give typed errors and write nothing.
BeforeDiscovery {
    # Formats qemu-img writes, with the backing format each allows (none: no backing files).
    $script:formats = @(
        @{ Format = 'qcow';      Backing = 'qcow2' }
        @{ Format = 'vmdk';      Backing = 'vmdk' }
        @{ Format = 'vhdx';      Backing = $null }
        @{ Format = 'vpc';       Backing = $null }
        @{ Format = 'vdi';       Backing = $null }
        @{ Format = 'parallels'; Backing = $null }
        @{ Format = 'qed';       Backing = 'qcow2' }
    )
    $script:images = foreach ($f in $script:formats) {
        foreach ($v in 'empty', 'data', 'backing') {
            if ($v -eq 'backing' -and -not $f.Backing) { continue }
            @{ Format = $f.Format; Variant = $v; Backing = $f.Backing }
        }
    }
    # Per format: a header cut short (Truncate bytes kept) and a size field at its limit (Offset, Bytes).
    $script:hostile = @(
        @{ Format = 'vdi';       Kind = 'truncated';   Truncate = 0x50; Offset = 0;     Bytes = @() }
        @{ Format = 'vdi';       Kind = 'size bomb';   Truncate = -1;   Offset = 0x170; Bytes = @(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f) }
        @{ Format = 'qcow';      Kind = 'truncated';   Truncate = 40;   Offset = 0;     Bytes = @() }
        @{ Format = 'qcow';      Kind = 'size bomb';   Truncate = -1;   Offset = 24;    Bytes = @(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) }
        @{ Format = 'qed';       Kind = 'truncated';   Truncate = 100;  Offset = 0;     Bytes = @() }
        @{ Format = 'qed';       Kind = 'size bomb';   Truncate = -1;   Offset = 48;    Bytes = @(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) }
        @{ Format = 'parallels'; Kind = 'truncated';   Truncate = 40;   Offset = 0;     Bytes = @() }
        @{ Format = 'parallels'; Kind = 'size bomb';   Truncate = -1;   Offset = 32;    Bytes = @(0xff, 0xff, 0xff, 0xff) }
        @{ Format = 'vmdk';      Kind = 'truncated';   Truncate = 100;  Offset = 0;     Bytes = @() }
        @{ Format = 'vmdk';      Kind = 'size bomb';   Truncate = -1;   Offset = 12;    Bytes = @(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) }
        @{ Format = 'vpc';       Kind = 'truncated';   Truncate = 100;  Offset = 0;     Bytes = @() }
        @{ Format = 'vpc';       Kind = 'size bomb';   Truncate = -1;   Offset = 540;   Bytes = @(0xff, 0xff, 0xff, 0xff) }
        @{ Format = 'vhdx';      Kind = 'truncated';   Truncate = 70000; Offset = 0;    Bytes = @() }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    $script:scope = New-VzTestScope -Name diskformats
    $script:dir = Join-Path $script:scope.Base 'formats'
    $null = New-Item -ItemType Directory -Path $script:dir -Force
    function script:In([string] $name) { Join-Path $script:dir $name }
    function script:QemuInfo([string] $path, [string] $format) { & qemu-img info --output=json -f $format $path | ConvertFrom-Json }
    function script:Same([string] $a, [string] $aFormat, [string] $b, [string] $bFormat) {
        $null = & qemu-img compare -f $aFormat -F $bFormat $a $b 2>&1
        $LASTEXITCODE
    }

    # One image per format and variant, made and filled by qemu-img and qemu-io only.
    function script:New-ForeignImage([string] $Format, [string] $Variant, [string] $Backing) {
        $path = In "$Variant.$Format"
        if (Test-Path $path) { return $path }
        if ($Variant -eq 'backing') {
            $base = In "base-for-$Format.$Backing"
            & qemu-img create -q -f $Backing $base 64M
            & qemu-io -f $Backing -c 'write -P 0x33 0 2M' $base | Out-Null
            & qemu-img create -q -f $Format -b (Split-Path $base -Leaf) -F $Backing $path
            & qemu-io -f $Format -c 'write -P 0x5a 1M 1M' $path | Out-Null
        }
        else {
            & qemu-img create -q -f $Format $path 64M
            if ($Variant -eq 'data') { & qemu-io -f $Format -c 'write -P 0x5a 0 1M' -c 'write -P 0xa5 32M 64k' $path | Out-Null }
        }
        $path
    }
}

AfterAll {
    Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:scope
}

Describe '<Format> image, <Variant>' -Tag Unit, Disks, DiskFormats -ForEach $images {
    BeforeAll { $script:img = New-ForeignImage $Format $Variant $Backing }

    It 'Get-VzDisk agrees with qemu-img info on format, virtual size and backing file' {
        $q = QemuInfo $script:img $Format
        $d = Get-VzDisk $script:img
        $d.Format | Should -Be $q.format
        $d.Format | Should -Be $Format
        $d.VirtualSize | Should -Be $q.'virtual-size'
        $d.BackingFile | Should -Be $q.'backing-filename'
    }

    It 'Convert-VzDisk -Format Qcow2 gives an image qemu-img compare calls identical' {
        $dest = In "$Variant-$Format-to.qcow2"
        $d = Convert-VzDisk $script:img -Format Qcow2 -DestinationPath $dest -Confirm:$false -PassThru
        $d.Format | Should -Be 'qcow2'
        $d.BackingFile | Should -BeNullOrEmpty -Because 'a converted image stands alone'
        Same $script:img $Format $dest 'qcow2' | Should -Be 0
        $null = & qemu-img check $dest 2>&1
        $LASTEXITCODE | Should -Be 0
    }

    It 'Resize-VzDisk grows it where the format resizes, or refuses and leaves it unchanged' {
        $copy = In "$Variant-resize.$Format"
        Copy-Item $script:img $copy
        $before = (Get-FileHash $copy).Hash
        $err = $null
        try { Resize-VzDisk $copy -Size 128MB -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        if ($Format -eq 'qed') {
            $err | Should -BeNullOrEmpty
            (QemuInfo $copy $Format).'virtual-size' | Should -Be 128MB
            (Get-VzDisk $copy).VirtualSize | Should -Be 128MB
            $null = & qemu-img check -f $Format $copy 2>&1
            $LASTEXITCODE | Should -Be 0
        }
        else {
            $err.FullyQualifiedErrorId | Should -Be 'VzDiskFormatUnsupported,Virtuozzo.Commands.ResizeVzDiskCommand'
            $err.CategoryInfo.Category | Should -Be 'NotImplemented'
            $err.ErrorDetails.RecommendedAction | Should -BeLike '*Convert-VzDisk*'
            (Get-FileHash $copy).Hash | Should -Be $before
        }
    }
}

Describe 'Foreign images with the other disk cmdlets' -Tag Unit, Disks, DiskFormats {
    BeforeAll {
        $script:mixed = In 'mixed'
        $null = New-Item -ItemType Directory $script:mixed
        foreach ($f in 'qcow2', 'raw', 'qcow', 'vmdk', 'vhdx', 'vpc', 'vdi', 'parallels', 'qed') {
            & qemu-img create -q -f $f (Join-Path $script:mixed "d.$f") 64M
        }
    }

    It 'Get-VzDisk over a folder of mixed images reports each one as qemu-img does' {
        $disks = Get-VzDisk (Join-Path $script:mixed '*')
        $disks.Count | Should -Be 9
        foreach ($d in $disks) {
            $q = & qemu-img info --output=json $d.Path | ConvertFrom-Json
            $d.Format | Should -Be $q.format -Because $d.Path
            $d.VirtualSize | Should -Be $q.'virtual-size' -Because $d.Path   # VHD rounds 64 MiB to its CHS geometry
        }
    }

    It 'Test-VzDisk checks the formats qemu-img checks and refuses the others by name' {
        foreach ($f in 'vmdk', 'vhdx', 'vdi', 'parallels', 'qed') {
            $r = Test-VzDisk (Join-Path $script:mixed "d.$f")
            $r.Format | Should -Be $f
            $r.IsClean | Should -BeTrue
        }
        foreach ($f in 'vpc', 'qcow') {
            { Test-VzDisk (Join-Path $script:mixed "d.$f") -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskFormatUnsupported,Virtuozzo.Commands.TestVzDiskCommand'
        }
    }

    It 'Optimize-VzDisk compacts qcow2 only: a VHDX or a raw image is refused and unchanged' {
        foreach ($f in 'vhdx', 'raw') {
            $p = Join-Path $script:mixed "d.$f"
            $before = (Get-FileHash $p).Hash
            $err = $null
            try { Optimize-VzDisk $p -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzDiskFormatUnsupported,Virtuozzo.Commands.OptimizeVzDiskCommand'
            $err.Exception.Message | Should -BeLike '*format*'
            (Get-FileHash $p).Hash | Should -Be $before
        }
    }

    It 'Convert-VzDisk writes each format qemu-img writes, from QCOW2, identically' {
        $src = In 'source.qcow2'
        & qemu-img create -q -f qcow2 $src 64M
        & qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' -c 'write -P 0x11 40M 128k' $src | Out-Null
        foreach ($f in 'Raw', 'Qcow', 'Vmdk', 'Vhdx', 'Vpc', 'Vdi', 'Parallels', 'Qed') {
            $dest = In "back.$($f.ToLowerInvariant())"
            $d = Convert-VzDisk $src -Format $f -DestinationPath $dest -Confirm:$false -PassThru
            $d.Format | Should -Be $f.ToLowerInvariant()
            Same $src 'qcow2' $dest $f.ToLowerInvariant() | Should -Be 0 -Because "qcow2 -> $f"
        }
    }

    It 'refuses to write a format qemu-img only reads' {
        { Convert-VzDisk (Join-Path $script:mixed 'd.qcow2') -Format Dmg -DestinationPath (In 'x.dmg') -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzDiskFormatNotWritable,Virtuozzo.Commands.ConvertVzDiskCommand'
        Test-Path (In 'x.dmg') | Should -BeFalse
    }
}

Describe '<Kind> <Format> header' -Tag Unit, Disks, DiskFormats -ForEach $hostile {
    It 'gives VzDiskCorrupt (InvalidData) on Get, Convert and Resize, and writes nothing' {
        $sub = In "hostile-$Format-$($Kind -replace ' ', '')"
        $null = New-Item -ItemType Directory $sub -Force
        $p = Join-Path $sub "h.$Format"
        & qemu-img create -q -f $Format $p 64M
        $fs = [IO.File]::Open($p, 'Open', 'ReadWrite')
        try {
            if ($Truncate -ge 0) { $fs.SetLength($Truncate) }
            else { $fs.Position = $Offset; $fs.Write([byte[]]$Bytes, 0, $Bytes.Count) }
        }
        finally { $fs.Dispose() }
        $before = (Get-FileHash $p).Hash

        $err = $null
        try { Get-VzDisk $p -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskCorrupt,Virtuozzo.Commands.GetVzDiskCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        { Convert-VzDisk $p -Format Qcow2 -DestinationPath (Join-Path $sub 'out.qcow2') -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzDiskCorrupt,Virtuozzo.Commands.ConvertVzDiskCommand'
        { Resize-VzDisk $p -Size 128MB -Confirm:$false -ErrorAction Stop } | Should -Throw
        (Get-FileHash $p).Hash | Should -Be $before
        @(Get-ChildItem -Force $sub).Name | Should -Be @("h.$Format")
    }
}

Describe 'VMs from foreign images boot the test guest' -Tag Integration, Slow, Vms, DiskFormats {
    BeforeAll {
        $root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
        $script:guest = & (Join-Path $root 'tools/testguest/Get-VzTestGuest.ps1') -Root $root
        # An ext4 file system with a marker file, written on the host, then carried in a VHDX and a VMDK.
        function script:New-MarkedImage([string] $Name, [string] $Format, [string] $Marker) {
            $raw = In "$Name.raw"
            & truncate -s 64M $raw
            & mkfs.ext4 -q -F -L $Name $raw
            $file = In "$Name-marker.txt"
            Set-Content $file $Marker -NoNewline
            & debugfs -w -R "write $file marker.txt" $raw 2>&1 | Out-Null
            (& debugfs -R 'cat marker.txt' $raw 2>$null) | Should -Be $Marker
            $img = In "$Name.$Format"
            & qemu-img convert -f raw -O $Format $raw $img
            Remove-Item $raw, $file
            $img
        }
        $script:markA = "VZMARKER-VHDX-$([guid]::NewGuid().ToString('N'))"
        $script:markB = "VZMARKER-VMDK-$([guid]::NewGuid().ToString('N'))"
        $script:vhdx = New-MarkedImage 'fromvhdx' 'vhdx' $script:markA
        $script:vmdk = New-MarkedImage 'fromvmdk' 'vmdk' $script:markB
        $script:vhdxHash = (Get-FileHash $script:vhdx).Hash
        # One boot covers both: the system disk converted from the VHDX, a second disk attached as VMDK in place.
        $null = New-VzVm fmt1 -MemorySize 512MB -DiskPath $script:vhdx -Convert -Network None `
            -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments
        $script:attached = Add-VzVmDisk fmt1 -Path $script:vmdk -PassThru
        $script:vm = Start-VzVm fmt1 -Wait -Timeout 120 -PassThru
        # The Debian cloud kernel has ext4 built in (CONFIG_EXT4_FS=y), so the busybox guest mounts the file system
        # read-only and reads the file ("fs:"); "dev:" would mean only the raw bytes were found on the device.
        function script:Read-Marker([string] $Device, [string] $Marker) {
            $cmd = "mkdir -p /mnt/$Device; if mount -t ext4 -o ro /dev/$Device /mnt/$Device 2>/dev/null; then echo fs:`$(cat /mnt/$Device/marker.txt); umount /mnt/$Device; " +
                "else grep -q '$Marker' /dev/$Device && echo 'dev:$Marker'; fi"
            (Invoke-VzVmCommand fmt1 -Command sh -ArgumentList '-c', $cmd).StdOut.Trim()
        }
    }

    It 'keeps the VHDX as it was and runs from a qcow2 copy in the VM folder' {
        $disk = (Get-VzVm fmt1).Disks | Where-Object DiskId -eq 'disk0'
        (Get-VzDisk $disk.Path).Format | Should -Be 'qcow2'
        $disk.Path | Should -Not -Be $script:vhdx
        (Get-FileHash $script:vhdx).Hash | Should -Be $script:vhdxHash
    }

    It 'attaches the VMDK in place with the vmdk driver' {
        $script:attached.Path | Should -Be $script:vmdk
        $p = (Get-Content "/proc/$($script:vm.ProcessId)/cmdline" -Raw) -replace "`0", ' '
        $p | Should -Match '"driver":"vmdk"'
    }

    It 'boots, and the guest reads the marker written into each image on the host' {
        $script:vm.State | Should -Be 'Running'
        Read-Marker 'vda' $script:markA | Should -Be "fs:$($script:markA)"
        Read-Marker 'vdb' $script:markB | Should -Be "fs:$($script:markB)"
    }
}
