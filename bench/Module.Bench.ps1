<#
.SYNOPSIS
    Module benchmarks: Import-Module of the laid-out module (warm, fresh pwsh processes) against 'pwsh -c exit', and
    listing a 1,000-VE registry through the engine against Get-ChildItem of the same folders.
.DESCRIPTION
    Prints a markdown section for docs/BENCHMARKS.md (build.ps1 -Task Bench adds the machine header). Every ratio
    compares against a peer measured in the same run. Targets: Import-Module < 400 ms; listing 1,000 stopped VEs
    < 150 ms warm. Get-VzContainer / Get-VzVm rows are measured when the module exports them.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $Runs = 15,
    [int] $VeCount = 1000,
    [int] $ListRuns = 20
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$psd1 = Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1'
if (-not (Test-Path $psd1)) { throw "Lay out the module first (build.ps1 -Task Build,Layout): $psd1 is missing." }
$pwsh = if (Test-Path (Join-Path $PSHOME 'pwsh')) { Join-Path $PSHOME 'pwsh' } else { (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source }

function Get-Median([double[]] $Values) {
    $s = $Values | Sort-Object
    if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
}

function Measure-Process([string[]] $Arguments) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $out = & $pwsh @Arguments
    if ($LASTEXITCODE -ne 0) { throw "pwsh $($Arguments -join ' ') failed: $out" }
    [pscustomobject]@{ WallMs = $sw.Elapsed.TotalMilliseconds; Output = $out }
}

# --- Import-Module, warm: one throwaway round fills the page cache and the JIT's disk caches, then $Runs rounds,
# interleaved so both sides see the same machine load.
$escaped = $psd1 -replace "'", "''"
$importScript = "`$sw = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$escaped'; `$sw.Elapsed.TotalMilliseconds; exit"
$null = Measure-Process @('-NoProfile', '-NonInteractive', '-Command', $importScript)
$null = Measure-Process @('-NoProfile', '-NonInteractive', '-Command', 'exit')
$peer = [Collections.Generic.List[double]]::new(); $withImport = [Collections.Generic.List[double]]::new(); $inProcess = [Collections.Generic.List[double]]::new()
for ($i = 0; $i -lt $Runs; $i++) {
    $peer.Add((Measure-Process @('-NoProfile', '-NonInteractive', '-Command', 'exit')).WallMs)
    $m = Measure-Process @('-NoProfile', '-NonInteractive', '-Command', $importScript)
    $withImport.Add($m.WallMs)
    $inProcess.Add([double]::Parse((@($m.Output)[-1]).ToString(), [Globalization.CultureInfo]::InvariantCulture))
}
$peerMs = Get-Median $peer; $withMs = Get-Median $withImport; $importMs = Get-Median $inProcess

