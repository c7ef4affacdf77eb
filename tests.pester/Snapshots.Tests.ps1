# Snapshots: the tree and qemu-img snapshots of stopped VMs (Unit: no guest), and live snapshots of the test guest
# under TCG with its agent (Integration): freeze and thaw, RAM state, a killed snapshot job, a guest writing while
# the snapshot is taken. Boots are few: two cores shared by many.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }

    # Writes a recognisable pattern into an offline qcow2 image at one MiB slot.
    function script:Write-Pattern([string] $Path, [int] $Slot, [int] $Pattern) {
        $null = & qemu-io -f qcow2 -c ("write -P {0} {1}M 1M" -f $Pattern, $Slot) $Path
        if ($LASTEXITCODE) { throw "qemu-io write failed on $Path" }
    }
    # SHA-256 of what a snapshot (or the current state, with no name) of an image holds, read by qemu-img.
    function script:Get-ImageHash([string] $Path, [string] $Snapshot) {
        $raw = Join-Path ([IO.Path]::GetTempPath()) ("vzsnap-{0}.raw" -f [guid]::NewGuid().ToString('N'))
        try {
            if ($Snapshot) { $null = & qemu-img convert -U -f qcow2 -O raw -l "snapshot.name=$Snapshot" $Path $raw }
            else { $null = & qemu-img convert -U -f qcow2 -O raw $Path $raw }
            if ($LASTEXITCODE) { throw "qemu-img convert failed on $Path ($Snapshot)" }
            (Get-FileHash $raw -Algorithm SHA256).Hash
        } finally { Remove-Item $raw -ErrorAction SilentlyContinue }
    }
    function script:Get-Tags([string] $Path) {
        @(& qemu-img snapshot -U -l $Path | Select-Object -Skip 2 | ForEach-Object { ($_ -split '\s+')[1] })
    }
    # The guest writer's record count; read again when the read raced its rewrite of /run/last.
    function script:Get-Last([string] $Vm) {
        foreach ($i in 1..20) { $t = (Invoke-VzVmCommand $Vm cat /run/last -Timeout 30).StdOut.Trim(); if ($t -match '^\d+$') { return [int]$t } }
        throw 'the guest writer wrote no count'
    }
    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 30) {
        $end = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $end) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 200 }
        return [bool](& $Condition)
    }
}

