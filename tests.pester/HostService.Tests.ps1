# The host service: one instance per data root, its cmdlets, OnBoot order and delay, the watch (a VE that died is
# noticed with its reason), AutoStop, the guest tools cache and the memory manager on a real TCG guest.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:ServiceDll = Join-Path (Split-Path (Get-Module Virtuozzo).Path) 'hostservice/Virtuozzo.HostService.dll'

    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 30) {
        $end = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $end) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 100 }
        return [bool](& $Condition)
    }
    function script:Get-ServiceEvents {
        $file = Join-Path $env:VZ_RUN_ROOT 'hostservice/events.jsonl'
        if (Test-Path $file) { Get-Content $file | ForEach-Object { $_ | ConvertFrom-Json } }
    }
    # The service outlives a failed test otherwise: stop it, and kill it if it does not stop.
    function script:Stop-TestService {
        $s = Get-VzHostService
        if ($s.Running) {
            try { Stop-VzHostService -Timeout 120 -Confirm:$false } catch { if ($s.ProcessId) { kill -9 $s.ProcessId 2>$null } }
        }
    }
}

Describe 'Host service lifecycle' -Tag Integration, HostService {
    BeforeAll { $script:scope = New-VzTestScope -Name hostsvc }
    AfterAll {
        Stop-TestService
        Remove-VzTestScope $script:scope
    }

    It 'is not running before it is started' {
        $s = Get-VzHostService
        $s.Running | Should -BeFalse
        $s.Phase | Should -Be 'Stopped'
        $s.DataRoot | Should -Be $env:VZ_ROOT
    }

    It 'starts in the background, writes its pid and loops about once a second' {
        $s = Start-VzHostService -Background -PassThru -Confirm:$false
        $s.Running | Should -BeTrue
        $s.ProcessId | Should -BeGreaterThan 0
        (Get-Content "/proc/$($s.ProcessId)/cmdline" -Raw) -replace "`0", ' ' | Should -Match 'Virtuozzo.HostService.dll'
        Wait-Until { (Get-VzHostService).LoopCount -ge 3 } -Seconds 20 | Should -BeTrue
        $a = Get-VzHostService
        Start-Sleep -Seconds 2
        $b = Get-VzHostService
        $b.LastLoopAt | Should -BeGreaterThan $a.LastLoopAt
        $b.Phase | Should -Be 'Running'
        $b.Uptime | Should -BeGreaterThan ([TimeSpan]::Zero)
    }

    It 'refuses a second instance for the same data root, naming the pid of the first' {
        $first = (Get-VzHostService).ProcessId
        { Start-VzHostService -Background -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzHostServiceRunning,Virtuozzo.Commands.StartVzHostServiceCommand'
        $err = $null
        try { Start-VzHostService -Background -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.Exception.Message | Should -Match "pid $first"
        # The executable itself, started by hand, refuses too (exit code 3) and changes nothing.
        $out = & dotnet $script:ServiceDll 2>&1
        $LASTEXITCODE | Should -Be 3
        "$out" | Should -Match "pid $first"
        (Get-VzHostService).ProcessId | Should -Be $first
    }

    It 'shows as not running at once when killed with -9, and starts again cleanly' {
        $pid1 = (Get-VzHostService).ProcessId
        kill -9 $pid1
        Wait-Until { -not (Get-VzHostService).Running } -Seconds 5 | Should -BeTrue
        $s = Start-VzHostService -Background -PassThru -Confirm:$false
        $s.Running | Should -BeTrue
        $s.ProcessId | Should -Not -Be $pid1
    }

    It 'keeps looping past a corrupt ve.yaml and records it once' {
        $dir = Join-Path $env:VZ_ROOT "private/$([guid]::NewGuid())"
        $null = New-Item -ItemType Directory -Path $dir
        Set-Content (Join-Path $dir 've.yaml') "name: [broken`n  : :"
        $loops = (Get-VzHostService).LoopCount
        Wait-Until { @(Get-ServiceEvents | Where-Object kind -eq 'VeConfigCorrupt').Count -ge 1 } -Seconds 10 | Should -BeTrue
        Wait-Until { (Get-VzHostService).LoopCount -ge $loops + 3 } -Seconds 10 | Should -BeTrue
        @(Get-ServiceEvents | Where-Object kind -eq 'VeConfigCorrupt').Count | Should -Be 1
        Remove-Item $dir -Recurse -Force
    }

    It 'stops on Stop-VzHostService and says so' {
        $pid2 = (Get-VzHostService).ProcessId
        $s = Stop-VzHostService -PassThru -Confirm:$false
        $s.Running | Should -BeFalse
        # Gone or a zombie: PID 1 on this host reaps the detached service late.
        $stat = Get-Content "/proc/$pid2/stat" -ErrorAction SilentlyContinue
        ([bool]$stat -and ($stat -replace '^.*\) (\S).*$', '$1') -notin 'Z', 'X') | Should -BeFalse
        # Stopping again is no error.
        { Stop-VzHostService -Confirm:$false -ErrorAction Stop } | Should -Not -Throw
    }

    It 'writes a systemd unit for this data root and, without systemd, says how to start the service' {
        $path = Join-Path $script:scope.Base 'vz-hostservice.service'
        $unit = Install-VzHostService -Path $path -Confirm:$false -WarningVariable warn -WarningAction SilentlyContinue
        $unit.Path | Should -Be $path
        $unit.Enabled | Should -BeFalse
        $unit.SystemdRunning | Should -Be (Test-Path /run/systemd/system)
        "$warn" | Should -Match 'Start-VzHostService -Background|systemctl enable'
        $text = Get-Content $path -Raw
        $text | Should -Be $unit.Content
        $text | Should -Match '(?m)^Type=notify$'
        $text | Should -Match ("(?m)^ExecStart=\S*dotnet " + [regex]::Escape($script:ServiceDll) + '$')
        $text | Should -Match ("(?m)^Environment=VZ_ROOT=" + [regex]::Escape($env:VZ_ROOT) + '$')
        $text | Should -Match ("(?m)^Environment=VZ_RUN_ROOT=" + [regex]::Escape($env:VZ_RUN_ROOT) + '$')
        $text | Should -Match ("(?m)^Environment=VZ_CGROUP_PARENT=" + [regex]::Escape($env:VZ_CGROUP_PARENT) + '$')
        $text | Should -Match '(?m)^KillMode=process$'
        $text | Should -Match '(?m)^WantedBy=multi-user.target$'
    }

    It 'refuses a unit file name that is not a .service' {
        { Install-VzHostService -Path (Join-Path $script:scope.Base 'x.conf') -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzInvalidUnitPath,Virtuozzo.Commands.InstallVzHostServiceCommand'
    }

    It 'refuses a balloon policy value out of range, naming the limit, and changes nothing' {
        Set-VzHost -BalloonBufferPercent 25 -Confirm:$false
        $err = $null
        try { Set-VzHost -BalloonBufferPercent 500 -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzInvalidBalloonSetting,Virtuozzo.Commands.SetVzHostCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match '5-200'
        Get-Content $env:VZ_HOST_CONFIG -Raw | Should -Match 'bufferPercent: 25'
    }
}

Describe 'OnBoot, the watch and AutoStop with containers' -Tag Integration, Slow, HostService {
    BeforeAll {
        $script:scope = New-VzTestScope -Name hostsvcct
        $script:a = New-VzContainer bootA -MemorySize 64MB | Set-VzContainer -OnBoot $true -BootOrder 2 -BootDelay 3 -AutoStop Stop -PassThru
        $script:b = New-VzContainer bootB -MemorySize 64MB | Set-VzContainer -OnBoot $true -BootOrder 1 -PassThru
        $null = New-VzContainer notOnBoot -MemorySize 64MB
    }
    AfterAll {
        Stop-TestService
        Get-VzContainer | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'stores the boot settings and shows them' {
        $script:a.BootOrder | Should -Be 2
        $script:a.BootDelay | Should -Be 3
        $script:a.AutoStop | Should -Be 'Stop'
        $script:b.BootOrder | Should -Be 1
        $script:b.AutoStop | Should -Be 'None'
    }

    It 'starts the OnBoot containers when the service starts, in BootOrder, after each BootDelay' {
        $null = Start-VzHostService -Background -Timeout 120 -Confirm:$false
        Wait-Until { (Get-VzContainer bootA).State -eq 'Running' -and (Get-VzContainer bootB).State -eq 'Running' } -Seconds 60 | Should -BeTrue
        (Get-VzContainer notOnBoot).State | Should -Be 'Stopped'
        $started = @(Get-ServiceEvents | Where-Object kind -eq 'VeStarted')
        $started.target | Should -Be @('bootB', 'bootA')
        ([datetimeoffset]$started[1].time - [datetimeoffset]$started[0].time).TotalSeconds | Should -BeGreaterOrEqual 3
    }

    It 'notices a container whose init was killed, within 2 s, with the reason' {
        $init = (Get-VzContainer bootB).InitPid
        $init | Should -BeGreaterThan 0
        $killedAt = Get-Date
        kill -9 $init
        Wait-Until { @(Get-ServiceEvents | Where-Object { $_.kind -eq 'VeDied' -and $_.target -eq 'bootB' }).Count -ge 1 } -Seconds 10 | Should -BeTrue
        $died = Get-ServiceEvents | Where-Object { $_.kind -eq 'VeDied' -and $_.target -eq 'bootB' } | Select-Object -First 1
        ([datetimeoffset]$died.time - [datetimeoffset]$killedAt).TotalSeconds | Should -BeLessThan 2.5
        $died.message | Should -Match 'crashed or was killed'
        (Get-VzContainer bootB).State | Should -Be 'Stopped'
    }

    It 'stops the containers whose AutoStop says so when it stops, and leaves the others' {
        Start-VzContainer notOnBoot
        Stop-VzHostService -Timeout 120 -Confirm:$false
        (Get-VzContainer bootA).State | Should -Be 'Stopped'
        (Get-VzContainer notOnBoot).State | Should -Be 'Running'
        @(Get-ServiceEvents | Where-Object { $_.kind -eq 'VeStopped' -and $_.target -eq 'bootA' }).Count | Should -Be 1
    }
}

Describe 'A VM under the host service (TCG test guest)' -Tag Integration, Slow, HostService, Vms {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name hostsvcvm
        $script:vm = New-VzVm svc1 -MemorySize 512MB -CpuCount 1 -Network User `
            -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments |
            Start-VzVm -Wait -Timeout 120 -PassThru
        $script:guarantee = 512MB * 40 / 100
        $null = Start-VzHostService -Background -Confirm:$false
        # A 1 s sampler in this test's process: the balloon must never be seen below the guarantee.
        $script:samples = [Collections.Generic.List[long]]::new()
        function script:Sample { $a = (Get-VzVm svc1).MemoryActual; if ($null -ne $a) { $script:samples.Add($a) }; $a }
    }
    AfterAll {
        Stop-TestService
        Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'shows guest tools state, addresses and live memory at once, from the service cache' {
        Wait-Until { (Get-VzVm svc1).GuestToolsState -eq 'Responding' } -Seconds 60 | Should -BeTrue
        $v = Get-VzVm svc1
        $v.IpAddresses | Should -Contain '198.18.0.15/24'
        $v.GuestInfoAge | Should -BeLessThan ([TimeSpan]::FromSeconds(30))
        $v.MemoryActual | Should -BeGreaterThan 0
        $v.MemoryActual | Should -BeLessOrEqual 512MB
    }

    It 'gives an idle VM''s memory back down to its guarantee, never below it' {
        Wait-Until { $a = Sample; $null -ne $a -and $a -le $script:guarantee + 1MB } -Seconds 120 | Should -BeTrue
        $plan = Get-VzMemoryPlan svc1
        $plan.BalloonActual | Should -BeLessOrEqual ($script:guarantee + 1MB)
        $plan.GivenBack | Should -BeGreaterThan 200MB
        $plan.WorkingSet | Should -BeGreaterThan 0
        $plan.LastDecisionReason | Should -Not -BeNullOrEmpty
        (Get-ServiceEvents | Where-Object kind -eq 'BalloonTarget').message | Should -Match 'Reclaim'
        foreach ($i in 1..5) { $null = Sample; Start-Sleep -Seconds 1 }
        $script:samples | Where-Object { $_ -lt $script:guarantee - 1MB } | Should -BeNullOrEmpty
    }

    It 'deflates a guest that runs short, and the guest OOM-kills nothing' {
        $oom = { [long](((Invoke-VzVmCommand svc1 sh -ArgumentList '-c', 'grep oom_kill /proc/vmstat').StdOut -split ' ')[1]) }
        $before = & $oom
        $r = Invoke-VzVmCommand svc1 sh -ArgumentList '-c', 'mkdir -p /mnt/hog && mount -t tmpfs -o size=400m none /mnt/hog && dd if=/dev/zero of=/mnt/hog/x bs=1M count=250 2>&1 | tail -1' -Timeout 120
        $r.ExitCode | Should -Be 0
        Wait-Until { $a = Sample; $a -ge $script:guarantee + 128MB } -Seconds 30 | Should -BeTrue
        & $oom | Should -Be $before
        $null = Invoke-VzVmCommand svc1 sh -ArgumentList '-c', 'rm -f /mnt/hog/x; umount /mnt/hog'
        $script:samples | Where-Object { $_ -lt $script:guarantee - 1MB } | Should -BeNullOrEmpty
    }

    It 'returns all memory to a VM that opts out with Set-VzVm -AutoBalloon $false' {
        Set-VzVm svc1 -AutoBalloon $false -Confirm:$false
        (Get-VzVm svc1).AutoBalloon | Should -BeFalse
        # Within the 30 s rate limit of the last command, plus a pass.
        # The balloon may already be full after the burst: wait for the manager to have read the opt-out too.
        Wait-Until { (Sample) -ge 512MB - 1MB -and (Get-VzMemoryPlan svc1).LastDecisionReason -eq 'OptedOut' } -Seconds 90 | Should -BeTrue
    }

    It 'records a VM whose QEMU was killed as Stopped with the reason, within 2 s' {
        $qemu = (Get-VzVm svc1).ProcessId
        $killedAt = [datetimeoffset]::UtcNow
        kill -9 $qemu
        Wait-Until { (Get-VzVm svc1).State -eq 'Stopped' } -Seconds 5 | Should -BeTrue
        (Get-VzVm svc1).StateReason | Should -Match 'exited unexpectedly'
        Wait-Until { @(Get-ServiceEvents | Where-Object { $_.kind -eq 'VeDied' -and $_.target -eq 'svc1' }).Count -ge 1 } -Seconds 10 | Should -BeTrue
        $died = Get-ServiceEvents | Where-Object { $_.kind -eq 'VeDied' -and $_.target -eq 'svc1' } | Select-Object -First 1
        ([datetimeoffset]$died.time - $killedAt).TotalSeconds | Should -BeLessThan 2.5
        (Get-VzHostService).Running | Should -BeTrue
    }
}

Describe 'KSM under -Policy Auto' -Tag Integration, HostService {
    BeforeAll {
        $script:scope = New-VzTestScope -Name hostsvcksm
        $script:ksm = '/sys/kernel/mm/ksm'
        $script:ksmLock = Enter-VzHostWideLock ksm
        # Host-wide settings: saved here and put back in AfterAll, whatever the test did.
        $script:saved = @{}
        foreach ($f in 'run', 'pages_to_scan', 'sleep_millisecs', 'advisor_max_cpu') { if (Test-Path "$script:ksm/$f") { $script:saved[$f] = (Get-Content "$script:ksm/$f").Trim() } }
        $script:advisor = if (Test-Path "$script:ksm/advisor_mode") { (Get-Content "$script:ksm/advisor_mode") -replace '^.*\[(.+)\].*$', '$1' }
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        function script:Get-MergedPages([int[]] $Pids) { ($Pids | ForEach-Object { [long](Get-Content "/proc/$_/ksm_merging_pages" -ErrorAction SilentlyContinue) } | Measure-Object -Sum).Sum }
    }
    AfterAll {
        # Runs whether the tests passed or failed: the VEs and the service go first, then the host's KSM is put back.
        Stop-TestService
        Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        foreach ($f in 'advisor_max_cpu', 'pages_to_scan', 'sleep_millisecs', 'run') { if ($script:saved.Contains($f)) { Set-Content "$script:ksm/$f" $script:saved[$f] -ErrorAction SilentlyContinue } }
        if ($script:advisor) { Set-Content "$script:ksm/advisor_mode" $script:advisor -ErrorAction SilentlyContinue }
        Exit-VzHostWideLock $script:ksmLock
        foreach ($f in $script:saved.Keys) { (Get-Content "$script:ksm/$f").Trim() | Should -Be $script:saved[$f] -Because "host-wide KSM setting $f must be restored" }
        Remove-VzTestScope $script:scope
    }

    It 'stores the policy in the host settings and shows it' {
        Set-VzKsm -Policy Auto -Confirm:$false
        (Get-VzKsm).Policy | Should -Be 'Auto'
        Get-Content $env:VZ_HOST_CONFIG -Raw | Should -Match 'ksmPolicy: Auto'
    }

    It 'stops ksmd while no mergeable VE runs, and says so' {
        Set-Content "$script:ksm/run" 1
        $null = Start-VzHostService -Background -Confirm:$false
        # The event is written just after the kernel setting: wait for both.
        Wait-Until { @(Get-ServiceEvents | Where-Object kind -eq 'KsmPolicy').Count -ge 1 } -Seconds 20 | Should -BeTrue
        (Get-Content "$script:ksm/run").Trim() | Should -Be '0'
        (Get-ServiceEvents | Where-Object kind -eq 'KsmPolicy').message | Should -Match 'run=0.*no running VE'
        if ($script:advisor) { (Get-VzKsm).AdvisorMode | Should -Be 'scan-time' }
    }

    It 'merges two identical guests with MemMerge within 90 s, and stops ksmd when they stop' {
        if (-not $script:advisor) { Set-ItResult -Skipped -Because 'without the KSM advisor Auto follows ksmtuned, which keeps ksmd off on an uncommitted host' }
        $vms = foreach ($n in 'ksm1', 'ksm2') {
            New-VzVm $n -MemorySize 256MB -CpuCount 1 -Network None -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments
        }
        $vms | ForEach-Object { $_.MemMerge | Should -BeTrue -Because 'MemMerge is on by default' }
        if (-not (Get-VzHostService).Running) { $null = Start-VzHostService -Background -Confirm:$false }
        $vms | Start-VzVm -Wait -Timeout 180
        $pids = @('ksm1', 'ksm2' | ForEach-Object { (Get-VzVm $_).ProcessId })
        $before = Get-MergedPages $pids
        $started = Get-Date
        Wait-Until { (Get-Content "$script:ksm/run").Trim() -eq '1' } -Seconds 20 | Should -BeTrue -Because 'a mergeable VM started: the policy acts at once, not at its next minute'
        (Get-ServiceEvents | Where-Object kind -eq 'KsmPolicy' | Select-Object -Last 1).message | Should -Match 'run=1.*advisor'
        (Get-Content "$script:ksm/advisor_max_cpu").Trim() | Should -Be '15'
        Wait-Until { (Get-MergedPages $pids) -gt $before } -Seconds 90 | Should -BeTrue
        ((Get-Date) - $started).TotalSeconds | Should -BeLessThan 95
        Stop-VzVm -Name 'ksm1', 'ksm2' -Kill
        Wait-Until { (Get-Content "$script:ksm/run").Trim() -eq '0' } -Seconds 20 | Should -BeTrue
        (Get-ServiceEvents | Where-Object kind -eq 'KsmPolicy' | Select-Object -Last 1).message | Should -Match 'run=0.*no running VE'
    }
}

Describe 'Per-container KSM merging (Set-VzContainer -MemMerge)' -Tag Integration, HostService, Containers {
    BeforeAll { $script:scope = New-VzTestScope -Name ctmerge }
    AfterAll {
        Get-VzContainer | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'is off by default, and marks the init of a container started with it mergeable (inherited across exec)' {
        $plain = New-VzContainer merge0 -MemorySize 64MB
        $plain.MemMerge | Should -BeFalse
        $ct = New-VzContainer merge1 -MemorySize 64MB | Set-VzContainer -MemMerge $true -PassThru
        $ct.MemMerge | Should -BeTrue
        Get-Content (Join-Path $env:VZ_ROOT "private/$($ct.Id)/ve.yaml") -Raw | Should -Match 'memMerge: true'
        Start-VzContainer -Name 'merge0', 'merge1'
        $stat = Get-Content "/proc/$((Get-VzContainer merge1).InitPid)/ksm_stat" -Raw
        $stat | Should -Match 'ksm_merge_any: yes'
        Get-Content "/proc/$((Get-VzContainer merge0).InitPid)/ksm_stat" -Raw | Should -Match 'ksm_merge_any: no'
        # Only the container: the engine's own process never sets the flag.
        Get-Content "/proc/$PID/ksm_stat" -Raw | Should -Match 'ksm_merge_any: no'
    }

    It 'warns that the change applies at the next start, and switches off again' {
        $r = Set-VzContainer merge1 -MemMerge $false -PassThru -WarningVariable warn -WarningAction SilentlyContinue
        "$warn" | Should -Match 'next start'
        $r.MemMerge | Should -BeFalse
        Restart-VzContainer merge1
        Get-Content "/proc/$((Get-VzContainer merge1).InitPid)/ksm_stat" -Raw | Should -Match 'ksm_merge_any: no'
    }
}
