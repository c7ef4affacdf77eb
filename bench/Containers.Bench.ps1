<#
.SYNOPSIS
    Container benchmarks: Start-VzContainer of the busybox template in a warm session against the chosen runtime's
    own `run -d` of the same bundle (same run, medians, ratio), and a density run (N containers started one after
    another: time and host memory per container). Prints a markdown section.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $Rounds = 20,
    [int] $Count = 200
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force

$base = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$env:VZ_ROOT = Join-Path $base 'data'; $env:VZ_RUN_ROOT = Join-Path $base 'run'
$env:VZ_HOST_CONFIG = Join-Path $base 'host.yaml'; $env:VZ_CGROUP_PARENT = 'vzbench-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
$null = New-Item -ItemType Directory $env:VZ_ROOT, $env:VZ_RUN_ROOT -Force

function Get-Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
function Get-MemAvailable { [long]((Get-Content /proc/meminfo | Where-Object { $_ -like 'MemAvailable:*' }) -replace '\D', '') * 1KB }

try {
    $runtime = (Get-VzHost).ContainerRuntime
    if (-not $runtime) { $runtime = 'crun' }
    $ct = New-VzContainer bench0 -MemorySize 64MB
    # Warm up: the first start loads code paths and page cache.
    Start-VzContainer bench0; Stop-VzContainer bench0 -Kill

    $engine = foreach ($i in 1..$Rounds) {
        $t = [Diagnostics.Stopwatch]::StartNew()
        Start-VzContainer bench0
        $t.Stop()
        Stop-VzContainer bench0 -Kill
        $t.Elapsed.TotalMilliseconds
    }

    # The peer: the runtime's own `run -d` of the very bundle the engine wrote (config.json + root), launched the way
    # it must be launched on this host (crun on a hybrid host needs the private mount namespace, as the engine does).
    $bundle = $ct.Path
    $state = Join-Path $base 'peer-state'
    $unified = if ((Get-VzHost).CgroupMode -eq 'Hybrid') { '/sys/fs/cgroup/unified' }
    $peer = foreach ($i in 1..$Rounds) {
        $id = "peer$i"
        $t = [Diagnostics.Stopwatch]::StartNew()
        if ($runtime -eq 'crun' -and $unified) {
            & unshare --mount --propagation slave -- /bin/sh -c 'umount "$0" && exec "$@" </dev/null >/dev/null 2>&1' $unified crun --root $state run -d --bundle $bundle $id
        }
        else { & $runtime --root $state run -d --bundle $bundle $id *> $null }
        $t.Stop()
        if ($LASTEXITCODE -ne 0) { throw "$runtime run -d failed ($LASTEXITCODE)" }
        & $runtime --root $state kill $id KILL 2>$null
        for ($w = 0; $w -lt 100 -and (& $runtime --root $state state $id 2>$null | ConvertFrom-Json).status -ne 'stopped'; $w++) { Start-Sleep -Milliseconds 20 }
        for ($w = 0; $w -lt 50; $w++) { & $runtime --root $state delete --force $id 2>$null; if ($LASTEXITCODE -eq 0) { break }; Start-Sleep -Milliseconds 100 }
        $t.Elapsed.TotalMilliseconds
    }
    Remove-VzContainer bench0 -Force

    # Density: N containers started one after another.
    $names = if ($Count -gt 0) { 1..$Count | ForEach-Object { 'dense{0:d4}' -f $_ } } else { @() }
    foreach ($n in $names) { $null = New-VzContainer $n -MemorySize 64MB }
    [GC]::Collect()
    $before = Get-MemAvailable
    $t = [Diagnostics.Stopwatch]::StartNew()
    foreach ($n in $names) { Start-VzContainer $n }
    $t.Stop()
    Start-Sleep -Seconds 1
    $after = Get-MemAvailable
    $inCgroups = (Get-VzContainer dense* | Measure-Object MemoryCurrent -Sum).Sum
    $densityTime = $t.Elapsed.TotalSeconds
    Get-VzContainer dense* | Stop-VzContainer -Kill
    Get-VzContainer dense* | Remove-VzContainer -Force

    $me = Get-Median $engine; $mp = Get-Median $peer
    '## Containers'
    ''
    "Runtime: $runtime. Busybox template, $Rounds rounds each, medians."
    ''
    '| measure | Virtuozzo | peer | ratio |'
    '| --- | ---: | ---: | ---: |'
    "| start a container (Start-VzContainer vs ``$runtime run -d`` of the same bundle) | {0:n1} ms | {1:n1} ms | {2:n2} |" -f $me, $mp, ($me / $mp)
    ''
    if ($Count -gt 0) { "Density: $Count containers started one after another in {0:n1} s ({1:n1} ms each); host memory {2:n2} MiB per container ({3:n0} KiB of it in their memory cgroups)." -f `
        $densityTime, ($densityTime * 1000 / $Count), (($before - $after) / $Count / 1MB), ($inCgroups / $Count / 1KB) }
}
finally {
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}