Describe 'Snapshots of stopped VMs' -Tag Unit, Snapshots {
    BeforeAll {
        $script:scope = New-VzTestScope -Name snapunit
        $script:vm = New-VzVm snap1 -MemorySize 128MB -DiskSize 8MB
        $script:d1 = (Add-VzVmDisk snap1 -Size 4MB -PassThru).Path
        $script:d0 = (Get-VzVm snap1).Disks[0].Path
    }
    AfterAll {
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'exports the snapshot cmdlets with their parameter sets and confirm levels' {
        (Get-Command Checkpoint-VzVm).Parameters.Keys | Should -Contain 'SnapshotName'
        (Get-Command Restore-VzSnapshot).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
        (Get-Command Remove-VzSnapshot).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
        (Get-Command Get-VzSnapshot).Parameters['VeId'].Aliases | Should -Contain 'Id'
    }

    It 'takes a snapshot in every disk under one tag, as a tree with parents, and Get-VzVm counts them' {
        Write-Pattern $script:d0 1 0x11
        $a = Checkpoint-VzVm snap1 -SnapshotName a -Description 'first' -PassThru
        $a.Consistency | Should -Be 'Stopped'
        $a.ParentName | Should -BeNullOrEmpty
        $a.Disks | Should -Be @('disk0', 'disk1')
        Write-Pattern $script:d0 1 0x22
        Write-Pattern $script:d1 1 0x22
        Checkpoint-VzVm snap1 -SnapshotName b
        Get-Tags $script:d0 | Should -Be @('a', 'b')
        Get-Tags $script:d1 | Should -Be @('a', 'b')
        $list = Get-VzSnapshot snap1
        $list.Name | Should -Be @('a', 'b')
        ($list | Where-Object Name -eq b).ParentName | Should -Be 'a'
        ($list | Where-Object IsCurrent).Name | Should -Be 'b'
        (Get-VzVm snap1).SnapshotCount | Should -Be 2
        # Get-VzVm output binds through its Id.
        (Get-VzVm snap1 | Get-VzSnapshot -Name b).Name | Should -Be 'b'
    }

    It 'restores every disk, and the next snapshot branches from the restored one' {
        $before = Get-ImageHash $script:d0 'a'
        Restore-VzSnapshot -VeName snap1 -Name a -Confirm:$false
        Get-ImageHash $script:d0 | Should -Be $before
        Get-ImageHash $script:d1 | Should -Be (Get-ImageHash $script:d1 'a')
        Checkpoint-VzVm snap1 -SnapshotName c
        (Get-VzSnapshot snap1 c).ParentName | Should -Be 'a'
        (Get-VzSnapshot snap1 | Where-Object IsCurrent).Name | Should -Be 'c'
    }

    It 'removes a snapshot from every disk, keeps the others whole, and re-parents its children' {
        $b = Get-ImageHash $script:d0 'b'
        $c = Get-ImageHash $script:d0 'c'
        Get-VzSnapshot snap1 a | Remove-VzSnapshot -Confirm:$false
        Get-Tags $script:d0 | Should -Be @('b', 'c')
        Get-Tags $script:d1 | Should -Be @('b', 'c')
        (Get-VzSnapshot snap1 c).ParentName | Should -BeNullOrEmpty
        Get-ImageHash $script:d0 'b' | Should -Be $b
        Get-ImageHash $script:d0 'c' | Should -Be $c
        & qemu-img check -q $script:d0; $LASTEXITCODE | Should -Be 0
    }

    It 'refuses a taken name, a bad name, an unknown snapshot and a raw disk with typed errors, changing nothing' {
        { Checkpoint-VzVm snap1 -SnapshotName b -ErrorAction Stop } | Should -Throw -ErrorId 'VzSnapshotExists,Virtuozzo.Commands.CheckpointVzVmCommand'
        { Checkpoint-VzVm snap1 -SnapshotName 42 -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidSnapshotName,Virtuozzo.Commands.CheckpointVzVmCommand'
        { Checkpoint-VzVm snap1 -SnapshotName m -IncludeMemory -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmNotRunning,Virtuozzo.Commands.CheckpointVzVmCommand'
        $err = $null
        try { Restore-VzSnapshot snap1 nosuch -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzSnapshotNotFound,Virtuozzo.Commands.RestoreVzSnapshotCommand'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        { Get-VzSnapshot snap1 nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'VzSnapshotNotFound,Virtuozzo.Commands.GetVzSnapshotCommand'
        { Remove-VzSnapshot nosuchvm b -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VzVeNotFound,Virtuozzo.Commands.RemoveVzSnapshotCommand'
        $raw = Join-Path $script:scope.Base 'raw.img'
        [IO.File]::WriteAllBytes($raw, [byte[]]::new(1MB))
        $null = New-VzVm snapraw -MemorySize 64MB
        Add-VzVmDisk snapraw -Path $raw
        $err = $null
        try { Checkpoint-VzVm snapraw -SnapshotName x -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzSnapshotDiskNotQcow2,Virtuozzo.Commands.CheckpointVzVmCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        Get-Tags (Get-VzVm snapraw).Disks[0].Path | Should -BeNullOrEmpty
        Remove-VzVm snapraw -Confirm:$false
        Get-Tags $script:d0 | Should -Be @('b', 'c')
    }

    It 'runs one operation per VM: a second one fails fast with VzVeOperationInProgress' {
        $lock = Join-Path $script:vm.Directory '.operation.lock'
        # .NET takes flock(LOCK_EX) for FileShare.None: this process holds the VM's operation lock meanwhile.
        $holder = [IO.File]::Open($lock, 'OpenOrCreate', 'ReadWrite', 'None')
        try {
            $err = $null
            try { Checkpoint-VzVm snap1 -SnapshotName busy -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzVeOperationInProgress,Virtuozzo.Commands.CheckpointVzVmCommand'
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            Get-Tags $script:d0 | Should -Not -Contain 'busy'
        } finally { $holder.Dispose() }
        Checkpoint-VzVm snap1 -SnapshotName free
        Remove-VzSnapshot snap1 free -Confirm:$false
    }

    It 'refuses a linked clone of a VM with snapshots, and a full copy starts without any' {
        { Copy-VzVm snap1 snapclone -Linked -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmHasSnapshots,Virtuozzo.Commands.CopyVzVmCommand'
        $copy = Copy-VzVm snap1 snapcopy
        $copy.SnapshotCount | Should -Be 0
        Get-VzSnapshot snapcopy | Should -BeNullOrEmpty
        Remove-VzVm snapcopy -Confirm:$false
    }

    It 'keeps every other snapshot whole when chain snapshots are deleted in random order' {
        $null = New-VzVm chain1 -MemorySize 64MB -DiskSize 8MB
        $disk = (Get-VzVm chain1).Disks[0].Path
        $expected = @{}
        foreach ($i in 1..6) {
            Write-Pattern $disk ($i % 8) (0x30 + $i)
            Checkpoint-VzVm chain1 -SnapshotName "c$i"
            $expected["c$i"] = Get-ImageHash $disk "c$i"
        }
        $random = [Random]::new(15)
        foreach ($n in (1..6 | Sort-Object { $random.Next() } | Select-Object -First 5)) {
            Remove-VzSnapshot chain1 "c$n" -Confirm:$false
            $expected.Remove("c$n")
            & qemu-img check -q $disk; $LASTEXITCODE | Should -Be 0
            foreach ($k in $expected.Keys) { Get-ImageHash $disk $k | Should -Be $expected[$k] -Because "snapshot $k keeps its data after c$n is removed" }
            (Get-VzSnapshot chain1).Name | Sort-Object | Should -Be ($expected.Keys | Sort-Object)
        }
        Remove-VzVm chain1 -Confirm:$false
    }

    It 'removes the snapshots with the VM' {
        $dir = (Get-VzVm snap1).Directory
        Remove-VzVm snap1 -Confirm:$false
        Test-Path $dir | Should -BeFalse
        Get-VzSnapshot | Where-Object VeName -eq snap1 | Should -BeNullOrEmpty
    }
}

Describe 'Live snapshots of the test guest' -Tag Integration, Slow, Snapshots {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name snaplive
        $script:vm = New-VzVm live1 -MemorySize 256MB -CpuCount 1 -DiskSize 16MB `
            -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments
        $null = Add-VzVmDisk live1 -Size 4MB
        $script:vm = Start-VzVm live1 -Wait -Timeout 180 -PassThru
        $script:rt = Join-Path $env:VZ_RUN_ROOT ($script:vm.Id.ToString('N').Substring(0, 12))
    }
    AfterAll {
        Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'snapshots a guest that writes continuously, frozen and thawed; the restored disk holds every record up to the snapshot' {
        # Records "rec00000001".. one per 512-byte sector of /dev/vda, each written with fsync; /run/last counts them.
        $writer = 'i=0; while :; do i=$((i+1)); printf "rec%08d\n" $i | dd of=/dev/vda bs=512 seek=$i conv=notrunc,fsync 2>/dev/null; echo $i > /run/last; done'
        $null = Invoke-VzVmCommand live1 sh -ArgumentList '-c', "sh -c '$writer' >/dev/null 2>&1 </dev/null &" -Timeout 60
        $null = Wait-Until { (Invoke-VzVmCommand live1 sh -ArgumentList '-c', 'cat /run/last 2>/dev/null' -Timeout 30).StdOut.Trim() -match '^\d\d+$' } 120
        $before = Get-Last live1
        $s = Checkpoint-VzVm live1 -SnapshotName writing -PassThru
        $after = Get-Last live1
        $s.Consistency | Should -Be 'Application'
        $s.FrozenMilliseconds | Should -BeGreaterOrEqual 0
        $after | Should -BeGreaterThan $before -Because 'the writer goes on after the thaw'
        Write-Host "freeze-to-thaw: $($s.FrozenMilliseconds) ms; records before $before, after $after"

        Restore-VzSnapshot live1 writing -Confirm:$false
        (Get-VzVm live1).State | Should -Be 'Stopped'
        $raw = Join-Path $script:scope.Base 'restored.raw'
        & qemu-img convert -f qcow2 -O raw (Get-VzVm live1).Disks[0].Path $raw
        $bytes = [IO.File]::ReadAllBytes($raw)
        $n = 0
        while ([Text.Encoding]::ASCII.GetString($bytes, 512 * ($n + 1), 12) -eq ('rec{0:d8}' -f ($n + 1)) + "`n") { $n++ }
        $n | Should -BeGreaterOrEqual $before -Because 'every record written before the snapshot is on the restored disk'
        $n | Should -BeLessOrEqual $after
        [Linq.Enumerable]::Any([byte[]]$bytes[(512 * ($n + 1))..(512 * ($n + 1) + 511)], [Func[byte, bool]] { param($b) $b -ne 0 }) | Should -BeFalse -Because 'nothing after the last whole record was written before the snapshot'
        Remove-Item $raw
        $script:vm = Start-VzVm live1 -Wait -Timeout 180 -PassThru
    }

    It 'saves RAM state and resumes the running guest from it' {
        $null = Invoke-VzVmCommand live1 sh -ArgumentList '-c', 'echo before > /run/marker' -Timeout 60
        $m = Checkpoint-VzVm live1 -SnapshotName warm -IncludeMemory -PassThru
        $m.Consistency | Should -Be 'Memory'
        $m.IncludesMemory | Should -BeTrue
        $null = Invoke-VzVmCommand live1 sh -ArgumentList '-c', 'echo after > /run/marker' -Timeout 60
        Get-VzSnapshot live1 warm | Restore-VzSnapshot -Confirm:$false
        (Get-VzVm live1).State | Should -Be 'Running'
        # /run is a tmpfs in guest RAM: only a memory restore brings the old line back.
        (Invoke-VzVmCommand live1 cat /run/marker -Timeout 60).StdOut.Trim() | Should -Be 'before'
    }

    It 'removes snapshots while the VM runs, from every disk' {
        Remove-VzSnapshot live1 warm -Confirm:$false
        foreach ($d in (Get-VzVm live1).Disks) { Get-Tags $d.Path | Should -Not -Contain 'warm' }
        (Get-VzSnapshot live1).Name | Should -Be @('writing')
    }

    It 'thaws the guest when the process holding the freeze is killed' {
        # Holding the monitor lock keeps the snapshot waiting right after the freeze; then its pwsh is killed -9.
        $qmpLock = Join-Path $script:rt 'qmp.lock'
        $marker = Join-Path $script:rt 'fsfreeze'
        $gate = Start-Process flock -ArgumentList $qmpLock, 'sleep', '120' -PassThru
        $module = (Get-Module Virtuozzo).Path
        $job = Start-Process (Get-VzPwshPath) -ArgumentList '-NoProfile', '-Command', "Import-Module '$module'; Checkpoint-VzVm live1 -SnapshotName killed" -PassThru
        try {
            Wait-Until { Test-Path $marker } 120 | Should -BeTrue -Because 'the guest is frozen and the snapshot waits for the monitor'
            # The marker names the process that froze the guest (the global-tool launcher runs pwsh as a child).
            $owner = [int](Get-Content $marker -Raw)
            Stop-Process -Id $owner -Force
            Stop-Process -Id $job.Id -Force -ErrorAction SilentlyContinue
            $job.WaitForExit()
            Wait-Until { -not (Test-Path $marker) } 60 | Should -BeTrue -Because 'the watchdog thawed the guest'
        } finally {
            Stop-Process -Id $gate.Id -ErrorAction SilentlyContinue; $gate.WaitForExit()
        }
        # A frozen agent refuses guest-exec: this answering means the guest is thawed.
        (Invoke-VzVmCommand live1 sh -ArgumentList '-c', 'echo thawed > /run/t && cat /run/t' -Timeout 60).StdOut.Trim() | Should -Be 'thawed'
        Get-VzSnapshot live1 | Where-Object Name -eq killed | Should -BeNullOrEmpty
    }

    It 'says crash-consistent when the guest has no agent' {
        $null = New-VzVm noagent2 -MemorySize 64MB -DiskSize 1MB | Start-VzVm
        $s = Checkpoint-VzVm noagent2 -SnapshotName c1 -PassThru -WarningAction SilentlyContinue
        $s.Consistency | Should -Be 'Crash'
        $s.FrozenMilliseconds | Should -BeNullOrEmpty
        Get-Tags (Get-VzVm noagent2).Disks[0].Path | Should -Be @('c1')
        Remove-VzVm noagent2 -Force -Confirm:$false
    }
}

Describe 'Container snapshots' -Tag Integration, Snapshots {
    BeforeAll {
        $script:scope = New-VzTestScope -Name snapct
        # Every file's type, owner, group, mode, size, inode group (hard links), xattrs and content hash, by path.
        function script:Get-TreeManifest([string] $Root) {
            $ino = @{}
            Get-ChildItem -LiteralPath $Root -Recurse -Force | Sort-Object FullName | ForEach-Object {
                $rel = $_.FullName.Substring($Root.Length)
                $st = (& stat -c '%F|%u|%g|%a|%s|%i|%h' -- $_.FullName) -split '\|'
                $link = if ($st[6] -gt 1 -and $st[0] -eq 'regular file') { if (-not $ino.ContainsKey($st[5])) { $ino[$st[5]] = $rel }; $ino[$st[5]] } else { '' }
                $xattr = (& getfattr -h -d -m - --absolute-names -- $_.FullName 2>$null | Select-Object -Skip 1 | Sort-Object) -join ';'
                $hash = if ($st[0] -eq 'regular file') { (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash } elseif ($_.LinkTarget) { $_.LinkTarget } else { '' }
                '{0} {1} {2}:{3} {4} {5} link={6} x={7} {8}' -f $rel, $st[0], $st[1], $st[2], $st[3], $st[4], $link, $xattr, $hash
            }
        }
    }
    AfterAll {
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'restores a directory container exactly: owners, modes, xattrs and hard links' {
        $c = New-VzContainer ctsnap1
        $root = Join-Path $c.Path 'root'
        $f = Join-Path $root 'srv/data.txt'
        $null = New-Item -ItemType Directory (Join-Path $root 'srv') -Force
        Set-Content $f 'original'
        & chown 100123:100456 $f; & chmod 0640 $f
        & setfattr -n user.vz -v snapshot-test $f
        & ln $f (Join-Path $root 'srv/hardlink.txt')
        & chmod 1777 (Join-Path $root 'srv')
        $before = Get-TreeManifest $root
        $s = Checkpoint-VzContainer ctsnap1 -SnapshotName s1 -PassThru
        $s.Consistency | Should -Be 'Stopped'
        $s.VeType | Should -Be 'Container'
        (Get-VzContainer ctsnap1).SnapshotCount | Should -Be 1
        Set-Content $f 'changed'
        Remove-Item (Join-Path $root 'srv/hardlink.txt')
        & setfattr -x user.vz $f
        & chmod 0600 $f
        Set-Content (Join-Path $root 'srv/new.txt') 'new'
        Restore-VzSnapshot ctsnap1 s1 -Confirm:$false
        $after = Get-TreeManifest $root
        $diff = Compare-Object @($before) @($after)
        $diff | Should -BeNullOrEmpty -Because 'the restored tree matches the manifest of the original'
        @($before).Count | Should -BeGreaterThan 10
        (Get-Content $f) | Should -Be 'original'
    }

    It 'snapshots a running image container inside a short cgroup freeze and restores the image' {
        $c = New-VzContainer ctsnap2 -Layout Image -DiskSize 320MB | Start-VzContainer -PassThru
        $null = Invoke-VzContainerCommand ctsnap2 -Shell 'echo before > /root/marker; sync'
        $s = Checkpoint-VzContainer ctsnap2 -SnapshotName live -PassThru -WarningVariable warn -WarningAction SilentlyContinue
        $s.Consistency | Should -Be 'Application'
        $s.FrozenMilliseconds | Should -BeGreaterOrEqual 0
        Write-Host "container freeze: $($s.FrozenMilliseconds) ms$(if ($warn) { " (no reflink: $warn)" })"
        (Get-VzContainer ctsnap2).State | Should -Be 'Running'
        $null = Invoke-VzContainerCommand ctsnap2 -Shell 'echo after > /root/marker; sync'
        Restore-VzSnapshot ctsnap2 live -Confirm:$false
        (Get-VzContainer ctsnap2).State | Should -Be 'Stopped'
        Start-VzContainer ctsnap2
        (Invoke-VzContainerCommand ctsnap2 cat /root/marker).StdOut.Trim() | Should -Be 'before'
        Remove-VzSnapshot ctsnap2 live -Confirm:$false
        (Get-VzContainer ctsnap2).SnapshotCount | Should -Be 0
        @(Get-ChildItem (Join-Path $c.Path 'snapshots') -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'removes snapshots with the container' {
        $dir = (Get-VzContainer ctsnap1).Path
        Remove-VzContainer ctsnap1 -Confirm:$false
        Test-Path $dir | Should -BeFalse
    }
}
