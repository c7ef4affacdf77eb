# Virtual machines: cmdlet contracts without a guest (Unit), and the acceptance runbook against the test guest
# (a Debian cloud kernel + busybox + qemu-ga initramfs) under TCG (Integration). Boots are few and reused: CI has
# two cores and a time budget for everything.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    # Two vCPUs where the host has them: -CpuCount above the host's CPU count is refused, and the suite holds on any host.
    $script:Cpus = [Math]::Min(2, [Environment]::ProcessorCount)
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }

    function script:Get-GuestDevices([string] $Vm) {
        @((Invoke-VzVmCommand $Vm sh -ArgumentList '-c', 'ls /sys/block | grep ^vd || true').StdOut -split "`n" | Where-Object { $_ })
    }
    # Alive means not gone and not a zombie: PID 1 on this host reaps daemonized QEMUs late.
    function script:Test-LiveProcess([int] $ProcessId) {
        $stat = Get-Content "/proc/$ProcessId/stat" -ErrorAction SilentlyContinue
        return [bool]$stat -and ($stat -replace '^.*\) (\S).*$', '$1') -notin 'Z', 'X'
    }
    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 30) {
        $end = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $end) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 200 }
        return [bool](& $Condition)
    }
}

Describe 'VM cmdlets without a running guest' -Tag Unit, Vms {
    BeforeAll { $script:scope = New-VzTestScope -Name vmunit }
    AfterAll {
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'exports every VM cmdlet with the target parameters' {
        foreach ($c in 'Start-VzVm', 'Stop-VzVm', 'Remove-VzVm', 'Set-VzVm', 'Invoke-VzVmCommand', 'Add-VzVmDisk', 'Copy-VzVm') {
            $cmd = Get-Command $c -Module Virtuozzo
            $cmd.Parameters.Keys | Should -Contain 'Name'
            $cmd.Parameters.Keys | Should -Contain 'Id'
            $cmd.Parameters.Keys | Should -Contain 'InputObject'
            $cmd.Parameters['Name'].Attributes.Where({ $_ -is [Parameter] }).ValueFromPipelineByPropertyName | Should -Contain $true
        }
        (Get-Command Remove-VzVm).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
        (Get-Command Stop-VzVm).Parameters.Keys | Should -Contain 'Kill'
        (Get-Command Set-VzVmUserPassword).Parameters['Password'].ParameterType | Should -Be ([securestring])
    }

    It 'creates a stopped VM with a qcow2 disk, the 40 % default guarantee and a Virtuozzo MAC' {
        $vm = New-VzVm unit1 -MemorySize 256MB -CpuCount $script:Cpus -DiskSize 32MB -Network User
        $vm.State | Should -Be 'Stopped'
        $vm.MemorySize | Should -Be 256MB
        $vm.CpuCount | Should -Be $script:Cpus
        $vm.MemGuaranteePercent | Should -Be 40
        $vm.MacAddress | Should -Match '^00:1C:42(:[0-9A-F]{2}){3}$'
        $info = & qemu-img info --output=json $vm.Disks[0].Path | ConvertFrom-Json
        $info.format | Should -Be 'qcow2'
        $info.'virtual-size' | Should -Be 32MB
        (Get-Item $vm.Disks[0].Path).DirectoryName | Should -Be $vm.Directory
    }

    It 'takes MemMerge and AutoBalloon at creation as Set-VzVm does, on by default' {
        $default = Get-VzVm unit1
        $default.MemMerge | Should -BeTrue
        $default.AutoBalloon | Should -BeTrue
        $vm = New-VzVm unitmerge -MemorySize 256MB -MemMerge $false -AutoBalloon $false
        $vm.MemMerge | Should -BeFalse
        $vm.AutoBalloon | Should -BeFalse
        (Get-VzVm unitmerge).MemMerge | Should -BeFalse
        # The same setting New-VzVm wrote, changed by Set-VzVm: the two cmdlets agree.
        $set = Set-VzVm unitmerge -MemMerge $true -AutoBalloon $true -PassThru
        $set.MemMerge | Should -BeTrue
        $set.AutoBalloon | Should -BeTrue
        Remove-VzVm unitmerge -Force -Confirm:$false
    }

    It 'refuses a name that is taken, and bad input, leaving nothing behind' {
        $before = @(Get-ChildItem (Join-Path $env:VZ_ROOT 'private')).Count
        { New-VzVm unit1 -MemorySize 256MB -ErrorAction Stop } | Should -Throw -ErrorId 'VzVeNameInUse,Virtuozzo.Commands.NewVzVmCommand'
        { New-VzVm unit2 -MemorySize 512MB -MemHotplug -ErrorAction Stop } | Should -Throw -ErrorId 'VzMemHotplugTooSmall,Virtuozzo.Commands.NewVzVmCommand'
        { New-VzVm unit2 -KernelPath /nonexistent/vmlinuz -ErrorAction Stop } | Should -Throw -ErrorId 'VzFileNotFound,Virtuozzo.Commands.NewVzVmCommand'
        { New-VzVm unit2 -MemGuarantee 101 -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidMemGuarantee,Virtuozzo.Commands.NewVzVmCommand'
        @(Get-ChildItem (Join-Path $env:VZ_ROOT 'private')).Count | Should -Be $before
    }

    It 'says which VM does not exist, by name and by id' {
        { Get-VzVm nosuchvm -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmNotFound,Virtuozzo.Commands.GetVzVmCommand'
        { Start-VzVm -Id ([guid]::NewGuid()) -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmNotFound,Virtuozzo.Commands.StartVzVmCommand'
        Get-VzVm 'nosuch*' | Should -BeNullOrEmpty
    }

    It 'applies settings to a stopped VM at once, and validates them' {
        $vm = Set-VzVm unit1 -CpuCount 1 -MemorySize 384MB -MemGuarantee 60 -CpuMask '0-1' -CpuUnits 2000 -OnBoot $true -PassThru -WarningVariable warn
        $warn | Should -BeNullOrEmpty
        $vm.CpuCount | Should -Be 1
        $vm.MemorySize | Should -Be 384MB
        $vm.MemGuaranteePercent | Should -Be 60
        $vm.CpuMask | Should -Be '0-1'
        $vm.CpuUnits | Should -Be 2000
        $vm.OnBoot | Should -BeTrue
        $vm.MemGuarantee.Percent | Should -Be 60
        $auto = Set-VzVm unit1 -MemGuarantee Auto -PassThru
        $auto.MemGuaranteePercent | Should -Be 40
        $auto.MemGuarantee.IsAuto | Should -BeTrue
        { Set-VzVm unit1 -CpuMask '0,999' -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidCpuMask,Virtuozzo.Commands.SetVzVmCommand'
        # One rule for CPU counts on both kinds of VE: 1 to the host's CPUs, the same error id as for containers.
        { Set-VzVm unit1 -CpuCount ([Environment]::ProcessorCount + 1) -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidCpuCount,Virtuozzo.Commands.SetVzVmCommand'
        { Set-VzVm unit1 -MemGuarantee 101 -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidMemGuarantee,Virtuozzo.Commands.SetVzVmCommand'
        (Get-VzVm unit1).CpuCount | Should -Be 1
    }

    It 'lets Get-VzDisk name the VM that uses a disk, inside its folder or attached from elsewhere' {
        $outside = Join-Path $script:scope.Base 'shared-data.qcow2'
        $null = New-VzDisk $outside -Size 8MB
        $d = Add-VzVmDisk unit1 -Path $outside -PassThru
        (Get-VzDisk $outside).VeName | Should -Be 'unit1'
        ((Get-VzVm unit1).Disks | Where-Object DiskId -eq 'disk0').Path | Get-VzDisk | Select-Object -ExpandProperty VeName | Should -Be 'unit1'
        Remove-VzVmDisk unit1 $d.DiskId -KeepFile -Confirm:$false
        (Get-VzDisk $outside).VeName | Should -BeNullOrEmpty
        Test-Path $outside | Should -BeTrue
    }

    It 'adds and removes disks and DVD drives of a stopped VM' {
        $d = Add-VzVmDisk unit1 -Size 16MB -PassThru
        $d.DiskId | Should -Be 'disk1'
        (& qemu-img info --output=json $d.Path | ConvertFrom-Json).'virtual-size' | Should -Be 16MB
        (Get-VzVm unit1).Disks.DiskId | Should -Be @('disk0', 'disk1')
        # A VM's disks pipe into Resize-VzDisk by their Path.
        (Get-VzVm unit1).Disks | Where-Object DiskId -eq disk1 | Resize-VzDisk -Confirm:$false -Size 24MB
        (& qemu-img info --output=json $d.Path | ConvertFrom-Json).'virtual-size' | Should -Be 24MB
        { Resize-VzDisk -Confirm:$false $d.Path -Size 8MB -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskShrinkNotAllowed,Virtuozzo.Commands.ResizeVzDiskCommand'
        Remove-VzVmDisk unit1 disk1 -Confirm:$false
        (Get-VzVm unit1).Disks.DiskId | Should -Be @('disk0')
        Test-Path $d.Path | Should -BeFalse
        $iso = Join-Path $TestDrive 'empty.iso'; [IO.File]::WriteAllBytes($iso, [byte[]]::new(2048))
        (Add-VzVmDvdDrive unit1 $iso -PassThru).DvdDrives.IsoPath | Should -Be $iso
        (Remove-VzVmDvdDrive unit1 cd0 -PassThru).DvdDrives | Should -BeNullOrEmpty
    }

    It 'refuses guest commands on a stopped VM' {
        { Invoke-VzVmCommand unit1 uname -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmNotRunning,Virtuozzo.Commands.InvokeVzVmCommandCommand'
        { Suspend-VzVm unit1 -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmNotRunning,Virtuozzo.Commands.SuspendVzVmCommand'
    }

    It 'copies a VM with a new id and MAC, renames it and removes it with its files' {
        $src = Get-VzVm unit1
        $copy = Copy-VzVm unit1 unit1copy
        $copy.Id | Should -Not -Be $src.Id
        $copy.MacAddress | Should -Not -Be $src.MacAddress
        $copy.Disks[0].Path | Should -BeLike "$($copy.Directory)/*"
        (& qemu-img info --output=json $copy.Disks[0].Path | ConvertFrom-Json).'backing-filename' | Should -BeNullOrEmpty
        $renamed = Rename-VzVm unit1copy unit1renamed -PassThru
        $renamed.Id | Should -Be $copy.Id
        Get-VzVm unit1copy -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Remove-VzVm unit1renamed -Confirm:$false
        Test-Path $copy.Directory | Should -BeFalse
    }

    It 'exports a libvirt domain XML that validates against libvirt''s schema' {
        $xml = [xml](Export-VzVm unit1 -Format LibvirtXml)
        $xml.domain.name | Should -Be 'unit1'
        $xml.domain.uuid | Should -Be (Get-VzVm unit1).Id.ToString()
        $xml.domain.devices.disk.source.file | Should -Be (Get-VzVm unit1).Disks[0].Path
        $xml.domain.devices.interface.mac.address | Should -Be (Get-VzVm unit1).MacAddress
        $file = Export-VzVm unit1 -Format LibvirtXml -Path (Join-Path $TestDrive 'unit1.xml')
        $file.Length | Should -BeGreaterThan 0
        if (Get-Command virt-xml-validate -ErrorAction SilentlyContinue) {
            $out = & virt-xml-validate $file.FullName domain 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        }
        else { Set-ItResult -Skipped -Because 'virt-xml-validate (libvirt-clients) is not installed' }
    }

    It 'honours -WhatIf' {
        New-VzVm whatif1 -WhatIf | Should -BeNullOrEmpty
        Get-VzVm whatif1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Remove-VzVm unit1 -WhatIf
        Get-VzVm unit1 | Should -Not -BeNullOrEmpty
    }
}

Describe 'A VM running the test guest under TCG' -Tag Integration, Slow, Vms {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name vm
        $script:vm = New-VzVm vm1 -MemorySize 512MB -CpuCount $script:Cpus -DiskSize 64MB -Network User `
            -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments |
            Start-VzVm -Wait -Timeout 60 -PassThru
    }
    AfterAll {
        Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'runs, and its guest agent answers' {
        $script:vm.State | Should -Be 'Running'
        (Get-VzVm vm1 -GuestTools).GuestToolsState | Should -Be 'Responding'
        $p = (Get-Content "/proc/$($script:vm.ProcessId)/cmdline" -Raw) -replace "`0", ' '
        $p | Should -Match 'qemu-system-x86_64'
        $p | Should -Match "-accel $((Get-VzHost).Accelerator.ToString().ToLowerInvariant())"
    }

    It 'runs uname in the guest and returns the guest kernel''s line with exit code 0' {
        $r = Invoke-VzVmCommand vm1 uname -ArgumentList '-a'
        $r.ExitCode | Should -Be 0
        $r.StdOut | Should -Match '^Linux testguest 6\.\d+\.\d+-\d+-cloud-amd64 '
    }

    It 'takes -ArgumentList by name (as Invoke-VzContainerCommand does), and a misspelt parameter is a binding error' {
        $r = Invoke-VzVmCommand vm1 -Command uname -ArgumentList -r
        $r.ExitCode | Should -Be 0
        $r.StdOut.Trim() | Should -Match '^6\.\d+\.\d+-\d+-cloud-amd64$'
        { Invoke-VzVmCommand vm1 -Command uname -ArgumentLst -r -ErrorAction Stop } | Should -Throw -ErrorId 'NamedParameterNotFound,Virtuozzo.Commands.InvokeVzVmCommandCommand'
    }

    It 'returns a failing command''s exit code and stderr, and feeds stdin' {
        $r = Invoke-VzVmCommand vm1 sh -ArgumentList '-c', 'echo to-stderr >&2; exit 3'
        $r.ExitCode | Should -Be 3
        $r.StdErr.Trim() | Should -Be 'to-stderr'
        (Invoke-VzVmCommand vm1 cat -InputString "line one`nline two").StdOut | Should -Be "line one`nline two"
    }

    It 'says plainly when the program does not exist in the guest (ObjectNotFound)' {
        $err = $null
        try { Invoke-VzVmCommand vm1 /no/such/program -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzGuestCommandNotFound,Virtuozzo.Commands.InvokeVzVmCommandCommand'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.Exception.Message | Should -Be "There is no program '/no/such/program' in the VM 'vm1'."
    }

    It 'kills a guest command that outlives -Timeout, in the guest' {
        $err = $null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        # -Timeout bounds the whole call, reaching the agent included: 5 s leaves a loaded TCG host time to sync.
        try { Invoke-VzVmCommand vm1 sleep 77 -Timeout 5 -ErrorAction Stop } catch { $err = $_ }
        $watch.Stop()
        $err.FullyQualifiedErrorId | Should -Be 'VzGuestCommandTimeout,Virtuozzo.Commands.InvokeVzVmCommandCommand'
        $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err.Exception.Message | Should -Match 'killed in the guest'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 12 -Because 'the kill is bounded (3 s) after the 5 s timeout'
        $ps = (Invoke-VzVmCommand vm1 ps).StdOut
        $ps | Should -Not -Match 'sleep 77' -Because 'the timed-out command no longer runs in the guest'
    }

    It 'sets a password with quotes, spaces and non-ASCII that lands in /etc/shadow' {
        $plain = "p `"q`" r  s'ü€"
        Set-VzVmUserPassword vm1 -UserName root -Password (ConvertTo-SecureString $plain -AsPlainText -Force)
        $line = ((Invoke-VzVmCommand vm1 cat /etc/shadow).StdOut -split "`n") | Where-Object { $_ -like 'root:*' }
        $hash = ($line -split ':')[1]
        $hash | Should -Match '^\$6\$'
        $salt = ($hash -split '\$')[2]
        $expected = ($plain | & openssl passwd -6 -salt $salt -stdin)
        $hash | Should -Be $expected
        $err = $null
        try { Set-VzVmUserPassword vm1 -UserName nosuchuser -Password (ConvertTo-SecureString 'x' -AsPlainText -Force) -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzGuestUserNotFound,Virtuozzo.Commands.SetVzVmUserPasswordCommand'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.Exception.Message | Should -Be "There is no user 'nosuchuser' in the VM 'vm1'."
    }

    It 'reports guest facts and network through the agent' {
        $i = Get-VzVmGuestInfo vm1
        $i.HostName | Should -Be 'testguest'
        $i.KernelRelease | Should -Match 'cloud-amd64'
        $i.OnlineCpuCount | Should -Be $script:Cpus
        $i.AgentVersion | Should -Match '^\d+\.\d+'
        $nic = Get-VzVmGuestNetwork vm1 | Where-Object Name -eq 'eth0'
        $nic.MacAddress | Should -Be $script:vm.MacAddress.ToLowerInvariant()
    }

    It 'pins every vCPU thread with -CpuMask to the host''s last CPU' {
        $last = [Environment]::ProcessorCount - 1
        Set-VzVm vm1 -CpuMask $last
        $vcpus = Get-ChildItem "/proc/$($script:vm.ProcessId)/task" | Where-Object { (Get-Content "$($_.FullName)/comm") -match '^CPU \d+/' }
        $vcpus.Count | Should -Be $script:Cpus
        foreach ($t in $vcpus) {
            ((Get-Content "$($t.FullName)/status") -match '^Cpus_allowed_list:')[0] | Should -Match ":\s+$last`$"
        }
        (Get-VzVm vm1).CpuMask | Should -Be "$last"
    }

    It 'runs QEMU in a cgroup of its own that carries the CPU limit, the CPU weight and the memory guarantee' {
        Set-VzVm vm1 -CpuLimit 50 -CpuUnits 2000
        $lines = Get-Content "/proc/$($script:vm.ProcessId)/cgroup"
        $cpu = ($lines | Where-Object { $_ -match '^\d+:([^:]*,)?cpu(,[^:]*)?:' } | Select-Object -First 1)
        if ($cpu) {
            $rel = ($cpu -split ':', 3)[2]
            $rel | Should -Be "/$env:VZ_CGROUP_PARENT/vm-$($script:vm.Id.ToString('N'))"
            $cpuDir = @('/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct') | Where-Object { Test-Path "$_$rel" } | Select-Object -First 1
            [long](Get-Content "$cpuDir$rel/cpu.cfs_quota_us") | Should -Be 50000
            [long](Get-Content "$cpuDir$rel/cpu.shares") | Should -Be 2048
            $mem = (($lines | Where-Object { $_ -match '^\d+:memory:' }) -split ':', 3)[2]
            $mem | Should -Be $rel
            # vcmmd's protection: 40 % guarantee + 64 MiB QEMU overhead + 8 bytes per guest page, page-rounded by the kernel.
            $protection = 512MB * 40 / 100 + 64MB + 8 * (512MB / 4096)
            [long](Get-Content "/sys/fs/cgroup/memory$mem/memory.soft_limit_in_bytes") | Should -BeGreaterThan ($protection - 4096)
            [long](Get-Content "/sys/fs/cgroup/memory$mem/memory.soft_limit_in_bytes") | Should -BeLessOrEqual $protection
        }
        else {
            $rel = (($lines | Where-Object { $_ -like '0::*' }) -split ':', 3)[2]
            $rel | Should -Be "/$env:VZ_CGROUP_PARENT/vm-$($script:vm.Id.ToString('N'))"
            (Get-Content "/sys/fs/cgroup$rel/cpu.max") | Should -Be '50000 100000'
        }
    }

    It 'stores a CPU count change of a running VM as pending and says so' -Skip:([Environment]::ProcessorCount -lt 2) {
        $r = Set-VzVm vm1 -CpuCount 1 -PassThru -WarningVariable warn -WarningAction SilentlyContinue
        $warn | Should -Match 'CpuCount=1 is pending'
        $r.PendingChanges | Should -Be 'CpuCount=1'
        $r.CpuCount | Should -Be 2
        Set-VzVm vm1 -CpuCount 2 -WarningAction SilentlyContinue
        (Get-VzVm vm1).PendingChanges | Should -BeNullOrEmpty
    }

    It 'hot-adds a 64 MiB disk, grows it online and hot-removes it' {
        $before = Get-GuestDevices vm1
        $d = Add-VzVmDisk vm1 -Size 64MB -PassThru
        Wait-Until { (Get-GuestDevices vm1).Count -gt $before.Count } | Should -BeTrue
        $new = @(Get-GuestDevices vm1 | Where-Object { $_ -notin $before })
        $new.Count | Should -Be 1
        [long](Invoke-VzVmCommand vm1 cat "/sys/block/$($new[0])/size").StdOut * 512 | Should -Be 64MB
        Resize-VzDisk -Confirm:$false $d.Path -Size 96MB   # the running VM has it open: resized online through QMP
        { Resize-VzDisk -Confirm:$false $d.Path -Size 32MB -Shrink -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskOnlineShrinkRefused,Virtuozzo.Commands.ResizeVzDiskCommand'
        Wait-Until { [long](Invoke-VzVmCommand vm1 cat "/sys/block/$($new[0])/size").StdOut * 512 -eq 96MB } | Should -BeTrue
        Remove-VzVmDisk vm1 $d.DiskId -Confirm:$false
        Wait-Until { (Get-GuestDevices vm1) -notcontains $new[0] } | Should -BeTrue
        (Get-VzVm vm1).Disks.DiskId | Should -Not -Contain $d.DiskId
        Test-Path $d.Path | Should -BeFalse
    }

    It 'pauses and resumes the vCPUs' {
        (Suspend-VzVm vm1 -PassThru).State | Should -Be 'Paused'
        (Resume-VzVm vm1 -PassThru).State | Should -Be 'Running'
        (Invoke-VzVmCommand vm1 true).ExitCode | Should -Be 0
    }

    It 'stops gracefully, and its run folder goes away' {
        $run = Join-Path $env:VZ_RUN_ROOT ($script:vm.Id.ToString('N').Substring(0, 12))
        $stopped = Stop-VzVm vm1 -Timeout 60 -PassThru
        $stopped.State | Should -Be 'Stopped'
        $stopped.StateReason | Should -BeNullOrEmpty
        Test-Path $run | Should -BeFalse
        Test-LiveProcess $script:vm.ProcessId | Should -BeFalse
    }

    It 'shows a VM whose QEMU was killed with -9 as stopped, with the reason, starts it again, and stops it by ACPI' {
        $running = Start-VzVm vm1 -PassThru
        & kill -9 $running.ProcessId
        Wait-Until { (Get-VzVm vm1).State -eq 'Stopped' } -Seconds 10 | Should -BeTrue
        (Get-VzVm vm1).StateReason | Should -Match 'exited unexpectedly'
        $again = Start-VzVm vm1 -Wait -Timeout 60 -PassThru
        $again.State | Should -Be 'Running'
        $again.ProcessId | Should -Not -Be $running.ProcessId
        (Invoke-VzVmCommand vm1 true).ExitCode | Should -Be 0
        # The ACPI power button, without the agent: the guest's acpid powers off.
        $off = Stop-VzVm vm1 -Acpi -Timeout 60 -PassThru
        $off.State | Should -Be 'Stopped'
        $off.StateReason | Should -BeNullOrEmpty
    }

    It 'makes a linked clone whose disk is an overlay on the source disk, and both boot' {
        $srcDisk = (Get-VzVm vm1).Disks[0].Path
        $clone = Copy-VzVm vm1 vm1clone -Linked
        $info = & qemu-img info -U --output=json $clone.Disks[0].Path | ConvertFrom-Json
        $info.'backing-filename' | Should -Be $srcDisk
        # The source now writes to an overlay of its own, so the shared base never changes under the clone.
        $srcNow = (Get-VzVm vm1).Disks[0]
        $srcNow.BackingFile | Should -Be $srcDisk
        Get-VzVm vm1, vm1clone | Start-VzVm -Wait -Timeout 90
        (Get-VzVm vm1, vm1clone).State | Should -Be @('Running', 'Running')
        (Invoke-VzVmCommand vm1clone cat /sys/class/net/eth0/address).StdOut.Trim() | Should -Be $clone.MacAddress.ToLowerInvariant()
        { Remove-VzVm vm1 -Force -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmHasLinkedClones,Virtuozzo.Commands.RemoveVzVmCommand'
    }

    It 'renames a running VM' {
        $r = Rename-VzVm vm1clone vm1renamed -PassThru
        $r.State | Should -Be 'Running'
        (Invoke-VzVmCommand vm1renamed true).ExitCode | Should -Be 0
    }

    It 'removes VMs leaving no process, socket, cgroup or file' {
        $all = Get-VzVm
        Remove-VzVm vm1renamed -Force -Confirm:$false   # the linked clone first: the source's disk backs it
        Remove-VzVm vm1 -Force -Confirm:$false
        Get-VzVm | Should -BeNullOrEmpty
        foreach ($v in $all) {
            Test-Path $v.Directory | Should -BeFalse
            Test-Path (Join-Path $env:VZ_RUN_ROOT ($v.Id.ToString('N').Substring(0, 12))) | Should -BeFalse
            if ($v.ProcessId) { Test-LiveProcess $v.ProcessId | Should -BeFalse }
        }
        foreach ($v in $all) {
            @(Get-ChildItem /sys/fs/cgroup -Directory | ForEach-Object { Join-Path $_.FullName "$env:VZ_CGROUP_PARENT/vm-$($v.Id.ToString('N'))" } | Where-Object { Test-Path $_ }) |
                Should -BeNullOrEmpty
        }
    }
}

Describe 'Memory hotplug and suspend to disk' -Tag Integration, Slow, Vms {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name vmmem
        $script:vm = New-VzVm mem1 -MemorySize 1GB -MemHotplug -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments |
            Start-VzVm -Wait -Timeout 60 -PassThru
        function script:Get-GuestMemKb { [long](((Invoke-VzVmCommand mem1 cat /proc/meminfo).StdOut -split "`n" | Where-Object { $_ -like 'MemTotal:*' }) -replace '\D', '') }
    }
    AfterAll {
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'grows the memory of a running VM by hot-adding a DIMM the guest onlines' {
        $before = Get-GuestMemKb
        $r = Set-VzVm mem1 -MemorySize 1280MB -PassThru -WarningVariable warn
        $warn | Should -BeNullOrEmpty
        $r.MemorySize | Should -Be 1280MB
        $r.PendingChanges | Should -BeNullOrEmpty
        Wait-Until { (Get-GuestMemKb) -ge $before + 250MB / 1KB } | Should -BeTrue
    }

    It 'grows balloon first: the balloon deflates to all plugged RAM before a DIMM goes in, and the guest sees it' {
        $events = Join-Path $env:VZ_RUN_ROOT 'hostservice/events.jsonl'
        $before = Get-GuestMemKb
        $r = Set-VzVm mem1 -MemorySize 1792MB -PassThru
        $r.MemorySize | Should -Be 1792MB
        Wait-Until { (Get-GuestMemKb) -ge $before + 500MB / 1KB } -Seconds 10 | Should -BeTrue
        $steps = @(Get-Content $events | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object target -eq 'mem1' | Select-Object -Last 3)
        $steps.kind | Should -Be @('ResizeBalloonFirst', 'ResizeDimmAdded', 'ResizeBalloon')
        $steps[0].message | Should -Match 'of 1280 MiB plugged'
        $steps[1].message | Should -Match 'of 512 MiB added'
    }

    It 'shrinks a running VM through its balloon, unplugging nothing, and grows back without a new DIMM' {
        $dimms = @((Get-Content (Join-Path $script:vm.Directory 've.yaml')) -match '^\s+- id:').Count
        $r = Set-VzVm mem1 -MemorySize 1280MB -PassThru -WarningVariable warn
        $warn | Should -BeNullOrEmpty
        $r.MemorySize | Should -Be 1280MB
        $r.PendingChanges | Should -BeNullOrEmpty
        $kinds = @(Get-Content (Join-Path $env:VZ_RUN_ROOT 'hostservice/events.jsonl') | ForEach-Object { $_ | ConvertFrom-Json } | Select-Object -Last 1).kind
        $kinds | Should -Be 'ResizeBalloon'
        $null = Set-VzVm mem1 -MemorySize 1536MB -PassThru
        @((Get-Content (Join-Path $script:vm.Directory 've.yaml')) -match '^\s+- id:').Count | Should -Be $dimms
    }

    It 'survives 20 grow/shrink cycles through the balloon with no new DIMM and no change in the guest''s RAM' {
        $yaml = Join-Path $script:vm.Directory 've.yaml'
        $dimms = @((Get-Content $yaml) -match '^\s+- id:').Count
        $memKb = Get-GuestMemKb
        foreach ($i in 1..20) {
            (Set-VzVm mem1 -MemorySize 1280MB -PassThru).MemorySize | Should -Be 1280MB
            (Set-VzVm mem1 -MemorySize 1792MB -PassThru).MemorySize | Should -Be 1792MB
        }
        @((Get-Content $yaml) -match '^\s+- id:').Count | Should -Be $dimms
        Get-GuestMemKb | Should -Be $memKb
        (Get-VzVm mem1).PendingChanges | Should -BeNullOrEmpty
        # No stray memory objects: QEMU's own list (query-memory-devices) holds exactly the DIMMs the config records.
        $engine = [Virtuozzo.Engine.VzEngine]::new([Virtuozzo.Engine.Configuration.VzPaths]::Resolve($null), $null)
        $devices = @($engine.Vms.QueryMemoryDevicesAsync($script:vm.Id, [Threading.CancellationToken]::None).GetAwaiter().GetResult())
        $recorded = @($engine.Store.TryGet($script:vm.Id).Config.Vm.Dimms)
        $recorded.Count | Should -BeGreaterThan 0 -Because 'the earlier tests hot-added a DIMM'
        $devices.Count | Should -Be $recorded.Count
        @($devices.Id | Sort-Object) | Should -Be @($recorded | ForEach-Object { [Virtuozzo.Engine.Qemu.CommandLine.QemuCommandLine]::DimmDeviceId($_.Id) } | Sort-Object)
        ($devices | Measure-Object Size -Sum).Sum | Should -Be ($recorded | Measure-Object Size -Sum).Sum
        $null = Set-VzVm mem1 -MemorySize 1536MB
    }

    It 'refuses a size above the hotplug maximum, naming it, and changes nothing' {
        $max = [long]((Get-Content (Join-Path $script:vm.Directory 've.yaml') | Where-Object { $_ -match '^\s+maxMemorySize:' }) -replace '\D', '')
        $err = $null
        try { Set-VzVm mem1 -MemorySize ($max + 1GB) -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzMemoryAboveHotplugMax,Virtuozzo.Commands.SetVzVmCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match "at most $($max / 1MB) MB"
        (Get-VzVm mem1).MemorySize | Should -Be 1536MB
    }

    It 'refuses a live shrink below the running guarantee, naming it, and changes nothing' {
        $guaranteed = [long](1536MB * (Get-VzVm mem1).MemGuaranteePercent / 100)
        $err = $null
        try { Set-VzVm mem1 -MemorySize 256MB -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzMemoryBelowGuarantee,Virtuozzo.Commands.SetVzVmCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match "$([math]::Floor($guaranteed / 1MB)) MB guaranteed"
        (Get-VzVm mem1).MemorySize | Should -Be 1536MB
    }

    It 'saves the state to disk, ends QEMU, and resumes where the guest was' {
        $null = Invoke-VzVmCommand mem1 sh -ArgumentList '-c', 'echo still-here > /tmp/marker'
        $mem = Get-GuestMemKb
        $saved = Suspend-VzVm mem1 -SaveState -PassThru
        $saved.State | Should -Be 'Saved'
        $saved.ProcessId | Should -BeNullOrEmpty
        Test-LiveProcess $script:vm.ProcessId | Should -BeFalse
        Test-Path (Join-Path $saved.Directory 'memory.sav') | Should -BeTrue
        $back = Resume-VzVm mem1 -PassThru
        $back.State | Should -Be 'Running'
        (Invoke-VzVmCommand mem1 cat /tmp/marker).StdOut.Trim() | Should -Be 'still-here' -Because '/tmp is a tmpfs: only restored memory keeps it'
        Get-GuestMemKb | Should -Be $mem
        Test-Path (Join-Path $saved.Directory 'memory.sav') | Should -BeFalse
    }
}

Describe 'An EFI VM' -Tag Integration, Slow, Vms {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name vmefi
    }
    AfterAll {
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'boots the test guest with OVMF and a per-VM copy of the variable store' {
        $vm = New-VzVm efi1 -Firmware Efi -MemorySize 512MB -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments
        $vars = Join-Path $vm.Directory 'efivars.fd'
        Test-Path $vars | Should -BeTrue
        (Get-Item $vars).Length | Should -Be (Get-Item /usr/share/OVMF/OVMF_VARS_4M.fd).Length
        $vm = $vm | Start-VzVm -Wait -Timeout 90 -PassThru
        ((Get-Content "/proc/$($vm.ProcessId)/cmdline" -Raw) -replace "`0", ' ') | Should -Match 'OVMF_CODE'
        (Invoke-VzVmCommand efi1 sh -ArgumentList '-c', 'test -d /sys/firmware/efi && echo efi').StdOut.Trim() | Should -Be 'efi'
        Stop-VzVm efi1 -Kill
    }
}

Describe 'VMs that boot no guest: agent timeout and bridge plumbing' -Tag Integration, Vms {
    BeforeAll { $script:scope = New-VzTestScope -Name vmnoagent }
    AfterAll {
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'fails Invoke-VzVmCommand -Timeout 5 with OperationTimeout after about 5 s' {
        # An empty disk: the firmware finds nothing to boot, so nothing in the guest ever opens the agent channel.
        New-VzVm noagent -MemorySize 64MB -DiskSize 1MB | Start-VzVm
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $err = $null
        try { Invoke-VzVmCommand noagent uname -Timeout 5 -ErrorAction Stop } catch { $err = $_ }
        $watch.Stop()
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Be 'VzGuestAgentNotResponding,Virtuozzo.Commands.InvokeVzVmCommandCommand'
        $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
        $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 4.5 -Because 'the timeout is honoured, not cut short'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 30 -Because 'the call is bounded by -Timeout, not stuck'
        (Get-VzVm noagent -GuestTools).GuestToolsState | Should -Be 'NotResponding'
        Stop-VzVm noagent -Kill
    }

    It 'puts a bridged VM''s tap device into the bridge, and QEMU removes it at stop' {
        $br = 'vzvmbr' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        & ip link add $br type bridge
        try {
            { New-VzVm nobridge -MemorySize 64MB -Network 'nosuchbr0' -ErrorAction Stop } | Should -Throw -ErrorId 'VzBridgeNotFound,Virtuozzo.Commands.NewVzVmCommand'
            $vm = New-VzVm bridged -MemorySize 64MB -DiskSize 1MB -Network $br | Start-VzVm -PassThru
            $tap = 'vzt' + $vm.Id.ToString('N').Substring(0, 12)
            (Split-Path -Leaf (Get-Item "/sys/class/net/$tap/master").Target) | Should -Be $br
            Stop-VzVm bridged -Kill
            Test-Path "/sys/class/net/$tap" | Should -BeFalse
        }
        finally { & ip link delete $br 2>$null }
    }
}
