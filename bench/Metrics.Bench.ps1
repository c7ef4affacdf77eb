<#
.SYNOPSIS
    Usage figures and the metrics endpoint (issue 18): the acceptance measures (a busy loop with and without
    -CpuLimit 25 over 3 s, a ping flood in both packet counters, 100 MiB written by a TCG guest), then one scrape of
    the host service's endpoint with 200 registered VEs (20 running) against the same server's trivial page (the
    HTTP cost alone), and the processes the service starts while it samples and serves (strace on its pid).
    Prints a markdown section.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $Registered = 200,
    [int] $Running = 20,
    [int] $Scrapes = 50,
    [switch] $SkipVm
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force

$tag = [guid]::NewGuid().ToString('N').Substring(0, 6)
$base = Join-Path ([IO.Path]::GetTempPath()) "vz-bench-metrics-$tag"
$env:VZ_ROOT = Join-Path $base 'data'; $env:VZ_RUN_ROOT = Join-Path $base 'run'
$env:VZ_HOST_CONFIG = Join-Path $base 'host.yaml'; $env:VZ_CGROUP_PARENT = "vzbench-$tag"
$null = New-Item -ItemType Directory $env:VZ_ROOT, $env:VZ_RUN_ROOT -Force
$bridge = "vzbm$tag"