# --- A 1,000-VE registry: stopped VEs registered through the engine, in a temporary data root.
$temp = Join-Path ([IO.Path]::GetTempPath()) "vz-bench-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
$listing = $null
try {
    $null = New-Item -ItemType Directory -Path (Join-Path $temp 'data'), (Join-Path $temp 'run')
    $listScript = {
        param($psd1, $count, $runs, $data, $run)
        $env:VZ_ROOT = $data; $env:VZ_RUN_ROOT = $run; $env:VZ_HOST_CONFIG = Join-Path (Split-Path $data) 'host.yaml'
        Import-Module $psd1
        $store = [Virtuozzo.Engine.VzEngine]::new([Virtuozzo.Engine.Configuration.VzPaths]::Resolve($null), $null).Store
        $create = [Diagnostics.Stopwatch]::StartNew()
        for ($i = 0; $i -lt $count; $i++) {
            $c = [Virtuozzo.Engine.Store.VeConfig]::new()
            $c.Name = 've{0:d4}' -f $i
            $c.Memory.MemorySize = 256MB
            if ($i % 2) { $c.Type = 'VirtualMachine'; $c.Vm = [Virtuozzo.Engine.Store.VmSettings]::new() }
            else { $c.Type = 'Container'; $c.Container = [Virtuozzo.Engine.Store.ContainerSettings]::new(); $c.Container.Template = 'busybox' }
            $r = $store.BeginCreate($c, [Threading.CancellationToken]::None)
            $store.CompleteCreation($r.Id)
        }
        $createMs = $create.Elapsed.TotalMilliseconds
        $private = Join-Path $data 'private'
        function Measure-Warm([scriptblock] $Block, [int] $N) {
            $null = & $Block; $null = & $Block  # warm: caches filled, code jitted
            $t = foreach ($k in 1..$N) { $sw = [Diagnostics.Stopwatch]::StartNew(); $null = & $Block; $sw.Elapsed.TotalMilliseconds }
            ($t | Sort-Object)[[int][math]::Floor($N / 2)]
        }
        $listed = $store.List().Count
        $result = [ordered]@{
            Count = $listed; CreateMs = $createMs
            StoreList = Measure-Warm { $store.List() } $runs
            GetChildItem = Measure-Warm { Get-ChildItem -LiteralPath $private -Recurse -Filter ve.yaml } $runs
            GetVzContainer = $null; GetVzVm = $null
        }
        if (Get-Command Get-VzContainer -Module Virtuozzo -ErrorAction Ignore) { $result.GetVzContainer = Measure-Warm { Get-VzContainer } $runs }
        if (Get-Command Get-VzVm -Module Virtuozzo -ErrorAction Ignore) { $result.GetVzVm = Measure-Warm { Get-VzVm } $runs }
        [pscustomobject]$result | ConvertTo-Json -Compress
    }
    $json = & $pwsh -NoProfile -NonInteractive -Command "& { $listScript } '$escaped' $VeCount $ListRuns '$(Join-Path $temp 'data')' '$(Join-Path $temp 'run')'"
    if ($LASTEXITCODE -ne 0) { throw "The listing benchmark failed: $json" }
    $listing = @($json)[-1] | ConvertFrom-Json
}
finally { Remove-Item $temp -Recurse -Force -ErrorAction SilentlyContinue }

function Format-Row([string] $What, $Ms, [double] $PeerMs, [string] $PeerName, [string] $Target) {
    if ($null -eq $Ms) { return "| $What | not in this build | $PeerName | | $Target |" }
    '| {0} | {1:n1} ms | {2}: {3:n1} ms | {4:n2}x | {5} |' -f $What, $Ms, $PeerName, $PeerMs, ($Ms / $PeerMs), $Target
}
$gci = [double]$listing.GetChildItem
@(
    '## Module'
    ''
    "Import-Module of the laid-out module in fresh pwsh processes (warm, $Runs runs, medians); listing a registry of $($listing.Count) stopped VEs (half containers, half VMs) registered through the engine ($ListRuns runs, medians, warm)."
    ''
    '| Measurement | Median | Peer (same run) | Ratio | Target |'
    '| --- | --- | --- | --- | --- |'
    ('| Import-Module Virtuozzo (inside the process) | {0:n1} ms | | | < 400 ms |' -f $importMs)
    (Format-Row 'pwsh -c "Import-Module; exit" (process wall time)' $withMs $peerMs 'pwsh -c exit' 'import adds < 400 ms')
    ('| Import cost (difference of the two wall times) | {0:n1} ms | | | < 400 ms |' -f ($withMs - $peerMs))
    (Format-Row "VeStore.List(), $($listing.Count) VEs" ([double]$listing.StoreList) $gci 'Get-ChildItem -Recurse of the same folders' '< 150 ms')
    (Format-Row "Get-VzContainer, $($listing.Count)-VE registry" $listing.GetVzContainer $gci 'Get-ChildItem -Recurse of the same folders' '< 150 ms')
    (Format-Row "Get-VzVm, $($listing.Count)-VE registry" $listing.GetVzVm $gci 'Get-ChildItem -Recurse of the same folders' '< 150 ms')
    ''
    ('Registering the {0} VEs through the engine (BeginCreate + CompleteCreation, each an fsynced write) took {1:n0} ms.' -f $listing.Count, $listing.CreateMs)
)
