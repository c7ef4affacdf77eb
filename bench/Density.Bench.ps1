<#
.SYNOPSIS
    Density benchmark: a host with hundreds of busybox containers. Creates, starts, lists, stops and removes
    -Count containers in one warm session, with the raw runtime's figures measured in the same run: single starts
    alternating with `crun run -d` of the very same bundle, and -PeerCount `crun run -d` of prepared bundles
    against New+Start of as many containers. Prints a markdown section. Removes everything it made, also on failure.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $Count = 500,
    [int] $PeerCount = 200,
    [int] $StopCount = 100,
    [int] $Rounds = 12
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force

$tag = [guid]::NewGuid().ToString('N').Substring(0, 6)
$base = Join-Path ([IO.Path]::GetTempPath()) "vz-density-$tag"
$env:VZ_ROOT = Join-Path $base 'data'; $env:VZ_RUN_ROOT = Join-Path $base 'run'
$env:VZ_HOST_CONFIG = Join-Path $base 'host.yaml'; $env:VZ_CGROUP_PARENT = "vzdensity-$tag"
$null = New-Item -ItemType Directory $env:VZ_ROOT, $env:VZ_RUN_ROOT -Force
$state = Join-Path $base 'peer-state'
$unified = if ((Get-VzHost).CgroupMode -eq 'Hybrid') { '/sys/fs/cgroup/unified' }

