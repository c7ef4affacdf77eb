#Requires -Modules Pester
<#
  Usage figures and metrics (issue 18): Measure-VzContainer and Measure-VzVm against real cgroups, veths and a TCG
  guest's QMP block statistics; the host service's Prometheus endpoint scraped by a real Prometheus (Debian's
  package) started here on loopback with its own config and data folder. Addresses: 198.19.80.0/24 only.
  The machine is shared: figures are compared with the cgroup's own counters, never against wall-clock targets
  (those are in bench/Metrics.Bench.ps1 and docs/BENCHMARKS.md).
#>
BeforeDiscovery {
    $script:IsRoot = (id -u) -eq '0'
    $script:HasPrometheus = [bool](Get-Command prometheus -ErrorAction SilentlyContinue) -and [bool](Get-Command promtool -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }

    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $end = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $end) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 250 }
        return [bool](& $Condition)
    }
    # A port nothing listens on now (the kernel picks it), for the endpoint and for Prometheus.
    function script:Get-FreePort {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
        $port
    }
    # The container's CPU time as its cgroup counts it (cpuacct on v1, cpu.stat on v2), independent of the module.
    function script:Get-CgroupCpuSeconds($Container) {
        $rel = "$env:VZ_CGROUP_PARENT/ct-$($Container.Id.ToString('N'))"
        if (Test-Path "/sys/fs/cgroup/cpuacct/$rel/cpuacct.usage") { return [long](Get-Content "/sys/fs/cgroup/cpuacct/$rel/cpuacct.usage") / 1e9 }
        $line = Get-Content "/sys/fs/cgroup/$rel/cpu.stat" | Where-Object { $_ -like 'usage_usec *' }
        [long]($line -split ' ')[1] / 1e6
    }
    function script:Start-BusyLoop([string] $Name) {
        $null = Invoke-VzContainerCommand $Name -Shell 'nohup sh -c "while :; do :; done" >/dev/null 2>&1 &'
    }
    function script:Stop-TestService {
        $s = Get-VzHostService
        if ($s.Running) {
            try { Stop-VzHostService -Timeout 120 -Confirm:$false } catch { if ($s.ProcessId) { kill -9 $s.ProcessId 2>$null } }
        }
    }
}