function Get-Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
function Get-P95([double[]] $v) { $s = $v | Sort-Object; $s[[int][math]::Ceiling($s.Count * 0.95) - 1] }
function Get-FreePort { $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p }
function Get-Load { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' }

$strace = $null
try {
    & ip link add name $bridge type bridge
    & ip addr add 198.19.80.1/24 dev $bridge
    & ip link set $bridge up

    # --- CPU: a busy loop over 3 s, without and with -CpuLimit 25 (three measures each, the median reported).
    $null = New-VzContainer cpu0 -Template busybox -MemorySize 64MB | Start-VzContainer
    $null = Invoke-VzContainerCommand cpu0 -Shell 'nohup sh -c "while :; do :; done" >/dev/null 2>&1 &'
    $loadCpu = Get-Load
    $free = foreach ($i in 1..3) { (Measure-VzContainer cpu0 -Interval 3).CpuPercent }
    Set-VzContainer cpu0 -CpuLimit 25
    $limited = foreach ($i in 1..3) { (Measure-VzContainer cpu0 -Interval 3).CpuPercent }
    Set-VzContainer cpu0 -CpuLimit 0
    $freeMed = Get-Median $free; $limMed = Get-Median $limited

    # --- Network: a ping flood from the host to a container on this bench's bridge.
    $null = New-VzContainer net0 -Template busybox -MemorySize 64MB -IpAddress 198.19.80.2/24 -Bridge $bridge | Start-VzContainer
    $n0 = Measure-VzContainer net0 -Interval 0.2
    $null = & ping -f -q -c 2000 -w 120 198.19.80.2
    $n1 = Measure-VzContainer net0 -Interval 0.2
    $rxPk = $n1.NetworkReceivePackets - $n0.NetworkReceivePackets; $txPk = $n1.NetworkTransmitPackets - $n0.NetworkTransmitPackets

    # --- Disk: a TCG guest writes 100 MiB (O_DIRECT) to its disk; QMP query-blockstats counts it.
    $vmLine = 'not measured (-SkipVm)'
    if (-not $SkipVm) {
        $guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root
        $null = New-VzVm vm0 -MemorySize 256MB -CpuCount 1 -DiskSize 160MB -Network User -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments |
            Start-VzVm -Wait -Timeout 600
        $d0 = Measure-VzVm vm0 -Interval 0.5
        $r = Invoke-VzVmCommand vm0 sh -ArgumentList '-c', 'dd if=/dev/zero of=/dev/vda bs=1M count=100 oflag=direct 2>/dev/null' -Timeout 600
        $d1 = Measure-VzVm vm0 -Interval 0.5
        $written = ($d1.DiskWriteBytes - $d0.DiskWriteBytes) / 1MB
        $vmLine = '{0:0.0} MiB written (dd exit {1}), {2} write operations: {3}' -f $written, $r.ExitCode, ($d1.DiskWriteOps - $d0.DiskWriteOps), $(if ($written -ge 90) { 'holds (>= 90 MiB)' } else { 'does NOT hold' })
        Stop-VzVm vm0 -Kill
    }

    # --- Scrape: fill up to $Registered VEs (a tenth of them stopped VMs), $Running containers running.
    $have = @(Get-VzContainer).Count + @(Get-VzVm).Count
    $vms = [int]($Registered / 10) - @(Get-VzVm).Count
    for ($i = 1; $i -le $vms; $i++) { $null = New-VzVm "svm$i" -MemorySize 128MB }
    $cts = $Registered - $have - $vms
    for ($i = 1; $i -le $cts; $i++) { $null = New-VzContainer "sct$i" -Template busybox -MemorySize 32MB }
    $toStart = $Running - @(Get-VzContainer | Where-Object State -eq Running).Count
    Get-VzContainer 'sct*' | Select-Object -First $toStart | Start-VzContainer
    $total = @(Get-VzContainer).Count + @(Get-VzVm).Count
    $up = @(Get-VzContainer | Where-Object State -eq Running).Count + @(Get-VzVm | Where-Object State -eq Running).Count

    $port = Get-FreePort
    Set-VzHost -MetricsEnabled $true -MetricsAddress "127.0.0.1:$port" -Confirm:$false
    $svc = Start-VzHostService -Background -PassThru -Confirm:$false
    $deadline = (Get-Date).AddMinutes(3)
    $http = [System.Net.Http.HttpClient]::new()
    $http.Timeout = [TimeSpan]::FromSeconds(30)
    do {
        Start-Sleep -Milliseconds 500
        $ok = try { $http.GetStringAsync("http://127.0.0.1:$port/metrics").GetAwaiter().GetResult() -match "(?m)^vz_host_ves\{kind=`"container`",state=`"running`"\} $Running$" } catch { $false }
    } until ($ok -or (Get-Date) -gt $deadline)
    if (-not $ok) { throw "The endpoint did not show $Running running containers within 3 minutes." }
    function Measure-Get([string] $path) {
        foreach ($i in 1..$Scrapes) {
            $t = [Diagnostics.Stopwatch]::StartNew()
            $body = $http.GetStringAsync("http://127.0.0.1:$port$path").GetAwaiter().GetResult()
            $t.Stop()
            $script:lastBody = $body
            $t.Elapsed.TotalMilliseconds
            Start-Sleep -Milliseconds 50
        }
    }
    $null = Measure-Get '/'; $null = Measure-Get '/metrics'   # warm: JIT on both sides
    $loadScrape = Get-Load
    $page = Measure-Get '/'
    # The service's own CPU time over the scrapes (utime + stime, clock ticks of 10 ms): what a scrape costs the
    # host whatever the load, beside the wall time a loaded scheduler adds. Its 3-second sampling pass runs meanwhile.
    function Get-CpuTicks([int] $ProcessId) { $f = ((Get-Content "/proc/$ProcessId/stat" -Raw) -replace '^.*\) ', '') -split ' '; [long]$f[11] + [long]$f[12] }
    $ticks0 = Get-CpuTicks $svc.ProcessId; $wall0 = [Diagnostics.Stopwatch]::StartNew()
    $scrape = Measure-Get '/metrics'
    $ticks1 = Get-CpuTicks $svc.ProcessId; $wall0.Stop()
    $cpuPerScrape = (($ticks1 - $ticks0) * 10.0) / $Scrapes
    $lines = @($lastBody -split "`n" | Where-Object { $_ -and -not $_.StartsWith('#') }).Count
    $bytes = [Text.Encoding]::UTF8.GetByteCount($lastBody)
    $scrapeMed = Get-Median $scrape; $scrapeP95 = Get-P95 $scrape; $pageMed = Get-Median $page

    # --- Processes the service starts while it samples (3 passes or more) and serves 20 scrapes: strace on its pid.
    $traceFile = Join-Path $base 'strace.txt'
    $strace = Start-Process strace -PassThru -ArgumentList '-f', '-qq', '-e', 'trace=fork,vfork,clone,clone3,execve', '-o', $traceFile, '-p', $svc.ProcessId
    Start-Sleep -Seconds 2
    foreach ($i in 1..20) { $null = $http.GetStringAsync("http://127.0.0.1:$port/metrics").GetAwaiter().GetResult(); Start-Sleep -Milliseconds 400 }
    Start-Sleep -Seconds 2
    $strace.Kill(); $null = $strace.WaitForExit(10000); $strace = $null
    $trace = if (Test-Path $traceFile) { Get-Content $traceFile } else { @() }
    $spawned = @($trace | Where-Object { $_ -match '\b(execve|fork|vfork)\(' -or ($_ -match '\bclone3?\(' -and $_ -notmatch 'CLONE_THREAD') }).Count
    $threads = @($trace | Where-Object { $_ -match '\bclone3?\(' -and $_ -match 'CLONE_THREAD' }).Count

    $cpuOk = $freeMed -ge 80 -and $freeMed -le 100
    $limOk = $limMed -ge 20 -and $limMed -le 30
    $scrapeOk = $scrapeMed -lt 50
    @"
## Metrics: Measure-VzVm/Measure-VzContainer and the Prometheus endpoint

Measured $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC on a $([Environment]::ProcessorCount)-CPU host shared with other
work: load average $loadCpu during the CPU measures, $loadScrape during the scrapes. CPU figures are the container's
cgroup usage (what the scheduler gave it), so on a loaded host a busy loop gets its fair share, not a whole CPU.

| measure | result | target |
| --- | --- | --- |
| busy loop, no limit, ``Measure-VzContainer -Interval 3`` (3 runs) | $($free -join ' / ') % (median **$freeMed %**) | 80-100 %: $(if ($cpuOk) { 'holds' } else { 'does NOT hold on this load' }) |
| same loop, ``-CpuLimit 25`` (3 runs) | $($limited -join ' / ') % (median **$limMed %**) | 20-30 %: $(if ($limOk) { 'holds' } else { 'does NOT hold' }) |
| ``ping -f -c 2000`` host -> container | received $rxPk packets, sent $txPk packets | both counters: $(if ($rxPk -ge 2000 -and $txPk -ge 1990) { 'holds' } else { 'does NOT hold' }) |
| TCG guest ``dd bs=1M count=100 oflag=direct`` | $vmLine | >= 90 MiB |
| one scrape, $total VEs registered ($up running), $lines samples, $([math]::Round($bytes / 1KB)) KiB | median **$([math]::Round($scrapeMed, 2)) ms**, p95 $([math]::Round($scrapeP95, 2)) ms over $Scrapes | < 50 ms: $(if ($scrapeOk) { 'holds' } else { 'does NOT hold' }) |
| service CPU time per scrape (incl. its background passes over the same $([math]::Round($wall0.Elapsed.TotalSeconds)) s) | $([math]::Round($cpuPerScrape, 1)) ms | |
| peer: the same server's trivial page ``/`` | median $([math]::Round($pageMed, 2)) ms (the scrape costs $([math]::Round($scrapeMed - $pageMed, 2)) ms more) | |
| processes started by the service over ~12 s (4 sampling passes, 20 scrapes) | **$spawned** (and $threads threads) | none per VE |

A scrape re-reads the running VEs' cgroup, /proc and /sys/class/net files (no QMP round trip: a VM's disk counters
come from the service's last 3-second pass) and renders every registered VE's ``vz_ve_up``.
"@
}
finally {
    if ($strace -and -not $strace.HasExited) { $strace.Kill() }
    try { Stop-VzHostService -Timeout 120 -Confirm:$false -ErrorAction SilentlyContinue } catch { }
    Get-VzVm -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
    & ip link del $bridge 2>$null
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}
