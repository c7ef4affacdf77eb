<#
  Moving VEs between two hosts (issue 13) on the two-host rig (Harness/TwoHostRig.psm1): hosts A and B are network
  namespaces with their own sshd, data root, run folder, cgroup parent and host settings, their bridges joined by a
  veth wire, and an observer namespace on the wire. Every cmdlet runs on a host through its sshd, as an administrator
  would run it; the test process only looks (processes, namespaces, the observer's ping).
  One test guest boots (TCG, slow on a loaded machine): the fault tests run first and leave it on A, then it moves.
  Faults strike at points of the copy read from QEMU's migration state (the job's progress), on a wire shaped slower.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module (Join-Path $PSScriptRoot 'Harness/TwoHostRig.psm1') -Force
    Import-Module Virtuozzo -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }

    # The fully qualified error id and category of a failing remote call.
    function script:Get-RigError([string] $HostName, [scriptblock] $Script, [object[]] $ArgumentList = @()) {
        $err = $null
        Invoke-VzRigHost $script:rig $HostName $Script -ArgumentList $ArgumentList -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
        @($err)[0]
    }
    # After a fault: lv1 runs on A with its guest agent answering, and B holds nothing of it.
    function script:Assert-SourceKeptIt {
        $vm = Invoke-VzRigHost $script:rig A { $v = Get-VzVm lv1 -GuestTools; [pscustomobject]@{ State = $v.State; GuestToolsState = "$($v.GuestToolsState)" } }
        $vm.State | Should -Be 'Running'
        $vm.GuestToolsState | Should -Be 'Responding'
        @(Get-VzRigLeftover $script:rig B) | Should -BeNullOrEmpty -Because 'the destination removes its QEMU, tap, sockets, disks and record'
    }
    # Processes of this rig matching a pattern (the ssh tunnel, a host's QEMU).
    function script:Find-RigProcess([string] $Pattern) {
        foreach ($d in [IO.DirectoryInfo]::new('/proc').GetDirectories() | Where-Object { $_.Name -match '^\d+$' }) {
            $cmd = try { [IO.File]::ReadAllText("$($d.FullName)/cmdline").Replace([char]0, ' ') } catch { '' }
            if ($cmd -match $Pattern) { [int]$d.Name }
        }
    }
}