Describe 'Measure cmdlets and metrics settings: bad input' -Tag Unit, Metrics {
    BeforeAll { $script:scope = New-VzTestScope -Name metricsunit }
    AfterAll { Remove-VzTestScope $script:scope }

    It 'refuses an interval of <Interval> s with VzInvalidInterval (InvalidArgument) before reading anything' -ForEach @(@{ Interval = 0 }, @{ Interval = -1 }) {
        foreach ($cmd in 'Measure-VzContainer', 'Measure-VzVm') {
            $err = $null
            try { & $cmd -Name nosuch -Interval $Interval -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be "VzInvalidInterval,Virtuozzo.Commands.$($cmd -replace '-', '')Command"
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.ErrorDetails.RecommendedAction | Should -Match '-Interval 1'
        }
    }

    It 'names a container or VM that does not exist (ObjectNotFound)' {
        { Measure-VzContainer nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'VzContainerNotFound,Virtuozzo.Commands.MeasureVzContainerCommand'
        { Measure-VzVm nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmNotFound,Virtuozzo.Commands.MeasureVzVmCommand'
        Measure-VzContainer 'nosuch*' | Should -BeNullOrEmpty
    }

    It 'refuses an address other hosts reach without -AllowRemoteMetrics, and saves nothing' {
        $err = $null
        try { Set-VzHost -MetricsEnabled $true -MetricsAddress 0.0.0.0:19784 -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzMetricsAddressNotLocal,Virtuozzo.Commands.SetVzHostCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.ErrorDetails.RecommendedAction | Should -Match 'AllowRemoteMetrics'
        Test-Path $env:VZ_HOST_CONFIG | Should -BeFalse
    }

    It 'refuses a malformed address (InvalidArgument)' {
        { Set-VzHost -MetricsAddress 'localhost' -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidMetricsAddress,Virtuozzo.Commands.SetVzHostCommand'
    }

    It 'refuses an address another program listens on (ResourceUnavailable), and keeps the setting it had' {
        $port = Get-FreePort
        Set-VzHost -MetricsEnabled $true -MetricsAddress "127.0.0.1:$port" -Confirm:$false
        $busy = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $busy.Start()
        try {
            $err = $null
            try { Set-VzHost -MetricsAddress "127.0.0.1:$($busy.LocalEndpoint.Port)" -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzMetricsAddressInUse,Virtuozzo.Commands.SetVzHostCommand'
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.TargetObject | Should -Be "127.0.0.1:$($busy.LocalEndpoint.Port)"
        }
        finally { $busy.Stop() }
        Get-Content $env:VZ_HOST_CONFIG -Raw | Should -Match "address: 127.0.0.1:$port"
        # Off, an address in use is no error: nothing would listen on it.
        Set-VzHost -MetricsEnabled $false -Confirm:$false
        Get-Content $env:VZ_HOST_CONFIG -Raw | Should -Match 'enabled: false'
    }

    It 'accepts a remote address with the explicit switch' {
        Set-VzHost -MetricsEnabled $false -MetricsAddress 0.0.0.0:19785 -AllowRemoteMetrics -Confirm:$false
        $text = Get-Content $env:VZ_HOST_CONFIG -Raw
        $text | Should -Match 'address: 0.0.0.0:19785'
        $text | Should -Match 'allowRemote: true'
    }
}

Describe 'Measure-VzContainer on real containers' -Tag Integration, Metrics -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:scope = New-VzTestScope -Name metricsct
        # A bridge of this run with the host's address in the metrics subnet: the ping flood stays on it.
        $script:Bridge = Get-VzTestLinkName 80
        & ip link add name $script:Bridge type bridge
        & ip addr add 198.19.80.1/24 dev $script:Bridge
        & ip link set $script:Bridge up
        $script:busy = New-VzContainer mtbusy -Template busybox -MemorySize 64MB | Start-VzContainer -PassThru
        $script:idle = New-VzContainer mtidle -Template busybox -MemorySize 64MB -IpAddress 198.19.80.3/24 -Bridge $script:Bridge | Start-VzContainer -PassThru
        $null = New-VzContainer mtoff -Template busybox -MemorySize 64MB
        Start-BusyLoop mtbusy
    }
    AfterAll {
        Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
        Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        & ip link del $script:Bridge 2>$null
        Remove-VzTestScope $script:scope
    }

    It 'measures a busy loop as the CPU time its cgroup counted over the interval' {
        $before = Get-CgroupCpuSeconds $busy
        $u = Measure-VzContainer mtbusy -Interval 3
        $after = Get-CgroupCpuSeconds $busy
        $u.Name | Should -Be 'mtbusy'
        $u.Kind | Should -Be 'Container'
        $u.State | Should -Be 'Running'
        $u.Interval.TotalSeconds | Should -BeGreaterOrEqual 2.9
        # The cgroup's own delta, read just outside the measure, bounds what the measure saw (the host is shared,
        # so the loop's share is whatever the scheduler gave it; bench/Metrics.Bench.ps1 reports it).
        $u.CpuPercent | Should -BeGreaterThan 0
        $u.CpuPercent | Should -BeLessOrEqual ((($after - $before) / $u.Interval.TotalSeconds) * 100 + 1)
        $u.CpuTime.TotalSeconds | Should -BeGreaterThan 0
        $u.CpuTime.TotalSeconds | Should -BeLessOrEqual $after
        $u.CpuCapacityPercent | Should -Be ([Environment]::ProcessorCount * 100)
        $u.CpuPercentOfLimit | Should -BeGreaterOrEqual ($u.CpuPercent / [Environment]::ProcessorCount - 0.1)
        $u.MemorySize | Should -Be 64MB
        $u.MemoryResident | Should -BeGreaterThan 0
    }

    It 'holds a busy loop at its -CpuLimit 25 and says how much of the limit it used' {
        Set-VzContainer mtbusy -CpuLimit 25
        try {
            $u = Measure-VzContainer mtbusy -Interval 3
            $u.CpuCapacityPercent | Should -Be 25
            # The CFS quota caps the group at 25 ms per 100 ms: over 3 s no more than 25 % plus one period of slack.
            $u.CpuPercent | Should -BeLessOrEqual 30
            $u.CpuPercent | Should -BeGreaterThan 0
            [math]::Abs($u.CpuPercentOfLimit - $u.CpuPercent * 4) | Should -BeLessOrEqual 0.1
        }
        finally { Set-VzContainer mtbusy -CpuLimit 0 }
    }

    It 'counts a ping flood from the host in both packet counters of the container' {
        $before = Measure-VzContainer mtidle -Interval 0.2
        $ping = Start-Process ping -ArgumentList '-f', '-c', '400', '-w', '60', '198.19.80.3' -PassThru -RedirectStandardOutput "$($scope.Base)/ping.out"
        $during = Measure-VzContainer mtidle -Interval 1
        $ping.WaitForExit(90000) | Should -BeTrue
        $ping.ExitCode | Should -Be 0 -Because (Get-Content "$($scope.Base)/ping.out" -Raw)
        $after = Measure-VzContainer mtidle -Interval 0.2
        # Echo requests come in, replies go out: the veth's host end counts them the other way round.
        ($after.NetworkReceivePackets - $before.NetworkReceivePackets) | Should -BeGreaterOrEqual 400
        ($after.NetworkTransmitPackets - $before.NetworkTransmitPackets) | Should -BeGreaterOrEqual 390
        ($after.NetworkReceiveBytes - $before.NetworkReceiveBytes) | Should -BeGreaterOrEqual (400 * 84)
        $during.NetworkReceivePacketsPerSecond | Should -BeGreaterThan 0
        $during.NetworkTransmitPacketsPerSecond | Should -BeGreaterThan 0
    }

    It 'measures every running container for *, skips the stopped one, and errors for it by name' {
        $all = Measure-VzContainer * -Interval 0.5
        @($all.Name | Sort-Object) | Should -Be @('mtbusy', 'mtidle')
        $err = $null
        try { Measure-VzContainer mtoff -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzContainerNotRunning,Virtuozzo.Commands.MeasureVzContainerCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.TargetObject | Should -Be 'mtoff'
        (Get-VzContainer mtidle | Measure-VzContainer -Interval 0.5).Name | Should -Be 'mtidle'
    }

    It 'streams with -Continuous; a container that stops yields its last figures once and leaves, without errors' {
        $seen = [System.Collections.Generic.List[object]]::new()
        Measure-VzContainer mtbusy, mtidle -Interval 1 -Continuous -ErrorVariable errs | ForEach-Object {
            $seen.Add($_)
            if (@($seen | Where-Object Name -eq mtidle).Count -eq 2) { Stop-VzContainer mtidle -Kill }
            $_
        } | Where-Object { $_.Name -eq 'mtbusy' } | Select-Object -First 5 | Out-Null
        $errs | Should -BeNullOrEmpty
        # The stop takes a moment: an interval may still see it running. Then exactly one Stopped object, the last.
        $idle = @($seen | Where-Object Name -eq mtidle)
        $idle.Count | Should -BeGreaterOrEqual 3
        @($idle | Where-Object State -eq Stopped).Count | Should -Be 1
        $idle[-1].State | Should -Be 'Stopped'
        $idle[-1].NetworkReceivePackets | Should -Be $idle[-2].NetworkReceivePackets
        $idle[-1].CpuTime | Should -Be $idle[-2].CpuTime
        @($seen | Where-Object Name -eq mtbusy).Count | Should -BeGreaterOrEqual 5
        @($seen | Where-Object Name -eq mtbusy | Where-Object State -ne Running) | Should -BeNullOrEmpty
    }
}

Describe 'The host service: usage in Get-VzContainer, and Prometheus scraping its endpoint' -Tag Integration, Metrics, HostService -Skip:(-not ($IsRoot -and $HasPrometheus)) {
    BeforeAll {
        $script:scope = New-VzTestScope -Name metricssvc
        $script:port = Get-FreePort
        $script:ct = New-VzContainer mtprom -Template busybox -MemorySize 64MB | Start-VzContainer -PassThru
        $null = New-VzContainer mtpromoff -Template busybox -MemorySize 64MB
        Start-BusyLoop mtprom
        Set-VzHost -MetricsEnabled $true -MetricsAddress "127.0.0.1:$port" -Confirm:$false
        $null = Start-VzHostService -Background -Confirm:$false
        $script:prometheus = $null
    }
    AfterAll {
        if ($script:prometheus) {
            if (-not $script:prometheus.HasExited) { $script:prometheus.Kill(); $null = $script:prometheus.WaitForExit(30000) }
        }
        Stop-TestService
        Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
        Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'shows CPU percent in Get-VzContainer from the service''s last sample, and none for a stopped container' {
        Wait-Until { $null -ne (Get-VzContainer mtprom).CpuPercent } -Seconds 60 | Should -BeTrue
        (Get-VzContainer mtprom).CpuPercent | Should -BeGreaterThan 0
        (Get-VzContainer mtpromoff).CpuPercent | Should -BeNullOrEmpty
        (Get-VzContainer | Format-Table | Out-String -Width 200) | Should -Match 'CPU%'
    }

    It 'serves the exposition on the configured loopback address, and promtool accepts it' {
        Wait-Until { (Get-Content "$env:VZ_RUN_ROOT/hostservice/metrics.json" -Raw -ErrorAction SilentlyContinue | ConvertFrom-Json).listening } -Seconds 60 | Should -BeTrue
        $r = Invoke-WebRequest "http://127.0.0.1:$port/metrics"
        $r.StatusCode | Should -Be 200
        "$($r.Headers['Content-Type'])" | Should -Match 'text/plain; version=0.0.4'
        $text = $r.Content
        $id = $ct.Id
        $text | Should -Match "(?m)^vz_ve_cpu_seconds_total\{name=`"mtprom`",id=`"$id`",kind=`"container`"\} [0-9.]+$"
        $text | Should -Match "(?m)^vz_ve_up\{name=`"mtpromoff`",id=`"[0-9a-f-]+`",kind=`"container`"\} 0$"
        $text | Should -Match '(?m)^vz_host_ves\{kind="container",state="running"\} 1$'
        $text | Should -Match '(?m)^vz_memory_balloon_given_back_bytes '
        $file = "$($scope.Base)/scrape.txt"
        Set-Content -Path $file -Value $text -NoNewline
        $out = Get-Content $file -Raw | & promtool check metrics 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        # Re-applying the address the service itself listens on is not "in use".
        { Set-VzHost -MetricsAddress "127.0.0.1:$port" -Confirm:$false -ErrorAction Stop } | Should -Not -Throw
    }

    It 'is scraped by a real Prometheus whose query API returns the busy container''s CPU rate' {
        $promPort = Get-FreePort
        $dir = Join-Path $scope.Base 'prometheus'
        $null = New-Item -ItemType Directory -Path "$dir/data" -Force
        @"
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: vz
    static_configs:
      - targets: ['127.0.0.1:$port']
"@ | Set-Content "$dir/prometheus.yml"
        $script:prometheus = Start-Process prometheus -PassThru -RedirectStandardError "$dir/prometheus.log" -RedirectStandardOutput "$dir/stdout.log" -ArgumentList @(
            "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data", "--web.listen-address=127.0.0.1:$promPort",
            '--storage.tsdb.retention.time=1h', '--log.level=warn')
        $api = "http://127.0.0.1:$promPort/api/v1/query?query=" + [uri]::EscapeDataString('rate(vz_ve_cpu_seconds_total{name="mtprom",kind="container"}[15s])')
        $script:answer = $null
        $ok = Wait-Until {
            try { $script:answer = Invoke-RestMethod $api -TimeoutSec 10 } catch { return $false }
            $script:answer.status -eq 'success' -and @($script:answer.data.result).Count -eq 1
        } -Seconds 180
        $ok | Should -BeTrue -Because (Get-Content "$dir/prometheus.log" -Raw -ErrorAction SilentlyContinue)
        $result = @($answer.data.result)[0]
        $result.metric.id | Should -Be "$($ct.Id)"
        [double]$result.value[1] | Should -BeGreaterThan 0
        [double]$result.value[1] | Should -BeLessOrEqual ([Environment]::ProcessorCount + 0.05)
        $targets = Invoke-RestMethod "http://127.0.0.1:$promPort/api/v1/targets"
        @($targets.data.activeTargets)[0].health | Should -Be 'up'
    }

    It 'waits for an address another program holds, says so in metrics.json, and listens once it is free' {
        $other = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $other.Start()
        $taken = $other.LocalEndpoint.Port
        try {
            # Written by hand (Set-VzHost refuses a taken port): the service meets it as it would after a reboot.
            (Get-Content $env:VZ_HOST_CONFIG -Raw) -replace "address: 127.0.0.1:$port", "address: 127.0.0.1:$taken" | Set-Content $env:VZ_HOST_CONFIG
            Wait-Until { $s = Get-Content "$env:VZ_RUN_ROOT/hostservice/metrics.json" -Raw -ErrorAction SilentlyContinue | ConvertFrom-Json; $s -and -not $s.listening -and $s.error -match 'already in use' } -Seconds 60 | Should -BeTrue
        }
        finally { $other.Stop() }
        Wait-Until { (Get-Content "$env:VZ_RUN_ROOT/hostservice/metrics.json" -Raw | ConvertFrom-Json).listening } -Seconds 60 | Should -BeTrue
        (Invoke-WebRequest "http://127.0.0.1:$taken/metrics").StatusCode | Should -Be 200
    }
}

Describe 'Measure-VzVm on a TCG guest' -Tag Integration, Slow, Metrics, Vms -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name metricsvm
        $script:vm = New-VzVm mtvm1 -MemorySize 256MB -CpuCount 1 -DiskSize 160MB -Network User `
            -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments |
            Start-VzVm -Wait -Timeout 300 -PassThru
    }
    AfterAll {
        Get-VzVm -ErrorAction SilentlyContinue | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'counts 100 MiB the guest writes to its disk from QEMU''s block statistics' {
        $before = Measure-VzVm mtvm1 -Interval 0.5
        $r = Invoke-VzVmCommand mtvm1 sh -ArgumentList '-c', 'dd if=/dev/zero of=/dev/vda bs=1M count=100 oflag=direct 2>&1; sync' -Timeout 600
        $r.ExitCode | Should -Be 0 -Because "$($r.StdOut)$($r.StdErr)"
        $after = Measure-VzVm mtvm1 -Interval 0.5
        ($after.DiskWriteBytes - $before.DiskWriteBytes) | Should -BeGreaterOrEqual 90MB
        $after.DiskWriteOps | Should -BeGreaterThan $before.DiskWriteOps
        $after.Kind | Should -Be 'VirtualMachine'
        $after.CpuTime | Should -BeGreaterThan ([TimeSpan]::Zero)
        $after.MemoryResident | Should -BeGreaterThan 0
        $after.MemorySize | Should -Be 256MB
        $after.MemoryGuarantee | Should -Be ([math]::Floor(256MB * 40 / 100))
        # No service runs here: the balloon comes from the monitor itself.
        $after.BalloonActual | Should -Be 256MB
        $after.CpuCapacityPercent | Should -Be 100
    }

    It 'streams a VM that stops as its last figures, then ends' {
        $seen = [System.Collections.Generic.List[object]]::new()
        Measure-VzVm mtvm1 -Interval 1 -Continuous -ErrorVariable errs | ForEach-Object {
            $seen.Add($_)
            if ($seen.Count -eq 1) { Stop-VzVm mtvm1 -Kill }
        }
        # The stream ended by itself (the only VM stopped), its last object Stopped with the last figures.
        $errs | Should -BeNullOrEmpty
        $seen.Count | Should -BeGreaterOrEqual 2
        @($seen | Where-Object State -eq Stopped).Count | Should -Be 1
        $seen[-1].State | Should -Be 'Stopped'
        $seen[-1].DiskWriteBytes | Should -Be $seen[-2].DiskWriteBytes
        { Measure-VzVm mtvm1 -ErrorAction Stop } | Should -Throw -ErrorId 'VzVmNotRunning,Virtuozzo.Commands.MeasureVzVmCommand'
    }
}