function Get-Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
function Get-MemAvailable { [long]((Get-Content /proc/meminfo | Where-Object { $_ -like 'MemAvailable:*' }) -replace '\D', '') * 1KB }
function Get-Load { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' }
function Measure-Ms([scriptblock] $Block) { $t = [Diagnostics.Stopwatch]::StartNew(); $null = & $Block; $t.Elapsed.TotalMilliseconds }
# CPU time this process spent (all its threads): what the operation costs on an idle core, whatever the load.
function Measure-CpuMs([scriptblock] $Block) { $p = [Diagnostics.Process]::GetCurrentProcess(); $c = $p.TotalProcessorTime; $null = & $Block; $p.Refresh(); ($p.TotalProcessorTime - $c).TotalMilliseconds }

# The peer: crun's own `run -d` of a prepared bundle, launched as it must be on this host (crun on a hybrid cgroup
# host needs a private mount namespace without the cgroup2 mount, as the engine does), output to /dev/null.
function Invoke-PeerRun([string] $Bundle, [string] $Id) {
    if ($unified) { & unshare --mount --propagation slave -- /bin/sh -c 'umount "$0" && exec "$@" </dev/null >/dev/null 2>&1' $unified crun --root $state run -d --bundle $Bundle $Id }
    else { & crun --root $state run -d --bundle $Bundle $Id *> $null }
    if ($LASTEXITCODE -ne 0) { throw "crun run -d $Id failed ($LASTEXITCODE)" }
}
function Remove-Peer([string] $Id) {
    & crun --root $state kill $Id KILL 2>$null
    for ($w = 0; $w -lt 50; $w++) { & crun --root $state delete --force $Id 2>$null; if ($LASTEXITCODE -eq 0) { break }; Start-Sleep -Milliseconds 100 }
}

$loadBefore = Get-Load
try {
    # Warm the session (code paths, template build, page cache) with one full cycle.
    $null = New-VzContainer warm -MemorySize 64MB; Start-VzContainer warm; $null = Get-VzContainer; Stop-VzContainer warm -Kill

    # Single starts, alternating: Start-VzContainer, then crun run -d of the bundle that start wrote.
    $bundle = (Get-VzContainer warm).Path
    $engineStart = @(); $peerStart = @()
    foreach ($i in 1..$Rounds) {
        $engineStart += Measure-Ms { Start-VzContainer warm }
        Stop-VzContainer warm -Kill
        $peerStart += Measure-Ms { Invoke-PeerRun $bundle "single$i" }
        Remove-Peer "single$i"
    }

    # Prepared bundles for the peer: containers created (untimed) and never started; each bundle's config.json is
    # the engine's own for that container, with the peer's id as its cgroup so the two never share a group.
    $template = Get-Content (Join-Path $bundle 'config.json') -Raw | ConvertFrom-Json -AsHashtable
    Remove-VzContainer warm -Force -Confirm:$false
    $peerIds = @()
    foreach ($i in 1..$PeerCount) {
        $ct = New-VzContainer ('peer{0:d4}' -f $i) -MemorySize 64MB
        $cfg = $template.Clone()
        $cfg.root = @{ path = (Join-Path $ct.Path 'root'); readonly = $false }
        $cfg.hostname = $ct.Name
        $linux = $template.linux.Clone()
        $linux.cgroupsPath = "/$($env:VZ_CGROUP_PARENT)/peer-$i"
        $size = $template.linux.uidMappings[0].size
        $linux.uidMappings = @(@{ containerID = 0; hostID = $ct.UidBase; size = $size })
        $linux.gidMappings = @(@{ containerID = 0; hostID = $ct.UidBase; size = $size })
        $cfg.linux = $linux
        Set-Content (Join-Path $ct.Path 'config.json') ($cfg | ConvertTo-Json -Depth 20)
        $peerIds += , @($ct.Path, "bulk$i")
    }
    $peerBulk = Measure-Ms { foreach ($p in $peerIds) { Invoke-PeerRun $p[0] $p[1] } }
    foreach ($p in $peerIds) { Remove-Peer $p[1] }
    Get-VzContainer peer* | Remove-VzContainer -Force -Confirm:$false

    # New+Start of as many containers as the peer ran, one after another; then the rest, created in a loop and
    # started over the pipeline (concurrently, default -ThrottleLimit).
    $names = 1..$Count | ForEach-Object { 'dense{0:d4}' -f $_ }
    [GC]::Collect()
    $memBefore = Get-MemAvailable
    $first = $names | Select-Object -First $PeerCount
    $newStartFirst = Measure-Ms { foreach ($n in $first) { $null = New-VzContainer $n -MemorySize 64MB; Start-VzContainer $n } }
    $rest = @($names | Select-Object -Skip $PeerCount)
    $newRest = Measure-Ms { foreach ($n in $rest) { $null = New-VzContainer $n -MemorySize 64MB } }
    $startRest = Measure-Ms { Get-VzContainer $rest | Start-VzContainer }
    Start-Sleep -Seconds 2
    $memAfter = Get-MemAvailable
    $all = Get-VzContainer
    $running = @($all | Where-Object State -eq Running).Count
    $inCgroups = ($all | Measure-Object MemoryCurrent -Sum).Sum

    # Listing, warm: all of them, and one by name.
    $list = @(foreach ($i in 1..7) { Measure-Ms { Get-VzContainer } })
    $listCpu = @(foreach ($i in 1..7) { Measure-CpuMs { Get-VzContainer } })
    $listOne = @(foreach ($i in 1..7) { Measure-Ms { Get-VzContainer $names[[int]($Count / 2)] } })

    # Graceful stop over the pipeline: the first -StopCount, then the rest; then removal.
    $stopSome = Measure-Ms { Get-VzContainer ($names | Select-Object -First $StopCount) | Stop-VzContainer }
    $stopRest = Measure-Ms { Get-VzContainer | Where-Object State -eq Running | Stop-VzContainer }
    $stillRunning = @(Get-VzContainer | Where-Object State -ne Stopped).Count
    $remove = Measure-Ms { Get-VzContainer | Remove-VzContainer -Force -Confirm:$false }

    $me = Get-Median $engineStart; $mp = Get-Median $peerStart
    $perNewStart = $newStartFirst / $PeerCount; $perPeer = $peerBulk / $PeerCount
    $restCount = [math]::Max(1, $rest.Count)
    '## Density'
    ''
    "Busybox template, $Count containers (64 MiB limit each, no network), one warm pwsh session, crun $((& crun --version | Select-Object -First 1) -replace '^crun version ', ''). Load average (1/5/15 min) $loadBefore before, $(Get-Load) after: other sessions shared the 2 CPUs."
    ''
    '| measure | Virtuozzo | peer (same run) | ratio | target |'
    '| --- | ---: | ---: | ---: | --- |'
    "| single start, median of $Rounds alternating runs (Start-VzContainer vs ``crun run -d`` of the same bundle) | {0:n1} ms | {1:n1} ms | {2:n2} | <= 1.0 |" -f $me, $mp, ($me / $mp)
    "| New+Start of $PeerCount containers one after another vs $PeerCount ``crun run -d`` of prepared bundles | {0:n1} s ({1:n1} ms each) | {2:n1} s ({3:n1} ms each) | {4:n2} | <= 2.0 |" -f ($newStartFirst / 1000), $perNewStart, ($peerBulk / 1000), $perPeer, ($newStartFirst / $peerBulk)
    "| Get-VzContainer with $running running, median of 7 warm | {0:n1} ms (CPU time {1:n1} ms) | | | < 100 ms |" -f (Get-Median $list), (Get-Median $listCpu)
    "| Get-VzContainer -Name one of $running, median of 7 | {0:n1} ms | | | |" -f (Get-Median $listOne)
    "| Get-VzContainer \| Stop-VzContainer of $StopCount running (graceful, SIGUSR2 to busybox init) | {0:n2} s | | | < 10 s |" -f ($stopSome / 1000)
    ''
    '| operation | total | per container |'
    '| --- | ---: | ---: |'
    "| New-VzContainer, $($rest.Count) in a loop (after $PeerCount exist) | {0:n1} s | {1:n1} ms |" -f ($newRest / 1000), ($newRest / $restCount)
    "| Start-VzContainer over the pipeline, $($rest.Count) (default -ThrottleLimit) | {0:n1} s | {1:n1} ms |" -f ($startRest / 1000), ($startRest / $restCount)
    "| Stop-VzContainer over the pipeline, the other $($Count - $StopCount) | {0:n1} s | {1:n1} ms |" -f ($stopRest / 1000), ($stopRest / [math]::Max(1, $Count - $StopCount))
    "| Remove-VzContainer over the pipeline, $Count | {0:n1} s | {1:n1} ms |" -f ($remove / 1000), ($remove / $Count)
    ''
    "$running of $Count containers ran at once; host memory {0:n2} MiB per running container (MemAvailable before and after), {1:n0} KiB of it charged to their memory cgroups. Containers left running after the stops: $stillRunning." -f `
        (($memBefore - $memAfter) / [math]::Max(1, $running) / 1MB), ($inCgroups / [math]::Max(1, $running) / 1KB)
}
finally {
    # Everything goes, whatever failed: peer containers first (their groups sit under the module's parent), then VEs.
    if (Test-Path $state) { foreach ($id in @(& crun --root $state list -q 2>$null)) { if ($id) { Remove-Peer $id } } }
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
    foreach ($hier in Get-ChildItem /sys/fs/cgroup -Directory -ErrorAction SilentlyContinue) {
        $left = Join-Path $hier.FullName $env:VZ_CGROUP_PARENT
        if (Test-Path $left) {
            try { Get-ChildItem $left -Directory -Recurse | Sort-Object { $_.FullName.Length } -Descending | ForEach-Object { [IO.Directory]::Delete($_.FullName) }; [IO.Directory]::Delete($left) }
            catch { Write-Warning "Could not remove the cgroup $left`: $_" }
        }
    }
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item Env:VZ_ROOT, Env:VZ_RUN_ROOT, Env:VZ_HOST_CONFIG, Env:VZ_CGROUP_PARENT -ErrorAction SilentlyContinue
}
