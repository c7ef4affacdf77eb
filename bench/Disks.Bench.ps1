<#
.SYNOPSIS
    Disk benchmarks: Get-VzDisk over many images vs a loop of `qemu-img info --output=json`; New-VzDisk vs
    `qemu-img create`; Test-VzDisk vs `qemu-img check` (same verdicts). Prints a markdown section with medians and
    ratios, every peer measured in the same run.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $ImageCount = 1000,
    [int] $Repeat = 7
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = (Join-Path $Root 'out/Modules') + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Virtuozzo -Force

$work = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-disks-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory -Path $work
function Median([double[]] $values) { $s = $values | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
function Time([scriptblock] $block) { $w = [Diagnostics.Stopwatch]::StartNew(); & $block | Out-Null; $w.Elapsed.TotalMilliseconds }
function Fmt([double] $ms) { if ($ms -ge 1000) { '{0:n2} s' -f ($ms / 1000) } else { '{0:n2} ms' -f $ms } }

try {
    # Many small images that hold some data (a template with writes, copied).
    $list = Join-Path $work 'list'
    $null = New-Item -ItemType Directory -Path $list
    $template = Join-Path $work 'template.qcow2'
    $null = New-VzDisk $template -Size 20GB
    qemu-io -f qcow2 -c 'write -P 1 0 4M' -c 'write -P 2 10G 1M' -c 'write -P 3 19G 2M' $template | Out-Null
    for ($i = 0; $i -lt $ImageCount; $i++) { [IO.File]::Copy($template, (Join-Path $list ('disk{0:d4}.qcow2' -f $i))) }
    $files = [IO.Directory]::GetFiles($list, '*.qcow2')

    $null = Get-VzDisk (Join-Path $list '*.qcow2') # warm
    $ours = Median @(1..$Repeat | ForEach-Object { Time { Get-VzDisk (Join-Path $list '*.qcow2') } })
    # The peer is slow by nature: one pass over every image.
    $peer = Time { foreach ($f in $files) { qemu-img info --output=json $f | ConvertFrom-Json } }
    $listRatio = $peer / $ours

    # Create: per image, a batch of 20 piped into one call vs 20 qemu-img runs (the way scripts make many disks).
    $batch = 20
    $ourCreate = Median @(1..$Repeat | ForEach-Object {
        $run = $_; $paths = 1..$batch | ForEach-Object { Join-Path $work "n$run-$_.qcow2" }
        (Time { $paths | ForEach-Object { [pscustomobject]@{ Path = $_; Size = 100GB } } | New-VzDisk }) / $batch })
    $peerCreate = Median @(1..$Repeat | ForEach-Object {
        $run = $_; $paths = 1..$batch | ForEach-Object { Join-Path $work "q$run-$_.qcow2" }
        (Time { foreach ($p in $paths) { qemu-img create -q -f qcow2 $p 100G } }) / $batch })
    $createRatio = $peerCreate / $ourCreate

    # Check: a clean image with data, and one with leaked clusters; verdicts must agree.
    $clean = Join-Path $work 'check-clean.qcow2'
    $null = New-VzDisk $clean -Size 50GB -ClusterSize 64KB
    qemu-io -f qcow2 -c 'write -P 4 0 256M' -c 'write -P 5 20G 64M' -c 'write -z 30G 1G' $clean | Out-Null
    $leaky = Join-Path $work 'check-leaky.qcow2'
    Copy-Item $clean $leaky
    # Leaked clusters (what a crash with lazy refcounts leaves): counted in use, referenced by nothing.
    $eng = [Virtuozzo.Engine.Qcow2.Qcow2Image]::Open($leaky, $true)
    try { $ref = [Virtuozzo.Engine.Qcow2.Qcow2Image].Assembly.GetType('Virtuozzo.Engine.Qcow2.Qcow2Refcounts'); $r = [Activator]::CreateInstance($ref, @($eng)); $null = $ref.GetMethod('Append').Invoke($r, @([long]3)) }
    finally { $eng.Dispose() }

    $verdicts = foreach ($img in $clean, $leaky) {
        $mine = Test-VzDisk $img
        $null = qemu-img check $img 2>&1; $code = $LASTEXITCODE
        $peerVerdict = switch ($code) { 0 { 'clean' } 3 { 'leaks' } 2 { 'corrupt' } default { "error $code" } }
        $myVerdict = if ($mine.Corruptions) { 'corrupt' } elseif ($mine.Leaks) { 'leaks' } else { 'clean' }
        [pscustomobject]@{ Image = Split-Path $img -Leaf; Ours = $myVerdict; Peer = $peerVerdict }
    }
    $checks = @($clean) * $batch
    $ourCheck = Median @(1..$Repeat | ForEach-Object { (Time { $checks | Test-VzDisk }) / $batch })
    $peerCheck = Median @(1..$Repeat | ForEach-Object { (Time { foreach ($c in $checks) { qemu-img check $c } }) / $batch })
    $checkRatio = $peerCheck / $ourCheck

    '## Disks'
    ''
    "Medians of $Repeat runs (the qemu-img info loop: one pass); create and check are per image, $batch images per call (piped) vs $batch qemu-img runs; images under $([IO.Path]::GetTempPath()). New-VzDisk fsyncs the image and its folder; qemu-img create does not."
    ''
    '| Operation | Virtuozzo | Peer | Peer time | Ratio | Target |'
    '|---|---|---|---|---|---|'
    "| List $ImageCount qcow2 images | ``Get-VzDisk <dir>/*.qcow2``: $(Fmt $ours) | ``qemu-img info --output=json`` loop | $(Fmt $peer) | $('{0:n1}' -f $listRatio)x | >= 50x |"
    "| Create a 100 GiB qcow2 | ``New-VzDisk``: $(Fmt $ourCreate) | ``qemu-img create`` | $(Fmt $peerCreate) | $('{0:n1}' -f $createRatio)x | >= 5x |"
    "| Check a 50 GiB image (320 MiB data) | ``Test-VzDisk``: $(Fmt $ourCheck) | ``qemu-img check`` | $(Fmt $peerCheck) | $('{0:n1}' -f $checkRatio)x | >= 5x |"
    ''
    'Check verdicts (must agree):'
    ''
    '| Image | Test-VzDisk | qemu-img check | Agree |'
    '|---|---|---|---|'
    foreach ($v in $verdicts) { "| $($v.Image) | $($v.Ours) | $($v.Peer) | $(if ($v.Ours -eq $v.Peer) { 'yes' } else { 'NO' }) |" }
}
finally {
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