Describe 'Moving VEs between two hosts over SSH' -Tag Integration, Slow, Migration {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:rig = New-VzTwoHostRig -ModuleRoot (Split-Path (Get-Module Virtuozzo).ModuleBase)
        $script:B = $script:rig.Hosts.B
    }
    AfterAll {
        foreach ($h in 'A', 'B') {
            try {
                Invoke-VzRigHost $script:rig $h {
                    Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
                    Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
                    Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
                }
            } catch { Write-Warning "Cleaning host ${h}: $_" }
        }
        $left = @(Get-VzRigLeftover $script:rig A) + @(Get-VzRigLeftover $script:rig B)
        Remove-VzTwoHostRig $script:rig
        if ($left) { throw "The rig's hosts kept: $($left -join '; ')" }
    }

    It 'reaches both hosts with one Invoke-Command -HostName fan-out, each with its own data root' {
        $all = Invoke-Command -HostName $script:rig.Hosts.A.AccessAddress, $script:B.AccessAddress -UserName root -KeyFilePath $script:rig.KeyFile `
            -Options (Get-VzRigSshOption $script:rig) { Import-Module Virtuozzo; Get-VzHost }
        @($all).Count | Should -Be 2
        @($all.DataRoot | Sort-Object) | Should -Be @($script:rig.Hosts.A.DataRoot, $script:B.DataRoot)
        $all[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Host.HostInfo'
    }

    It 'reports a stopped VM as movable, with no side effect on either host' {
        $r = Invoke-VzRigHost $script:rig A { $null = New-VzVm off1 -MemorySize 128MB -DiskSize 16MB -Network vzmbr; Test-VzMigration off1 -DestinationHost b }
        $r.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Migration.MigrationReport'
        $r.IsCompatible | Should -BeTrue
        # SerializationDepth 2 (for the entries) brings the report's own enum back as its number.
        [Virtuozzo.Engine.Migration.MigrationMode]$r.Mode | Should -Be 'Offline'
        $r.DestinationDataRoot | Should -Be $script:B.DataRoot
        @(Get-VzRigLeftover $script:rig B) | Should -BeNullOrEmpty -Because 'a check changes nothing on the destination'
        ($r | Format-Table | Out-String) | Should -Match 'off1\s+VirtualMachine\s+b\s+Offline\s+True'
    }

    It 'lists each incompatibility with its message id and the object at fault' {
        Invoke-VzRigNamespace $script:rig $script:rig.Hosts.A.Namespace @('ip', 'link', 'add', 'vzmonly', 'type', 'bridge')
        Invoke-VzRigHost $script:rig B { $null = New-VzVm clash1 -MemorySize 128MB -DiskSize 16MB }
        $reports = Invoke-VzRigHost $script:rig A {
            $null = New-VzVm clash1 -MemorySize 128MB -DiskSize 16MB
            $null = New-VzVm onlya -MemorySize 128MB -DiskSize 16MB -Network vzmonly
            Test-VzMigration clash1, onlya -DestinationHost b
            Test-VzMigration off1 -DestinationHost b-untrusted
            Test-VzMigration off1 -DestinationHost nosuch.invalid
            Test-VzMigration off1 -DestinationHost a
        }
        $clash = $reports | Where-Object Name -eq clash1
        $clash.Incompatibilities[0].MessageId | Should -Be 'VzMigrationNameInUse'
        $clash.Incompatibilities[0].Source | Should -Be 'clash1'
        "$($clash.Incompatibilities[0].Side)" | Should -Be 'Destination'
        $bridge = $reports | Where-Object Name -eq onlya
        @($bridge.Incompatibilities.MessageId) | Should -Be @('VzMigrationBridgeMissing')
        $bridge.Incompatibilities[0].Source | Should -Be 'vzmonly'
        $untrusted = $reports | Where-Object DestinationHost -eq 'b-untrusted'
        $untrusted.Incompatibilities[0].MessageId | Should -Be 'VzMigrationHostKeyUntrusted'
        "$($untrusted.Incompatibilities[0].Side)" | Should -Be 'Connection'
        ($reports | Where-Object DestinationHost -eq 'nosuch.invalid').Incompatibilities[0].MessageId | Should -Be 'VzMigrationHostUnreachable'
        ($reports | Where-Object DestinationHost -eq 'a').Incompatibilities[0].MessageId | Should -Be 'VzMigrationSameHost'
    }

    It 'refuses bad input with typed errors, changing nothing' {
        $e = Get-RigError A { Move-VzVm clash1 -DestinationHost b }
        $e.FullyQualifiedErrorId | Should -Be 'VzMigrationNameInUse,Virtuozzo.Commands.MoveVzVmCommand'
        $e.CategoryInfo.Category | Should -Be 'ResourceExists'
        $e = Get-RigError A { Move-VzVm off1 -DestinationHost nosuch.invalid }
        $e.FullyQualifiedErrorId | Should -Be 'VzMigrationHostUnreachable,Virtuozzo.Commands.MoveVzVmCommand'
        $e.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $e = Get-RigError A { Move-VzVm off1 -DestinationHost a }
        $e.FullyQualifiedErrorId | Should -Be 'VzMigrationSameHost,Virtuozzo.Commands.MoveVzVmCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e = Get-RigError A { Move-VzVm nosuchvm -DestinationHost b }
        $e.FullyQualifiedErrorId | Should -Be 'VzVmNotFound,Virtuozzo.Commands.MoveVzVmCommand'
        (Invoke-VzRigHost $script:rig A { (Get-VzVm).Name }) | Should -Contain 'off1'
        (Invoke-VzRigHost $script:rig B { @(Get-VzVm).Count }) | Should -Be 1 -Because 'only clash1 is on B'
        Invoke-VzRigHost $script:rig B { Remove-VzVm clash1 -Force -Confirm:$false }
        Invoke-VzRigHost $script:rig A { Remove-VzVm clash1, onlya -Force -Confirm:$false }
    }

    It 'moves a stopped VM offline, keeping its Id, name, MAC and settings, and removes the source' {
        $before = Invoke-VzRigHost $script:rig A { Set-VzVm off1 -Description 'moved offline'; Get-VzVm off1 }
        $result = Invoke-VzRigHost $script:rig A { Move-VzVm off1 -DestinationHost b }
        "$($result.Mode)" | Should -Be 'Offline'
        $after = Invoke-VzRigHost $script:rig B { Get-VzVm off1 }
        $after.Id | Should -Be $before.Id
        $after.MacAddress | Should -Be $before.MacAddress
        $after.Description | Should -Be 'moved offline'
        $after.MemorySize | Should -Be 128MB
        $after.Directory | Should -BeLike "$($script:B.DataRoot)/*"
        (Invoke-VzRigHost $script:rig A { @(Get-VzVm off1 -ErrorAction SilentlyContinue).Count }) | Should -Be 0
        $check = Invoke-VzRigHost $script:rig B { Test-VzDisk (Get-VzVm off1).Disks[0].Path }
        $check.IsClean | Should -BeTrue
        Invoke-VzRigHost $script:rig B { Remove-VzVm off1 -Force -Confirm:$false }
    }

    Context 'a running test guest' {
        BeforeAll {
            Invoke-VzRigHost $script:rig A -ArgumentList $script:guest, $script:rig.GuestAddress {
                param($g, $ip)
                $null = New-VzVm lv1 -MemorySize 256MB -DiskSize 64MB -Network vzmbr -KernelPath $g.KernelPath -InitrdPath $g.InitrdPath -KernelArguments $g.KernelArguments |
                    Start-VzVm -Wait -Timeout 300
                # The wire's address for the observer, and a known pattern on the disk to verify after every move.
                # 96 MiB of random data in guest RAM: the RAM copy then takes seconds on the shaped wire, so a fault
                # lands at the chosen share of it (zero pages would pass in an instant).
                $null = Invoke-VzVmCommand lv1 sh -ArgumentList '-c', "ifconfig eth0 $ip netmask 255.255.255.0 up; dd if=/dev/urandom of=/dev/vda bs=1M count=16 conv=fsync 2>/dev/null; head -c 100663296 /dev/urandom > /tmp/ballast" -Timeout 300
            }
            $script:sum = (Invoke-VzRigHost $script:rig A { (Invoke-VzVmCommand lv1 sh -ArgumentList '-c', 'head -c 16777216 /dev/vda | md5sum' -Timeout 120).StdOut }).Trim()
        }

        AfterAll { Set-VzRigWire $script:rig -Up -RateMbit 0 }

        It 'refuses a paused VM (a transitional state) before anything changes' {
            $e = Get-RigError A { Suspend-VzVm lv1; try { Move-VzVm lv1 -DestinationHost b } finally { Resume-VzVm lv1 } }
            $e.FullyQualifiedErrorId | Should -Be 'VzMigrationTransitionalState,Virtuozzo.Commands.MoveVzVmCommand'
            $e.CategoryInfo.Category | Should -Be 'InvalidOperation'
            @(Get-VzRigLeftover $script:rig B) | Should -BeNullOrEmpty
        }

        It 'rolls back when the SSH tunnel is cut at <Fraction> % of the RAM copy: the VM runs on A, its agent answers, B is clean' -Tag MigrationFault -TestCases @(
            @{ Fraction = 25 }
        ) {
            param($Fraction)
            $r = Invoke-VzRigFaultedMove $script:rig -From A -Name lv1 -Trigger { Wait-VzRigMovePoint $args[0] -RamPercent $Fraction } -Fault { Find-RigProcess 'ssh .*-N .*mig-nbd\.sock' | ForEach-Object { $null = & kill -KILL $_ } }
            $r.Point | Should -BeGreaterOrEqual $Fraction
            $r.State | Should -Be 'Failed'
            Assert-SourceKeptIt
        }

        It 'rolls back when the destination QEMU is killed at 90 % of the RAM copy: the VM runs on A, B is clean' -Tag MigrationFault {
            $pattern = "^\S*qemu-system.*$([regex]::Escape($script:B.RunRoot))"
            $r = Invoke-VzRigFaultedMove $script:rig -From A -Name lv1 -Trigger { Wait-VzRigMovePoint $args[0] -RamPercent 90 } -Fault { Find-RigProcess $pattern | ForEach-Object { $null = & kill -KILL $_ 2>$null } }
            $r.Point | Should -BeGreaterOrEqual 90
            $r.State | Should -Be 'Failed'
            Assert-SourceKeptIt
        }

        It 'rolls back when the destination''s disk fills during the disk copy: the VM runs on A, B is clean' -Tag MigrationFault {
            # Room for what the probe asks (the VM folder's apparent size + 64 MiB) and ext4's own share: the move starts, then the disk fills.
            $need = [long]((Invoke-VzRigHostShell $script:rig A "du -sb --apparent-size '$($script:rig.Hosts.A.DataRoot)/private'") -split '\s+')[0]
            $image = Mount-VzRigDataRoot $script:rig B -SizeMB ([int]($need / 1MB) + 128)
            try {
                $filler = Join-Path $script:B.DataRoot 'filler'
                $r = Invoke-VzRigFaultedMove $script:rig -From A -Name lv1 -RateMbit 16 -Trigger { Wait-VzRigMovePoint $args[0] -DiskMiB 1 } -Fault { Invoke-VzRigHostShell $script:rig B (Get-VzRigDiskFiller $script:rig B) }
                $r.State | Should -Be 'Failed'
                # QEMU 7.2's NBD export may leave the mirror's writes hanging on ENOSPC rather than failing them: then the
                # stall timeout is what ends the move. Either way a typed failure, and the checks below.
                $r.ErrorId | Should -Match '^VzMigration(DiskMirrorFailed|Stalled)\b'
                [long](Invoke-VzRigHostShell $script:rig B "stat -c %s '$filler'") | Should -BeGreaterThan 20MB -Because 'the filler took the free space'
                Assert-SourceKeptIt
            }
            finally {
                Invoke-VzRigHostShell $script:rig B "rm -f '$($script:B.DataRoot)/filler' '$($script:B.DataRoot)/filler.tail'"
                Dismount-VzRigDataRoot $script:rig B $image
            }
        }

        It 'cancels a move whose wire is cut for 5 s (stall timeout), resuming on A and cleaning B' -Tag MigrationFault {
            $r = Invoke-VzRigFaultedMove $script:rig -From A -Name lv1 -Trigger { Wait-VzRigMovePoint $args[0] -RamPercent 25 } -Fault {
                Set-VzRigWire $script:rig -Down
                try { Start-Sleep -Seconds 5 } finally { Set-VzRigWire $script:rig -Up }
            }
            $r.State | Should -Be 'Failed'
            $r.ErrorId | Should -Match '^VzMigrationStalled'
            Assert-SourceKeptIt
        }

        It 'moves live to B: same Id and MAC, disk identical, guest agent and the observer''s ping answer there, A is clean' {
            $before = Invoke-VzRigHost $script:rig A { Get-VzVm lv1 }
            $result = Invoke-VzRigHost $script:rig A { Move-VzVm lv1 -DestinationHost b }
            "$($result.Mode)" | Should -Be 'Live'
            $result.Running | Should -BeTrue
            $result.Downtime | Should -Not -BeNullOrEmpty -Because 'QEMU reports the downtime of the switchover'
            $after = Invoke-VzRigHost $script:rig B { $v = Get-VzVm lv1 -GuestTools; [pscustomobject]@{ Id = $v.Id; MacAddress = $v.MacAddress; State = $v.State; GuestToolsState = "$($v.GuestToolsState)" } }
            $after.Id | Should -Be $before.Id
            $after.MacAddress | Should -Be $before.MacAddress
            $after.State | Should -Be 'Running'
            $after.GuestToolsState | Should -Be 'Responding'
            $sumB = (Invoke-VzRigHost $script:rig B { (Invoke-VzVmCommand lv1 sh -ArgumentList '-c', 'head -c 16777216 /dev/vda | md5sum' -Timeout 120).StdOut }).Trim()
            $sumB | Should -Be $script:sum
            Invoke-VzRigNamespace $script:rig $script:rig.Observer @('ping', '-c', '3', '-W', '3', $script:rig.GuestAddress) | Out-Null
            $LASTEXITCODE | Should -Be 0 -Because 'the guest answers on the same layer-2 segment from B'
            @(Get-VzRigLeftover $script:rig A) | Should -BeNullOrEmpty -Because 'the source is removed once B confirmed'
        }
    }

    It 'moves a running container with -Restart: same Id, files, owners, modes and hard links, running on B' {
        $a = Invoke-VzRigHost $script:rig A -ArgumentList 'ct1' ([scriptblock]::Create(@'
param($n)
$null = New-VzContainer $n -Template busybox -MemorySize 64MB | Start-VzContainer
$null = Invoke-VzContainerCommand $n -Shell 'mkdir -p /data && echo hello > /data/f && ln /data/f /data/hard && chown 1234:4321 /data/f && chmod 640 /data/f'
Get-VzContainer $n
'@))
        $result = Invoke-VzRigHost $script:rig A { Move-VzContainer ct1 -DestinationHost b -Restart }
        "$($result.Mode)" | Should -Be 'Offline'
        $result.Running | Should -BeTrue
        $result.Downtime | Should -Not -BeNullOrEmpty
        $b = Invoke-VzRigHost $script:rig B { Get-VzContainer ct1 }
        $b.Id | Should -Be $a.Id
        $b.State | Should -Be 'Running'
        $out = Invoke-VzRigHost $script:rig B { Invoke-VzContainerCommand ct1 -Shell 'stat -c "%u:%g %a %h" /data/f; cat /data/hard' }
        $out.StdOut | Should -Match '^1234:4321 640 2\s+hello'
        (Invoke-VzRigHost $script:rig A { @(Get-VzContainer ct1 -ErrorAction SilentlyContinue).Count }) | Should -Be 0
    }

    It 'moves a debian-12 container whose own init runs a writer: it writes again on B by itself, and the manifest (owners, modes, xattrs, ACLs, hard links, devices, sparse) is the same' {
        Install-VzRigTemplate $script:rig A debian-12 -ModuleRoot (Split-Path (Get-Module Virtuozzo).ModuleBase)
        Invoke-VzRigHost $script:rig A {
            $null = New-VzContainer dct1 -Template debian-12 -MemorySize 256MB | Start-VzContainer
            # The writer belongs to the container's own configuration (inittab, respawn), not to this test.
            $null = Invoke-VzContainerCommand dct1 -Shell 'printf "#!/bin/sh\nwhile :; do date +%%s.%%N >> /var/lib/clock.log; sleep 0.1; done\n" > /usr/local/bin/clockwriter; chmod 755 /usr/local/bin/clockwriter; echo "cw:2345:respawn:/usr/local/bin/clockwriter" >> /etc/inittab; kill -HUP 1'
        }
        $id = (Invoke-VzRigHost $script:rig A { (Get-VzContainer dct1).Id }).ToString()
        $tree = "$($script:rig.Hosts.A.DataRoot)/private/$id/root/srv/m"
        New-VzRigManifestTree $script:rig A $tree
        $before = Get-VzRigTreeManifest $script:rig A $tree
        $before.Count | Should -BeGreaterThan 40
        $result = Invoke-VzRigHost $script:rig A { Move-VzContainer dct1 -DestinationHost b -Restart }
        $result.Running | Should -BeTrue
        Start-Sleep -Seconds 3
        $clock = Invoke-VzRigHost $script:rig B { (Invoke-VzContainerCommand dct1 -Shell 'date +%s.%N; tail -n 1 /var/lib/clock.log').StdOut -split "`n" }
        ([double]$clock[0] - [double]$clock[1]) | Should -BeLessThan 2 -Because 'the writer runs on B, started by the container''s init'
        $after = Get-VzRigTreeManifest $script:rig B "$($script:B.DataRoot)/private/$id/root/srv/m"
        Compare-Object $before $after | Should -BeNullOrEmpty
        ($after -join "`n") | Should -Match 'user\.color=0x626c7565'
        ($after -join "`n") | Should -Match 'acl default:user:1500:r-x'
        ($after -join "`n") | Should -Match '\./sparse\|regular file\|.*\|sparse'
        Invoke-VzRigHost $script:rig B { Remove-VzContainer dct1 -Force -Confirm:$false }
    }
}
