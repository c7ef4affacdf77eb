# Issue 9, data loss: every disk-touching cmdlet and parameter goes through the engine's disk path gate. Against a
# text file, an ELF binary, a folder, a symlink to a text file, a FIFO, a block device node (over a loop device) and
# a character device node, each is refused with VzDiskPathRefused / InvalidArgument, and each target is afterwards
# byte-identical and of the same type. Root is needed for mknod and losetup.
BeforeDiscovery {
    # One case per cmdlet and parameter that takes a disk path; {0} is the target, {1} a fresh path, {2} a VM name.
    $script:operations = @(
        @{ Op = 'Get-VzDisk -Path';                     Class = 'GetVzDiskCommand';        Run = { param($p, $new, $vm) Get-VzDisk -Path $p -ErrorAction Stop } }
        @{ Op = 'Test-VzDisk -Path';                    Class = 'TestVzDiskCommand';       Run = { param($p, $new, $vm) Test-VzDisk -Path $p -ErrorAction Stop } }
        @{ Op = 'Test-VzDisk -Path -Repair';            Class = 'TestVzDiskCommand';       Run = { param($p, $new, $vm) Test-VzDisk -Path $p -Repair -Confirm:$false -ErrorAction Stop } }
        @{ Op = 'Resize-VzDisk -Path';                  Class = 'ResizeVzDiskCommand';     Run = { param($p, $new, $vm) Resize-VzDisk -Path $p -Size 64MB -Confirm:$false -ErrorAction Stop } }
        @{ Op = 'Optimize-VzDisk -Path';                Class = 'OptimizeVzDiskCommand';   Run = { param($p, $new, $vm) Optimize-VzDisk -Path $p -Confirm:$false -ErrorAction Stop } }
        @{ Op = 'Convert-VzDisk -Path (in place)';      Class = 'ConvertVzDiskCommand';    Run = { param($p, $new, $vm) Convert-VzDisk -Path $p -Format Qcow2 -Confirm:$false -ErrorAction Stop } }
        @{ Op = 'Convert-VzDisk -Path -DestinationPath'; Class = 'ConvertVzDiskCommand';   Run = { param($p, $new, $vm) Convert-VzDisk -Path $p -Format Qcow2 -DestinationPath $new -Confirm:$false -ErrorAction Stop } }
        @{ Op = 'New-VzDisk -BackingDisk';              Class = 'NewVzDiskCommand';        Run = { param($p, $new, $vm) New-VzDisk -Path $new -BackingDisk $p -ErrorAction Stop } }
        @{ Op = 'New-VzVm -DiskPath';                   Class = 'NewVzVmCommand';          Run = { param($p, $new, $vm) New-VzVm -Name "n$vm" -DiskPath $p -ErrorAction Stop } }
        @{ Op = 'New-VzVm -DiskPath -Convert';          Class = 'NewVzVmCommand';          Run = { param($p, $new, $vm) New-VzVm -Name "c$vm" -DiskPath $p -Convert -ErrorAction Stop } }
        @{ Op = 'New-VzVm -IsoPath';                    Class = 'NewVzVmCommand';          Run = { param($p, $new, $vm) New-VzVm -Name "i$vm" -IsoPath $p -ErrorAction Stop } }
        @{ Op = 'Add-VzVmDisk -Path';                   Class = 'AddVzVmDiskCommand';      Run = { param($p, $new, $vm) Add-VzVmDisk -Name $vm -Path $p -ErrorAction Stop } }
        @{ Op = 'Add-VzVmDisk -Path -Convert';          Class = 'AddVzVmDiskCommand';      Run = { param($p, $new, $vm) Add-VzVmDisk -Name $vm -Path $p -Convert -ErrorAction Stop } }
        @{ Op = 'Add-VzVmDvdDrive -Path';               Class = 'AddVzVmDvdDriveCommand';  Run = { param($p, $new, $vm) Add-VzVmDvdDrive -Name $vm -Path $p -ErrorAction Stop } }
    )
    # What each target is, as the error says it.
    $script:targets = @(
        @{ Target = 'text';  What = 'a text file, not a disk image' }
        @{ Target = 'elf';   What = 'an ELF executable, not a disk image' }
        @{ Target = 'folder'; What = 'a folder' }
        @{ Target = 'link';  What = 'which is a text file, not a disk image' }
        @{ Target = 'fifo';  What = 'a FIFO (named pipe)' }
        @{ Target = 'block'; What = 'a block device' }
        @{ Target = 'char';  What = 'a character device' }
    )
    $script:cases = foreach ($o in $script:operations) { foreach ($t in $script:targets) { $o + $t } }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    $script:scope = New-VzTestScope -Name disksafety
    $script:dir = Join-Path $script:scope.Base 'safety'
    $null = New-Item -ItemType Directory -Path $script:dir -Force
    function script:In([string] $name) { Join-Path $script:dir $name }

    # The stand-ins: never real system files.
    $text = In 'passwd'
    Copy-Item /etc/passwd $text
    # Sector-aligned, so the size alone does not give it away.
    $len = (Get-Item $text).Length
    Add-Content -Path $text -Value ('#' * (4096 - ($len % 4096))) -NoNewline
    $elf = In 'true'
    Copy-Item /bin/true $elf
    $folder = In 'folder'
    $null = New-Item -ItemType Directory $folder
    $link = In 'link.qcow2'
    $null = New-Item -ItemType SymbolicLink -Path $link -Target $text
    $fifo = In 'fifo'
    & mkfifo $fifo
    $script:backing = In 'loop-backing.img'
    & truncate -s 16M $script:backing
    $script:loop = (& losetup --find --show $script:backing).Trim()
    $majmin = (Get-Content "/sys/class/block/$(Split-Path $script:loop -Leaf)/dev").Split(':')
    $block = In 'blockdev'
    & mknod $block b $majmin[0] $majmin[1]
    $char = In 'chardev'
    & mknod $char c 1 3
    $script:paths = @{ text = $text; elf = $elf; folder = $folder; link = $link; fifo = $fifo; block = $block; char = $char }

    # A stopped VM to add disks and DVD drives to.
    $script:vmName = 'safe1'
    $null = New-VzVm $script:vmName -MemorySize 64MB

    # What a target is and holds: its type and device number (stat, not following links), and for what can be
    # read without blocking, its bytes. A FIFO is not read (it would block), only stat'ed.
    function script:Get-Fingerprint([string] $Path) {
        $stat = & stat -c '%F|%s|%t:%T|%a' $Path
        $hash = switch -Regex ($stat) {
            '^regular' { (Get-FileHash $Path -Algorithm SHA256).Hash }
            '^symbolic link' { "-> $((Get-Item $Path).LinkTarget) " + (Get-FileHash $Path -Algorithm SHA256).Hash }
            '^directory' { (Get-ChildItem -Force $Path | ForEach-Object Name) -join ',' }
            '^block' { (Get-FileHash $script:backing -Algorithm SHA256).Hash }
            default { '' }
        }
        "$stat|$hash"
    }
}

