<#
.SYNOPSIS
    Host service and memory manager benchmark on TCG test guests: the idle-reclaim curve with and without the
    service (table, and an SVG chart in docs/), burst deflate latency (p95 over -BurstRuns), the time to notice a
    killed QEMU, and the service's own cost (RSS, CPU) with the VMs running plus -StoppedVes stopped VEs.
    Prints a markdown section. Heavy: run it alone on a quiet machine (-VmCount 4 for the issue's setup).
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $VmCount = 4,
    [int] $BurstRuns = 10,
    [int] $StoppedVes = 50,
    [int] $CostSeconds = 60
)
$ErrorActionPreference = 'Stop'
$guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root
$base = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-hs-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory -Path "$base/data", "$base/run" -Force
$env:VZ_ROOT = "$base/data"; $env:VZ_RUN_ROOT = "$base/run"; $env:VZ_HOST_CONFIG = "$base/host.yaml"
$env:VZ_CGROUP_PARENT = "vzbench-$PID"
# The service's per-sample record (what each VM's policy saw, decided and sent): the per-VM check at 30 s reads it.
$env:VZ_HOSTSERVICE_BALLOON_TRACE = "$base/balloon-trace.csv"
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force
$MiB = 1MB

function Get-Rss([int] $ProcessId) {
    $line = Get-Content "/proc/$ProcessId/status" -ErrorAction SilentlyContinue | Where-Object { $_ -like 'VmRSS:*' }
    if ($line) { [long](($line -replace '\D', '')) * 1KB } else { 0 }
}
function Get-CpuTicks([int] $ProcessId) {
    $f = ((Get-Content "/proc/$ProcessId/stat" -Raw) -replace '^.*\) ', '') -split ' '
    [long]$f[11] + [long]$f[12]   # utime + stime (fields 14 and 15)
}
function Get-Events { Get-Content (Join-Path $env:VZ_RUN_ROOT 'hostservice/events.jsonl') -ErrorAction SilentlyContinue | ForEach-Object { $_ | ConvertFrom-Json } }
function Invoke-Guest([string] $Vm, [string] $Script, [int] $Timeout = 180) { (Invoke-VzVmCommand $Vm sh -ArgumentList '-c', $Script -Timeout $Timeout).StdOut }

# The guests touch 700 MiB in a tmpfs and free it: tmpfs pages count as used (not available) until removed.
$touch = 'mkdir -p /mnt/hog; mountpoint -q /mnt/hog || mount -t tmpfs -o size=900m none /mnt/hog; dd if=/dev/zero of=/mnt/hog/x bs=1M count=700 2>/dev/null; echo ok'
$free = 'rm -f /mnt/hog/x; echo ok'

