# Backups: full and incremental VM backups through QEMU's block layer (qemu-storage-daemon for stopped VMs, the VM's
# own QEMU for running ones), verified restores compared byte for byte with qemu-img compare, refused bad input
# (destination, space, corrupt and truncated backups), the per-VE operation lock, and the dirty bitmap across a
# clean restart and a kill -9 of QEMU.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }

    function script:Write-Pattern([string] $Path, [long] $OffsetMiB, [int] $MiB, [int] $Pattern) {
        $null = & qemu-io -f qcow2 -c ("write -P {0} {1}M {2}M" -f $Pattern, $OffsetMiB, $MiB) $Path
        if ($LASTEXITCODE) { throw "qemu-io write failed on $Path" }
    }
    function script:Compare-Image([string] $A, [string] $B) {
        $out = & qemu-img compare -U -f qcow2 -F qcow2 $A $B 2>&1
        [pscustomobject]@{ Same = $LASTEXITCODE -eq 0; Text = "$out" }
    }
    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 30) {
        $end = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $end) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 200 }
        return [bool](& $Condition)
    }
}

Describe 'Backups of stopped VMs' -Tag Integration, Backups {
    BeforeAll {
        $script:scope = New-VzTestScope -Name backup
        $script:dest = Join-Path $script:scope.Base 'backups'
        $null = New-Item -ItemType Directory $script:dest
        $script:vm = New-VzVm bk1 -MemorySize 128MB -DiskSize 64MB
        $null = Add-VzVmDisk bk1 -Size 16MB
        $script:disks = (Get-VzVm bk1).Disks.Path
        Write-Pattern $script:disks[0] 0 16 0x41
        Write-Pattern $script:disks[1] 2 2 0x51
    }
    AfterAll {
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'writes a full backup with every disk, the settings and a checksummed manifest' {
        $b = Backup-VzVm bk1 -Destination $script:dest
        $b.Kind | Should -Be 'Full'
        $b.WasRunning | Should -BeFalse
        $b.Reason | Should -BeNullOrEmpty
        Test-Path (Join-Path $b.Path 'manifest.json') | Should -BeTrue
        $m = Get-Content (Join-Path $b.Path 'manifest.json') -Raw | ConvertFrom-Json
        $m.files.name | Should -Be @('disk0.qcow2', 'disk1.qcow2', 've.yaml')
        foreach ($f in $m.files) { (Get-FileHash (Join-Path $b.Path $f.name) -Algorithm SHA256).Hash.ToLowerInvariant() | Should -Be $f.sha256 }
        $b.DataBytes | Should -BeGreaterThan 18MB
        (Get-ChildItem $script:dest -Force).Name | Should -Be @([IO.Path]::GetFileName($b.Path)) -Because 'no partial folder is left'
    }

    It 'adds an incremental backup of only the changed clusters, and restores the chain byte for byte' {
        Write-Pattern $script:disks[0] 40 4 0x42
        $i = Backup-VzVm bk1 -Destination $script:dest -Incremental
        $i.Kind | Should -Be 'Incremental'
        $i.ParentBackupId | Should -Be (Get-VzBackup $script:dest bk1)[0].BackupId
        $i.DataBytes | Should -BeLessOrEqual ([long](4MB * 1.2)) -Because '4 MiB changed: the incremental holds those clusters and little metadata'
        $i.DataBytes | Should -BeGreaterOrEqual 4MB
        $r = $i | Restore-VzBackup -NewName bk1r
        $r.Name | Should -Be 'bk1r'
        $r.Id | Should -Not -Be $script:vm.Id
        $r.MacAddress | Should -Not -Be $script:vm.MacAddress
        $r.MemorySize | Should -Be 128MB
        for ($k = 0; $k -lt 2; $k++) { (Compare-Image $script:disks[$k] $r.Disks[$k].Path).Same | Should -BeTrue }
        Remove-VzVm bk1r -Confirm:$false
    }

    It 'restores 10 of 10 times byte-identical' {
        $last = Get-VzBackup $script:dest bk1 | Select-Object -Last 1
        $same = 0
        foreach ($n in 1..10) {
            $r = Restore-VzBackup $last.Path -NewName "bk1r$n"
            if ((Compare-Image $script:disks[0] $r.Disks[0].Path).Same -and (Compare-Image $script:disks[1] $r.Disks[1].Path).Same) { $same++ }
            Remove-VzVm "bk1r$n" -Confirm:$false
        }
        $same | Should -Be 10
    }

    It 'refuses a restore onto a name in use, and a corrupt or truncated backup, creating nothing' {
        $full = (Get-VzBackup $script:dest bk1)[0]
        { Restore-VzBackup $full.Path -ErrorAction Stop } | Should -Throw -ErrorId 'VzVeNameInUse,Virtuozzo.Commands.RestoreVzBackupCommand'
        $copy = Join-Path $script:scope.Base 'copy'
        $null = New-Item -ItemType Directory $copy
        Copy-Item $full.Path $copy -Recurse
        $damaged = Join-Path $copy ([IO.Path]::GetFileName($full.Path))
        $before = @(Get-VzVm).Count
        $f = [IO.File]::Open((Join-Path $damaged 'disk1.qcow2'), 'Open', 'ReadWrite')
        try { $f.Position = 2MB + 100; $f.WriteByte(0x99) } finally { $f.Dispose() }
        $err = $null
        try { Restore-VzBackup $damaged -NewName corrupt1 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzBackupCorrupt,Virtuozzo.Commands.RestoreVzBackupCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $err.Exception.Message | Should -Match "checksum of 'disk1.qcow2'"
        $t = [IO.File]::Open((Join-Path $damaged 'disk0.qcow2'), 'Open', 'ReadWrite')
        try { $t.SetLength($t.Length - 65536) } finally { $t.Dispose() }
        { Restore-VzBackup $damaged -NewName corrupt2 -ErrorAction Stop } | Should -Throw -ErrorId 'VzBackupCorrupt,Virtuozzo.Commands.RestoreVzBackupCommand'
        Remove-Item (Join-Path $damaged 'manifest.json')
        { Restore-VzBackup $damaged -NewName corrupt3 -ErrorAction Stop } | Should -Throw -ErrorId 'VzBackupCorrupt,Virtuozzo.Commands.RestoreVzBackupCommand'
        Get-VzBackup $copy | Should -BeNullOrEmpty -Because 'a folder without a manifest is not a backup'
        @(Get-VzVm).Count | Should -Be $before
    }

    It 'checks the destination before writing: missing, read-only, too small' {
        { Backup-VzVm bk1 -Destination (Join-Path $script:scope.Base 'nosuch') -ErrorAction Stop } | Should -Throw -ErrorId 'VzBackupDestinationNotFound,Virtuozzo.Commands.BackupVzVmCommand'
        $ro = Join-Path $script:scope.Base 'ro'
        $small = Join-Path $script:scope.Base 'small'
        $null = New-Item -ItemType Directory $ro, $small
        & mount -t tmpfs -o ro,size=1M tmpfs $ro
        & mount -t tmpfs -o size=48M tmpfs $small
        try {
            $err = $null
            try { Backup-VzVm bk1 -Destination $ro -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzBackupDestinationNotWritable,Virtuozzo.Commands.BackupVzVmCommand'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            # 20 MiB of data plus the 64 MiB margin do not fit in 48 MiB.
            $err = $null
            try { Backup-VzVm bk1 -Destination $small -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzBackupInsufficientSpace,Virtuozzo.Commands.BackupVzVmCommand'
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            @(Get-ChildItem $small -Force) | Should -BeNullOrEmpty
        } finally {
            & umount $ro; & umount $small
        }
    }

    It 'runs one operation per VM: a backup while another holds the VM fails fast' {
        $lock = Join-Path $script:vm.Directory '.operation.lock'
        # .NET takes flock(LOCK_EX) for FileShare.None: this process holds the VM's operation lock meanwhile.
        $holder = [IO.File]::Open($lock, 'OpenOrCreate', 'ReadWrite', 'None')
        try {
            { Backup-VzVm bk1 -Destination $script:dest -ErrorAction Stop } | Should -Throw -ErrorId 'VzVeOperationInProgress,Virtuozzo.Commands.BackupVzVmCommand'
        } finally { $holder.Dispose() }
    }

    It 'refuses to remove a backup that an incremental one adds to, and removes newest first' {
        $all = Get-VzBackup $script:dest bk1
        { $all[0] | Remove-VzBackup -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VzBackupHasDependents,Virtuozzo.Commands.RemoveVzBackupCommand'
        $all | Sort-Object CreatedAt -Descending | Remove-VzBackup -Confirm:$false
        Get-VzBackup $script:dest | Should -BeNullOrEmpty
        @(Get-ChildItem $script:dest -Force) | Should -BeNullOrEmpty
    }

    It 'runs full, saying why, when asked for an incremental backup with no base or after a snapshot restore' {
        $b = Backup-VzVm bk1 -Destination $script:dest -Incremental -WarningAction SilentlyContinue
        $b.Kind | Should -Be 'Full'
        $b.Reason | Should -Match 'not in'
        Checkpoint-VzVm bk1 -SnapshotName s1
        Write-Pattern $script:disks[0] 50 1 0x43
        Restore-VzSnapshot bk1 s1 -Confirm:$false
        $b2 = Backup-VzVm bk1 -Destination $script:dest -Incremental -WarningAction SilentlyContinue
        $b2.Kind | Should -Be 'Full'
        $b2.Reason | Should -Match "restored to snapshot 's1'"
        Remove-VzSnapshot bk1 s1 -Confirm:$false
    }
}

Describe 'Live backups of the test guest' -Tag Integration, Slow, Backups {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name backuplive
        $script:dest = Join-Path $script:scope.Base 'backups'
        $null = New-Item -ItemType Directory $script:dest
        $script:vm = New-VzVm bklive -MemorySize 256MB -CpuCount 1 -DiskSize 128MB `
            -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments |
            Start-VzVm -Wait -Timeout 180 -PassThru
        $script:disk = $script:vm.Disks[0].Path
        function script:Write-Guest([int] $SeekMiB, [int] $MiB) {
            $r = Invoke-VzVmCommand bklive sh -ArgumentList '-c', "dd if=/dev/urandom of=/dev/vda bs=1M count=$MiB seek=$SeekMiB conv=fsync 2>&1" -Timeout 120
            $r.ExitCode | Should -Be 0
        }
    }
    AfterAll {
        Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'backs up a running VM live, then incrementally from its persistent bitmap' {
        Write-Guest 0 8
        $full = Backup-VzVm bklive -Destination $script:dest
        $full.Kind | Should -Be 'Full'
        $full.WasRunning | Should -BeTrue
        Write-Guest 64 8
        $inc = Backup-VzVm bklive -Destination $script:dest -Incremental
        $inc.Kind | Should -Be 'Incremental'
        $inc.DataBytes | Should -BeLessOrEqual ([long](8MB * 1.2))
        Write-Host ("live full {0:n1} MiB in {1:n1} s; incremental {2:n1} MiB for 8 MiB changed" -f ($full.DataBytes / 1MB), $full.DurationSeconds, ($inc.DataBytes / 1MB))
    }

    It 'keeps the incremental chain across a clean restart' {
        Stop-VzVm bklive -Kill   # SIGTERM: QEMU closes its images and stores the bitmap
        Start-VzVm bklive -Wait -Timeout 180
        Write-Guest 80 2
        $inc = Backup-VzVm bklive -Destination $script:dest -Incremental
        $inc.Kind | Should -Be 'Incremental'
        $inc.Reason | Should -BeNullOrEmpty
    }

    It 'after kill -9 of QEMU, runs the next backup full and says why' {
        $qemuPid = (Get-VzVm bklive).ProcessId
        & kill -9 $qemuPid
        $null = Wait-Until -Condition { (Get-VzVm bklive).State -eq 'Stopped' } -Seconds 30
        Start-VzVm bklive -Wait -Timeout 180
        $b = Backup-VzVm bklive -Destination $script:dest -Incremental -WarningVariable warn -WarningAction SilentlyContinue
        $b.Kind | Should -Be 'Full'
        $b.Reason | Should -Match 'inconsistent'
        "$warn" | Should -Match 'inconsistent'
        (Get-VzBackup $script:dest bklive | Select-Object -Last 1).Reason | Should -Be $b.Reason
    }

    It 'restores the last backup of the stopped VM byte for byte' {
        Stop-VzVm bklive -Kill
        $last = Backup-VzVm bklive -Destination $script:dest -Incremental
        $last.Kind | Should -Be 'Incremental'
        $r = $last | Restore-VzBackup -NewName bklive2
        (Compare-Image $script:disk $r.Disks[0].Path).Same | Should -BeTrue
        Remove-VzVm bklive2 -Confirm:$false
    }
}

Describe 'Container backups' -Tag Integration, Backups {
    BeforeAll {
        $script:scope = New-VzTestScope -Name backupct
        $script:dest = Join-Path $script:scope.Base 'backups'
        $null = New-Item -ItemType Directory $script:dest
        # Every file's type, owner and group relative to the container's id base, mode, size, hard-link group,
        # xattrs and content hash, by path: what a restore must reproduce.
        function script:Get-TreeManifest([string] $Root, [long] $Base) {
            $ino = @{}
            Get-ChildItem -LiteralPath $Root -Recurse -Force | Sort-Object FullName | ForEach-Object {
                $rel = $_.FullName.Substring($Root.Length)
                $st = (& stat -c '%F|%u|%g|%a|%s|%i|%h' -- $_.FullName) -split '\|'
                $link = if ([int]$st[6] -gt 1 -and $st[0] -eq 'regular file') { if (-not $ino.ContainsKey($st[5])) { $ino[$st[5]] = $rel }; $ino[$st[5]] } else { '' }
                $xattr = (& getfattr -h -d -m - --absolute-names -- $_.FullName 2>$null | Select-Object -Skip 1 | Sort-Object) -join ';'
                $hash = if ($st[0] -eq 'regular file') { (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash } elseif ($_.LinkTarget) { $_.LinkTarget } else { '' }
                $size = if ($st[0] -eq 'directory') { '' } else { $st[4] }
                '{0} {1} {2}:{3} {4} {5} link={6} x={7} {8}' -f $rel, $st[0], ([long]$st[1] - $Base), ([long]$st[2] - $Base), $st[3], $size, $link, $xattr, $hash
            }
        }
    }
    AfterAll {
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'backs up full then incremental (changed files only), and the restored tree matches the original''s manifest' {
        $c = New-VzContainer ctbk1
        $root = Join-Path $c.Path 'root'
        $null = New-Item -ItemType Directory (Join-Path $root 'srv') -Force
        $f = Join-Path $root 'srv/data.txt'
        Set-Content $f 'one'
        # Owners inside the container's id range, as files the container itself writes have.
        & chown -R "$($c.UidBase):$($c.UidBase)" (Join-Path $root 'srv')
        & chown "$($c.UidBase + 33):$($c.UidBase + 33)" $f; & chmod 0640 $f
        & setfattr -n user.vz -v backup-test $f
        & ln $f (Join-Path $root 'srv/hard.txt')
        Set-Content (Join-Path $root 'srv/gone.txt') 'to be deleted'
        $full = Backup-VzContainer ctbk1 -Destination $script:dest
        $full.Kind | Should -Be 'Full'
        $full.VeType | Should -Be 'Container'
        Set-Content (Join-Path $root 'srv/new.txt') 'two'
        Remove-Item (Join-Path $root 'srv/gone.txt')
        [IO.File]::WriteAllBytes((Join-Path $root 'srv/big.bin'), [byte[]]::new(256KB))
        & chown "$($c.UidBase):$($c.UidBase)" (Join-Path $root 'srv/new.txt') (Join-Path $root 'srv/big.bin')
        $inc = Backup-VzContainer ctbk1 -Destination $script:dest -Incremental
        $inc.Kind | Should -Be 'Incremental'
        $inc.DataBytes | Should -BeLessThan ($full.DataBytes) -Because 'only the changed files are stored'
        $expected = Get-TreeManifest $root $c.UidBase
        $r = $inc | Restore-VzBackup -NewName ctbk1r
        $r.Name | Should -Be 'ctbk1r'
        $r.UidBase | Should -Not -Be $c.UidBase
        $actual = Get-TreeManifest (Join-Path $r.Path 'root') $r.UidBase
        Compare-Object @($expected) @($actual) | Should -BeNullOrEmpty -Because 'the restore matches the original with no difference'
        Test-Path (Join-Path $r.Path 'root/srv/gone.txt') | Should -BeFalse
        Start-VzContainer ctbk1r
        (Invoke-VzContainerCommand ctbk1r cat /srv/new.txt).StdOut.Trim() | Should -Be 'two'
        Remove-VzContainer ctbk1r -Force -Confirm:$false
    }

    It 'backs up a running container and refuses a damaged archive' {
        Start-VzContainer ctbk1
        $b = Backup-VzContainer ctbk1 -Destination $script:dest -Incremental
        $b.WasRunning | Should -BeTrue
        (Get-VzContainer ctbk1).State | Should -Be 'Running'
        $archive = Join-Path $b.Path 'root.tar.zst'
        $fs = [IO.File]::Open($archive, 'Open', 'ReadWrite'); try { $fs.SetLength($fs.Length - 10) } finally { $fs.Dispose() }
        { Restore-VzBackup $b.Path -NewName ctbroken -ErrorAction Stop } | Should -Throw -ErrorId 'VzBackupCorrupt,Virtuozzo.Commands.RestoreVzBackupCommand'
        Get-VzContainer ctbroken -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