AfterAll {
    Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    if ($script:loop) { & losetup -d $script:loop }
    Remove-VzTestScope $script:scope
}

Describe '<Op> on <Target>' -Tag Unit, Disks, DiskSafety -ForEach $cases {
    It 'is refused ("<What>"), with the target unchanged' {
        $p = $script:paths[$Target]
        $new = In "new-$([guid]::NewGuid().ToString('N')).qcow2"
        $before = Get-Fingerprint $p
        $backingBefore = (Get-FileHash $script:backing).Hash
        $vmsBefore = @(Get-VzVm).Count
        $err = $null
        try { & $Run $p $new $script:vmName } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty -Because "$Op must refuse $Target"
        $err.FullyQualifiedErrorId | Should -Be "VzDiskPathRefused,Virtuozzo.Commands.$Class"
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike "*$What*"
        Get-Fingerprint $p | Should -Be $before
        (Get-FileHash $script:backing).Hash | Should -Be $backingBefore
        Test-Path $new | Should -BeFalse
        @(Get-VzVm).Count | Should -Be $vmsBefore
        (Get-VzVm $script:vmName).Disks | Should -BeNullOrEmpty
        (Get-VzVm $script:vmName).DvdDrives | Should -BeNullOrEmpty
    }
}

Describe 'Block devices on request' -Tag Unit, Disks, DiskSafety {
    It 'describes an unused block device with -AllowBlockDevice, read only' {
        $before = (Get-FileHash $script:backing).Hash
        $d = Get-VzDisk -Path $script:paths.block -AllowBlockDevice
        $d.Format | Should -Be 'raw'
        $d.VirtualSize | Should -Be 16MB
        (Get-FileHash $script:backing).Hash | Should -Be $before
    }

    It 'copies an unused block device into an image with Convert-VzDisk -AllowBlockDevice -DestinationPath' {
        $dest = In 'from-block.qcow2'
        $d = Convert-VzDisk -Path $script:paths.block -Format Qcow2 -DestinationPath $dest -AllowBlockDevice -Confirm:$false -PassThru
        $d.Format | Should -Be 'qcow2'
        & qemu-img compare -f raw $script:backing $dest | Out-Null
        $LASTEXITCODE | Should -Be 0
        & stat -c '%F' $script:paths.block | Should -Be 'block special file'
    }

    It 'never rewrites a block device in place, even with -AllowBlockDevice' {
        $before = Get-Fingerprint $script:paths.block
        { Convert-VzDisk -Path $script:paths.block -Format Qcow2 -AllowBlockDevice -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzDiskPathRefused,Virtuozzo.Commands.ConvertVzDiskCommand'
        Get-Fingerprint $script:paths.block | Should -Be $before
    }

    It 'refuses a block device with a mounted file system even with -AllowBlockDevice' {
        $img = In 'mounted-backing.img'
        & truncate -s 16M $img
        & mkfs.ext4 -q -F $img
        $loop = (& losetup --find --show $img).Trim()
        $mnt = In 'mnt'
        $null = New-Item -ItemType Directory $mnt
        try {
            & mount $loop $mnt
            $err = $null
            try { Get-VzDisk -Path $loop -AllowBlockDevice -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzDiskPathRefused,Virtuozzo.Commands.GetVzDiskCommand'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike "*a block device mounted on $mnt*"
        }
        finally {
            & umount $mnt
            & losetup -d $loop
        }
    }
}

Describe 'Paths that are not disks, elsewhere' -Tag Unit, Disks, DiskSafety {
    It 'New-VzVm -KernelPath names a folder a folder' {
        $err = $null
        try { New-VzVm k1 -KernelPath $script:paths.folder -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskPathRefused,Virtuozzo.Commands.NewVzVmCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike '*is a folder*'
        Get-VzVm k1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Resize-VzDisk on a block device node is a typed refusal, not an I/O error' {
        { Resize-VzDisk -Path $script:loop -Size 32MB -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzDiskPathRefused,Virtuozzo.Commands.ResizeVzDiskCommand'
    }

    It 'New-VzDisk refuses a size under 1 MiB like New-VzVm -DiskSize and Add-VzVmDisk -Size, creating nothing' {
        { New-VzDisk (In 'zero.qcow2') -Size 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Virtuozzo.Commands.NewVzDiskCommand'
        { New-VzVm z1 -DiskSize 1KB -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Virtuozzo.Commands.NewVzVmCommand'
        { Add-VzVmDisk $script:vmName -Size 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Virtuozzo.Commands.AddVzVmDiskCommand'
        $limits = foreach ($c in 'New-VzDisk|Size', 'New-VzVm|DiskSize', 'Add-VzVmDisk|Size') {
            $n, $p = $c.Split('|')
            ((Get-Command $n).Parameters[$p].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] }).MinRange
        }
        $limits | Should -Be @(1MB, 1MB, 1MB)
        Test-Path (In 'zero.qcow2') | Should -BeFalse
    }

    It 'Convert-VzDisk in place through a symlink rewrites the target and keeps the link' {
        $real = In 'real.qcow2'
        & qemu-img create -q -f qcow2 $real 16M
        & qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' $real | Out-Null
        $ref = In 'real-ref.qcow2'
        Copy-Item $real $ref
        $lnk = In 'lnk.qcow2'
        $null = New-Item -ItemType SymbolicLink -Path $lnk -Target $real
        $d = Convert-VzDisk $lnk -Format Raw -Confirm:$false -PassThru
        $d.Path | Should -Be $real
        (Get-Item $lnk).LinkTarget | Should -Be $real
        (& qemu-img info --output=json $real | ConvertFrom-Json).format | Should -Be 'raw'
        & qemu-img compare $ref $real | Out-Null
        $LASTEXITCODE | Should -Be 0
    }
}

Describe 'In-place rewrites ask first (ConfirmImpact High)' -Tag Unit, Disks, DiskSafety {
    BeforeAll {
        $script:img = In 'confirm.qcow2'
        & qemu-img create -q -f qcow2 $script:img 32M
        & qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' $script:img | Out-Null
    }

    It '<_> declares ConfirmImpact High' -ForEach 'Convert-VzDisk', 'Optimize-VzDisk', 'Resize-VzDisk' {
        $attr = (Get-Command $_).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.ConfirmImpact | Should -Be 'High'
    }

    It 'prompts, and so refuses in a non-interactive host, without -Confirm:$false (image unchanged)' {
        $before = (Get-FileHash $script:img).Hash
        $module = (Get-Module Virtuozzo).Path
        $calls = "Resize-VzDisk '$script:img' -Size 64MB", "Optimize-VzDisk '$script:img'", "Convert-VzDisk '$script:img' -Format Raw"
        foreach ($call in $calls) {
            $script = "`$ConfirmPreference = 'High'; Import-Module '$module'; try { $call -ErrorAction Stop; 'DONE' } catch { 'REFUSED ' + `$_.Exception.Message }"
            $out = & (Get-VzPwshPath) -NoProfile -NonInteractive -Command $script 2>&1
            ($out -join "`n") | Should -Not -Match 'DONE' -Because "$call must ask before rewriting"
            # The prompt is what fails: a non-interactive host cannot show it.
            ($out -join "`n") | Should -Match 'REFUSED .*NonInteractive mode' -Because "$call must ask before rewriting"
            (Get-FileHash $script:img).Hash | Should -Be $before
        }
    }

    It 'rewrites with -Confirm:$false' {
        Resize-VzDisk $script:img -Size 64MB -Confirm:$false
        (& qemu-img info --output=json $script:img | ConvertFrom-Json).'virtual-size' | Should -Be 64MB
    }
}