$names = 1..$VmCount | ForEach-Object { "hs$_" }
$ksmSaved = [ordered]@{}
try {
    foreach ($n in $names) {
        $null = New-VzVm $n -MemorySize 1GB -MemGuarantee 40 -CpuCount 1 -Network None `
            -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
    }
    $names | ForEach-Object { $null = Start-VzVm $_ -Wait -Timeout 300 }
    $guarantee = 1GB * 40 / 100

    function Measure-Reclaim([bool] $WithService, [int] $Seconds = 60) {
        # Each guest touches and frees 700 MiB; then the QEMU RSS and balloons are sampled every second.
        if ($WithService) { $null = Start-VzHostService -Background -Confirm:$false }
        foreach ($n in $names) { $null = Invoke-Guest $n $touch }
        $peak = ($names | ForEach-Object { Get-Rss (Get-VzVm $_).ProcessId } | Measure-Object -Sum).Sum
        foreach ($n in $names) { $null = Invoke-Guest $n $free }
        $t0 = Get-Date
        if ($WithService) { $script:freedAt = [datetimeoffset]$t0 }
        $rows = for ($s = 0; $s -le $Seconds; $s++) {
            $vms = $names | ForEach-Object { Get-VzVm $_ }
            $rss = ($vms | ForEach-Object { Get-Rss $_.ProcessId } | Measure-Object -Sum).Sum
            $actual = @($vms | ForEach-Object { $_.MemoryActual })
            [pscustomobject]@{
                Second = $s; Rss = $rss; Reclaimed = [math]::Max([long]0, [long]($peak - $rss))
                MinActual = if ($WithService -and @($actual | Where-Object { $null -ne $_ }).Count) { ($actual | Measure-Object -Minimum).Minimum } else { $null }
                SumActual = if ($WithService) { ($actual | Measure-Object -Sum).Sum } else { $null }
            }
            $next = $t0.AddSeconds($s + 1); $wait = ($next - (Get-Date)).TotalMilliseconds
            if ($wait -gt 0) { Start-Sleep -Milliseconds $wait }
        }
        if ($WithService) { Stop-VzHostService -Confirm:$false }
        [pscustomobject]@{ Peak = $peak; Rows = @($rows) }
    }

    $without = Measure-Reclaim $false
    $script:freedAt = $null
    # Give every balloon back before the run with the service (the guests may have been ballooned by nothing yet).
    $with = Measure-Reclaim $true
    # The trace is for the reclaim run only: writing it would be part of the cost measured below.
    Remove-Item Env:VZ_HOSTSERVICE_BALLOON_TRACE

    # Burst: a ballooned guest allocates 600 MiB; time from the start of the allocation to the first deflate command.
    Set-VzHost -BalloonIntervalSeconds 5 -Confirm:$false   # so each run re-inflates quickly; urgent deflates ignore it anyway
    $null = Start-VzHostService -Background -Confirm:$false
    $burst = [Collections.Generic.List[double]]::new(); $burstGrown = [Collections.Generic.List[double]]::new()
    $oomBefore = [long]((Invoke-Guest $names[0] 'grep oom_kill /proc/vmstat') -replace '\D', '')
    for ($r = 0; $r -lt $BurstRuns; $r++) {
        $end = (Get-Date).AddSeconds(120)
        while ((Get-VzVm $names[0]).MemoryActual -gt $guarantee + 32MB -and (Get-Date) -lt $end) { Start-Sleep -Milliseconds 500 }
        $seen = @(Get-Events).Count
        $start = [datetimeoffset]::UtcNow
        $null = Invoke-Guest $names[0] '(dd if=/dev/zero of=/mnt/hog/x bs=1M count=600 2>/dev/null; sleep 8; rm -f /mnt/hog/x) >/dev/null 2>&1 & echo ok'
        $deflate = $null; $grown = $null
        $end = (Get-Date).AddSeconds(60)
        while (-not ($deflate -and $grown) -and (Get-Date) -lt $end) {
            if (-not $deflate) { $deflate = @(Get-Events) | Select-Object -Skip $seen | Where-Object { $_.kind -eq 'BalloonDeflate' -and $_.target -eq $names[0] } | Select-Object -First 1 }
            # The balloon itself: the service's next sample of query-balloon shows the guest holding 128 MiB more.
            if (-not $grown -and (Get-VzVm $names[0]).MemoryActual -ge $guarantee + 128MB) { $grown = [datetimeoffset]::UtcNow }
            if (-not ($deflate -and $grown)) { Start-Sleep -Milliseconds 100 }
        }
        if ($deflate) { $burst.Add(([datetimeoffset]$deflate.time - $start).TotalSeconds) }
        if ($grown) { $burstGrown.Add(($grown - $start).TotalSeconds) }
        Start-Sleep -Seconds 10
    }
    $oomAfter = [long]((Invoke-Guest $names[0] 'grep oom_kill /proc/vmstat') -replace '\D', '')

    # KSM Auto: the identical guests (MemMerge on, the default) merge with the policy set; host-wide KSM settings are
    # saved first and put back in the finally block, whatever happens. The harness's host-wide KSM lock (the same file
    # Enter-VzHostWideLock takes) keeps test runs on this machine from changing KSM meanwhile.
    Import-Module (Join-Path $Root 'tests.pester/Harness/VzTestHarness.psm1') -Function Enter-VzHostWideLock, Exit-VzHostWideLock
    $ksmLock = Enter-VzHostWideLock ksm
    $ksmDir = '/sys/kernel/mm/ksm'
    $ksmFiles = @('run', 'pages_to_scan', 'sleep_millisecs', 'advisor_mode', 'advisor_max_cpu') | Where-Object { Test-Path "$ksmDir/$_" }
    foreach ($f in $ksmFiles) { $ksmSaved[$f] = (Get-Content "$ksmDir/$f").Trim() -replace '^.*\[(.+)\].*$', '$1' }
    $ksmd = (Get-Process -Name ksmd -ErrorAction SilentlyContinue | Select-Object -First 1).Id
    $qemus = @($names | ForEach-Object { (Get-VzVm $_).ProcessId })
    function Get-MergedPages { ($qemus | ForEach-Object { [long]((Get-Content "/proc/$_/ksm_merging_pages" -ErrorAction SilentlyContinue) -as [long]) } | Measure-Object -Sum).Sum }
    $ksmMergedBefore = Get-MergedPages
    $ksmCpu0 = if ($ksmd) { Get-CpuTicks $ksmd }
    $ksmT0 = Get-Date
    Set-VzKsm -Policy Auto -Confirm:$false
    $ksmFirst = $null
    while (((Get-Date) - $ksmT0).TotalSeconds -lt 90) {
        if ($null -eq $ksmFirst -and (Get-MergedPages) -gt $ksmMergedBefore) { $ksmFirst = ((Get-Date) - $ksmT0).TotalSeconds }
        Start-Sleep -Milliseconds 500
    }
    $ksmCpuPct = if ($ksmd) { 100.0 * ((Get-CpuTicks $ksmd) - $ksmCpu0) / 100 / ((Get-Date) - $ksmT0).TotalSeconds }
    $ksmAt90 = Get-VzKsm
    $ksmMerged90 = (Get-MergedPages) - $ksmMergedBefore
    $ksmEvents = @(Get-Events | Where-Object kind -like 'KsmPolicy*' | ForEach-Object message)
    Set-VzKsm -Policy Manual -Confirm:$false
    foreach ($f in $ksmFiles) { Set-Content "$ksmDir/$f" $ksmSaved[$f] -ErrorAction SilentlyContinue }
    Exit-VzHostWideLock $ksmLock; $ksmLock = $null

    # Cost: the service with the VMs running and many stopped VEs, steady state (30 s after the last VE was created,
    # so the listing has read every new ve.yaml once and the service has run for minutes: no start-up JIT in the figure).
    1..$StoppedVes | ForEach-Object { $null = New-VzVm ("idle{0:d2}" -f $_) -MemorySize 64MB }
    Start-Sleep -Seconds 30
    $svc = (Get-VzHostService).ProcessId
    $hz = 100
    $costLoadBefore = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
    $c0 = Get-CpuTicks $svc; $w0 = Get-Date
    Start-Sleep -Seconds $CostSeconds
    $c1 = Get-CpuTicks $svc; $w1 = Get-Date
    $costLoadAfter = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
    $cpuPct = 100.0 * ($c1 - $c0) / $hz / ($w1 - $w0).TotalSeconds
    $svcRss = Get-Rss $svc

    # A killed QEMU: time until the service records it.
    $qemu = (Get-VzVm $names[-1]).ProcessId
    $killedAt = [datetimeoffset]::UtcNow
    kill -9 $qemu
    $died = $null; $end = (Get-Date).AddSeconds(15)
    while (-not $died -and (Get-Date) -lt $end) {
        $died = Get-Events | Where-Object { $_.kind -eq 'VeDied' -and $_.target -eq $names[-1] } | Select-Object -First 1
        if (-not $died) { Start-Sleep -Milliseconds 50 }
    }
    $notice = if ($died) { ([datetimeoffset]$died.time - $killedAt).TotalSeconds } else { $null }
    Stop-VzHostService -Confirm:$false
}
finally {
    if ((Get-VzHostService).Running) { Stop-VzHostService -Confirm:$false }
    $traceLines = @(Import-Csv "$base/balloon-trace.csv" -ErrorAction SilentlyContinue)
    Copy-Item "$base/balloon-trace.csv" (Join-Path ([IO.Path]::GetTempPath()) 'vz-hostservice-balloon-trace.csv') -ErrorAction SilentlyContinue
    foreach ($f in $ksmSaved.Keys) { Set-Content "/sys/kernel/mm/ksm/$f" $ksmSaved[$f] -ErrorAction SilentlyContinue }
    if ($ksmLock) { $ksmLock.Dispose() }
    Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}

# The raw numbers first, so a formatting slip never loses a long run.
[pscustomobject]@{ Without = $without; With = $with; Burst = @($burst); BurstGrown = @($burstGrown); KsmFirst = $ksmFirst; KsmMerged90 = $ksmMerged90; KsmCpu = $ksmCpuPct; KsmEvents = $ksmEvents; OomBefore = $oomBefore; OomAfter = $oomAfter; CpuPercent = $cpuPct; ServiceRss = $svcRss; NoticeSeconds = $notice } |
    ConvertTo-Json -Depth 6 | Set-Content (Join-Path ([IO.Path]::GetTempPath()) 'vz-hostservice-bench.json')

# Per VM at 30 s after the free (the service's trace): the last target sent against max(working set + 20 %, guarantee),
# the working set being the most the guest used (its own balloon stats: total - available - balloon) over the 10 s before.
$perVm = foreach ($n in $names) {
    $at30 = $script:freedAt.AddSeconds(30)
    $rows = @($traceLines | Where-Object { $_.vm -eq $n -and [datetimeoffset]$_.time -le $at30 -and [datetimeoffset]$_.time -ge $script:freedAt.AddSeconds(-60) })
    $last = $rows | Select-Object -Last 1
    $window = @($rows | Where-Object { [datetimeoffset]$_.time -gt $at30.AddSeconds(-10) -and $_.stat_total -ne '' })
    $ws = ($window | ForEach-Object { [double]$_.stat_total - [double]$_.stat_available - [math]::Max(0, [double]$_.stat_total - [double]$_.actual) } | Measure-Object -Maximum).Maximum
    $target = if ($last -and $last.last_target -ne '') { [double]$last.last_target } else { $null }
    $limit = if ($null -ne $ws) { [math]::Max($ws * 1.2, $guarantee / $MiB) } else { $null }
    [pscustomobject]@{ Vm = $n; Target = $target; Actual = if ($last) { [double]$last.actual } else { $null }; WorkingSet = $ws; Limit = $limit
        Holds = $null -ne $target -and $null -ne $limit -and $target -le $limit + 1 }
}

# The chart: reclaimed MiB over seconds after the guests freed their memory, with and without the service.
$w = 640; $h = 320; $pad = 48
$maxY = [double][math]::Max([double]1, [double][math]::Max([double]($with.Rows.Reclaimed | Measure-Object -Maximum).Maximum, [double]($without.Rows.Reclaimed | Measure-Object -Maximum).Maximum)) / $MiB
$maxX = $with.Rows.Count - 1
function Get-Points($rows) { ($rows | ForEach-Object { '{0:0.#},{1:0.#}' -f ($pad + ($w - 2 * $pad) * $_.Second / $maxX), ($h - $pad - ($h - 2 * $pad) * ($_.Reclaimed / $MiB) / $maxY) }) -join ' ' }
$svg = @"
<svg xmlns="http://www.w3.org/2000/svg" width="$w" height="$h" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="white"/>
  <line x1="$pad" y1="$($h - $pad)" x2="$($w - $pad)" y2="$($h - $pad)" stroke="black"/>
  <line x1="$pad" y1="$pad" x2="$pad" y2="$($h - $pad)" stroke="black"/>
  <text x="$($w / 2)" y="$($h - 12)" text-anchor="middle">seconds after the guests freed 700 MiB each</text>
  <text x="14" y="$($h / 2)" transform="rotate(-90 14 $($h / 2))" text-anchor="middle">MiB back on the host (QEMU RSS)</text>
  <text x="$($pad - 4)" y="$($pad + 4)" text-anchor="end">$([math]::Round($maxY))</text>
  <text x="$($pad - 4)" y="$($h - $pad)" text-anchor="end">0</text>
  <text x="$($w - $pad)" y="$($h - $pad + 16)" text-anchor="end">$maxX</text>
  <polyline fill="none" stroke="#1f77b4" stroke-width="2" points="$(Get-Points $with.Rows)"/>
  <polyline fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="6 4" points="$(Get-Points $without.Rows)"/>
  <text x="$($w - $pad - 200)" y="$($pad + 10)" fill="#1f77b4">with the host service</text>
  <text x="$($w - $pad - 200)" y="$($pad + 26)" fill="#d62728">without (free page reporting only)</text>
</svg>
"@
Set-Content -Path (Join-Path $Root 'docs/hostservice-reclaim.svg') -Value $svg

function Get-P95($values) {
    $v = @($values | Sort-Object)
    if ($v.Count) { $v[[int][math]::Min([double]($v.Count - 1), [math]::Ceiling(0.95 * $v.Count) - 1)] } else { $null }
}
$sorted = @($burst | Sort-Object); $sortedGrown = @($burstGrown | Sort-Object)
$p95 = Get-P95 $sorted; $p95Grown = Get-P95 $sortedGrown
$load = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
$reclaimable = $VmCount * 700 * $MiB
$at30 = $with.Rows | Where-Object Second -eq 30
$minActual = ($with.Rows | Where-Object { $null -ne $_.MinActual } | Measure-Object MinActual -Minimum).Minimum
"## Host service and memory manager"
""
"$VmCount TCG test guests of 1 GiB (guarantee 40 % = $([math]::Round($guarantee / $MiB)) MiB), each touching 700 MiB in a tmpfs and freeing it. QEMU RSS summed over the VMs, sampled every second after the free; 'reclaimed' is the peak RSS minus the RSS then. The balloons come from query-balloon through the service's cache. Chart: [hostservice-reclaim.svg](hostservice-reclaim.svg)."
""
"| s after free | reclaimed without service (MiB) | reclaimed with service (MiB) | sum of balloons with service (MiB) |"
"| ---: | ---: | ---: | ---: |"
foreach ($s in 0, 2, 5, 10, 15, 20, 30, 45, 60) {
    $a = $without.Rows | Where-Object Second -eq $s; $b = $with.Rows | Where-Object Second -eq $s
    if ($a -and $b) { '| {0} | {1:n0} | {2:n0} | {3} |' -f $s, ($a.Reclaimed / $MiB), ($b.Reclaimed / $MiB), $(if ($null -ne $b.SumActual) { '{0:n0}' -f ($b.SumActual / $MiB) } else { '-' }) }
}
""
"Per VM at 30 s after the free (from the service's balloon trace; working set = the most the guest's own stats showed it using over the 10 s before):"
""
"| VM | balloon target (MiB) | balloon actual (MiB) | working set (MiB) | max(working set + 20 %, guarantee) (MiB) | target within it |"
"| --- | ---: | ---: | ---: | ---: | --- |"
foreach ($v in $perVm) { '| {0} | {1} | {2} | {3} | {4} | {5} |' -f $v.Vm, $(if ($null -ne $v.Target) { '{0:n0}' -f $v.Target } else { '-' }), $(if ($null -ne $v.Actual) { '{0:n0}' -f $v.Actual } else { '-' }), $(if ($null -ne $v.WorkingSet) { '{0:n0}' -f $v.WorkingSet } else { '-' }), $(if ($null -ne $v.Limit) { '{0:n0}' -f $v.Limit } else { '-' }), $(if ($v.Holds) { 'yes' } else { '**no**' }) }
""
"- At 30 s with the service: {0:n0} MiB of the {1:n0} MiB freed is back on the host ({2:0} %; goal: at least 70 %)." -f ($at30.Reclaimed / $MiB), ($reclaimable / $MiB), (100 * $at30.Reclaimed / $reclaimable)
"- Lowest balloon seen in any 1 s sample: {0} MiB (guarantee {1:n0} MiB)." -f $(if ($null -ne $minActual) { '{0:n0}' -f ($minActual / $MiB) } else { '-' }), ($guarantee / $MiB)
"- Burst (a ballooned guest allocates 600 MiB, $BurstRuns runs, timed from the start of the Invoke-VzVmCommand that starts the allocation): first deflate command after {0} s, p95 {1} s (goal: 3 s); balloon seen 128 MiB larger after {2} s, p95 {3} s. Guest oom_kill before/after: $oomBefore/$oomAfter." -f $(($sorted | ForEach-Object { '{0:0.0}' -f $_ }) -join ', '), $(if ($null -ne $p95) { '{0:0.0}' -f $p95 } else { '-' }), $(($sortedGrown | ForEach-Object { '{0:0.0}' -f $_ }) -join ', '), $(if ($null -ne $p95Grown) { '{0:0.0}' -f $p95Grown } else { '-' })
"- KSM Auto ($(if (Test-Path /sys/kernel/mm/ksm/advisor_mode) { 'kernel advisor present' } else { 'no advisor: ksmtuned rules' })), $VmCount identical guests with MemMerge: first merged pages after {0} s; after 90 s {1:n0} MiB of the guests' memory merged, host pages_sharing {2:n0} MiB, general_profit {3} MiB, ksmd {4} % of one core over the 90 s. Policy events: {5}. Host KSM settings restored afterwards." -f $(if ($null -ne $ksmFirst) { '{0:0.0}' -f $ksmFirst } else { 'never (within 90)' }), ($ksmMerged90 * 4KB / $MiB), ($ksmAt90.SavedBytes / $MiB), $(if ($null -ne $ksmAt90.GeneralProfitBytes) { '{0:n0}' -f ($ksmAt90.GeneralProfitBytes / $MiB) } else { '-' }), $(if ($null -ne $ksmCpuPct) { '{0:0.0}' -f $ksmCpuPct } else { '-' }), $(($ksmEvents | ForEach-Object { "'$_'" }) -join '; ')
"- A killed QEMU recorded as VeDied after {0} s (goal: 2 s)." -f $(if ($null -ne $notice) { '{0:0.00}' -f $notice } else { '-' })
"- Service cost over $CostSeconds s with $VmCount running VMs and $StoppedVes stopped VEs: {0:0.00} % of one core, RSS {1:n0} MiB (goal: under 2 %); load average {2} before and {3} after that minute." -f $cpuPct, ($svcRss / $MiB), ($costLoadBefore -join ' '), ($costLoadAfter -join ' ')
""
"Measured with ``bench/HostService.Bench.ps1 -VmCount $VmCount -BurstRuns $BurstRuns`` on $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC, load average $($load -join ' ') at the end (2 cores; other work on the host slows the TCG guests, so say what ran beside this). Without the service the guests' free page reporting already returns most freed memory to the host; the service adds the balloon floor (every balloon ends at max(working set + 20 %, guarantee), never below the guarantee). Every running VM is sampled once a second on the monitor QEMU keeps for the service, and a climb above its working set that would eat its headroom within 30 s deflates it at the first sample that shows it; the guest's own stats refresh (1 s, QEMU's minimum) is the rest of the latency, and the timing starts before the agent has even started the allocation, so it over-states the manager's part. KSM Auto with the kernel advisor runs ksmd while mergeable VMs run and lets the advisor bound its CPU (see about_Virtuozzo_Memory)."
