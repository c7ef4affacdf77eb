<#
.SYNOPSIS
    Density benchmark: a host with hundreds of busybox containers. Creates, starts, lists, stops and removes
    -Count containers in one warm session, with the raw runtime's figures measured in the same run: single starts
    alternating with `crun run -d` of the very same bundle, single VM starts (Start-VzVm -Wait) alternating with the
    very same QEMU command line started by hand up to the guest agent's first answer, and -PeerCount `crun run -d`
    of prepared bundles against New+Start of as many containers. Prints a markdown section. Removes everything it
    made, also on failure.
.NOTES
    Paired runs alternate their order (ABBA: the engine first in odd rounds, the peer first in even ones), so drift in
    the host's load falls on both sides alike; each pair starts from the same state (the container stopped and its
    cgroup gone; the VM's QEMU ended). Medians are reported with the spread (min-max) and the median of the per-pair
    ratios.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $Count = 500,
    [int] $PeerCount = 200,
    [int] $StopCount = 100,
    [int] $Rounds = 12,
    [int] $VmRounds = 14
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
# Median, spread and median of per-pair ratios of two paired series, as one table cell each.
function Format-Pair([double[]] $Ours, [double[]] $Peer, [string] $Unit = 'ms', [double] $Scale = 1) {
    $ratios = for ($i = 0; $i -lt $Ours.Count; $i++) { $Ours[$i] / $Peer[$i] }
    $o = $Ours | Measure-Object -Minimum -Maximum; $p = $Peer | Measure-Object -Minimum -Maximum
    [pscustomobject]@{
        Ours  = '{0:n2} {3} ({1:n2}-{2:n2})' -f ((Get-Median $Ours) / $Scale), ($o.Minimum / $Scale), ($o.Maximum / $Scale), $Unit
        Peer  = '{0:n2} {3} ({1:n2}-{2:n2})' -f ((Get-Median $Peer) / $Scale), ($p.Minimum / $Scale), ($p.Maximum / $Scale), $Unit
        Ratio = '{0:n2} (pairs: {1:n2})' -f ((Get-Median $Ours) / (Get-Median $Peer)), (Get-Median $ratios)
    }
}

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

# The VM peer: the engine's QEMU command line run by hand, timed up to the first answer to guest-ping; then killed.
function Wait-GuestPing([string] $Socket, [int] $TimeoutSeconds = 180) {
    $end = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (Test-Path $Socket)) { if ([DateTime]::UtcNow -gt $end) { throw 'no QGA socket' }; Start-Sleep -Milliseconds 10 }
    $s = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::Unix, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Unspecified)
    $s.Connect([Net.Sockets.UnixDomainSocketEndPoint]::new($Socket))
    $s.ReceiveTimeout = 250
    $ping = [Text.Encoding]::UTF8.GetBytes("{`"execute`":`"guest-ping`"}`n")
    $buf = [byte[]]::new(4096)
    try {
        while ([DateTime]::UtcNow -lt $end) {
            $null = $s.Send($ping)
            try { if ($s.Receive($buf) -gt 0 -and [Text.Encoding]::UTF8.GetString($buf).Contains('"return"')) { return } }
            catch [Net.Sockets.SocketException] { }
        }
        throw 'the guest agent did not answer'
    }
    finally { $s.Dispose() }
}
function Measure-PeerVm([string[]] $QemuArgs, [string] $Dir) {
    Remove-Item "$Dir/*" -Force -ErrorAction SilentlyContinue
    $ms = Measure-Ms {
        & qemu-system-x86_64 @QemuArgs
        if ($LASTEXITCODE -ne 0) { throw "qemu-system-x86_64 failed with $LASTEXITCODE" }
        Wait-GuestPing "$Dir/qga.sock"
    }
    Stop-PeerVm $Dir
    $ms
}
function Stop-PeerVm([string] $Dir) {
    if (-not (Test-Path "$Dir/qemu.pid")) { return }
    $qpid = [int](Get-Content "$Dir/qemu.pid")
    & kill -9 $qpid 2>$null
    while ((Test-Path "/proc/$qpid") -and ((Get-Content "/proc/$qpid/stat" -ErrorAction SilentlyContinue) -notmatch '\) Z ')) { Start-Sleep -Milliseconds 20 }
    Remove-Item "$Dir/qemu.pid" -Force -ErrorAction SilentlyContinue
}

$loadBefore = Get-Load
try {
    # Warm the session (code paths, template build, page cache) with one full cycle.
    $null = New-VzContainer warm -MemorySize 64MB; Start-VzContainer warm; $null = Get-VzContainer; Stop-VzContainer warm -Kill

    # Single starts, paired and alternating (ABBA): Start-VzContainer, and crun run -d of the bundle that start
    # wrote (same root, same cgroup path); each from the same state: stopped, its cgroup and runtime state gone.
    $bundle = (Get-VzContainer warm).Path
    $engineStart = @(); $peerStart = @()
    $loadSingle = Get-Load
    foreach ($i in 1..$Rounds) {
        $engineFirst = $i % 2
        if (-not $engineFirst) { $peerMs = Measure-Ms { Invoke-PeerRun $bundle "single$i" }; Remove-Peer "single$i" }
        $engineStart += Measure-Ms { Start-VzContainer warm }
        Stop-VzContainer warm -Kill
        if ($engineFirst) { $peerMs = Measure-Ms { Invoke-PeerRun $bundle "single$i" }; Remove-Peer "single$i" }
        $peerStart += $peerMs
    }
    $single = Format-Pair $engineStart $peerStart

    # VM starts, paired and alternating (ABBA) the same way: Start-VzVm -Wait, and the very QEMU command line the
    # engine generated (read from its /proc/<pid>/cmdline), started by hand with its own pid file and sockets, up to
    # the guest agent's first answer. The peer is a bare client on one connection that sends guest-ping every
    # 0.25 s and stops at the first reply. Under TCG the guest's boot is most of either figure; both boot the same
    # kernel and initramfs from the same (warm) page cache.
    $guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root
    $vm = New-VzVm densvm -MemorySize 512MB -CpuCount 1 -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
    $probe = Start-VzVm densvm -PassThru
    $qemuArgs = ([IO.File]::ReadAllText("/proc/$($probe.ProcessId)/cmdline")).TrimEnd([char]0).Split([char]0) | Select-Object -Skip 1
    Stop-VzVm densvm -Kill
    $vmRun = Join-Path $env:VZ_RUN_ROOT ($vm.Id.ToString('N').Substring(0, 12))
    $peerVmDir = Join-Path $base 'peer-vm'
    $null = New-Item -ItemType Directory $peerVmDir -Force
    $peerArgs = $qemuArgs | ForEach-Object { $_.Replace($vmRun, $peerVmDir).Replace('console.log', 'peer-console.log') }
    $accel = (Get-VzHost).Accelerator
    $vmOurs = @(); $vmPeer = @()
    $loadVm = Get-Load
    foreach ($i in 1..$VmRounds) {
        $engineFirst = $i % 2
        if (-not $engineFirst) { $peerS = Measure-PeerVm $peerArgs $peerVmDir }
        $vmOurs += Measure-Ms { Start-VzVm densvm -Wait -Timeout 180 }
        Stop-VzVm densvm -Kill
        if ($engineFirst) { $peerS = Measure-PeerVm $peerArgs $peerVmDir }
        $vmPeer += $peerS
    }
    $vmPair = Format-Pair $vmOurs $vmPeer 's' 1000
    Remove-VzVm densvm -Force -Confirm:$false

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

    # Listing, warm (three untimed calls first, then the median of 9): all of them, and one by name.
    foreach ($i in 1..3) { $null = Get-VzContainer }
    $loadList = Get-Load
    $list = @(foreach ($i in 1..9) { Measure-Ms { Get-VzContainer } })
    $listCpu = @(foreach ($i in 1..9) { Measure-CpuMs { Get-VzContainer } })
    $listOne = @(foreach ($i in 1..9) { Measure-Ms { Get-VzContainer $names[[int]($Count / 2)] } })

    # Graceful stop over the pipeline: the first -StopCount, then the rest; then removal.
    $stopSome = Measure-Ms { Get-VzContainer ($names | Select-Object -First $StopCount) | Stop-VzContainer }
    $stopRest = Measure-Ms { Get-VzContainer | Where-Object State -eq Running | Stop-VzContainer }
    $stillRunning = @(Get-VzContainer | Where-Object State -ne Stopped).Count
    $remove = Measure-Ms { Get-VzContainer | Remove-VzContainer -Force -Confirm:$false }

    $perNewStart = $newStartFirst / $PeerCount; $perPeer = $peerBulk / $PeerCount
    $restCount = [math]::Max(1, $rest.Count)
    '## Density'
    ''
    "Measured $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC. Busybox template, $Count containers (64 MiB limit each, no network), one warm pwsh session, crun $((& crun --version | Select-Object -First 1) -replace '^crun version ', ''). Load average (1/5/15 min) $loadBefore before, $(Get-Load) after, and at each timed row as noted: other sessions shared the $([Environment]::ProcessorCount) CPUs, so wall times carry their waits for a CPU (the listing's CPU time does not)."
    ''
    "Paired rows alternate which side goes first (ABBA), start each pair from the same state, and give the median with the spread (min-max); the ratio is of the medians, with the median of the per-pair ratios beside it. The VM pair boots the same test guest (Debian cloud kernel + busybox/qemu-ga initramfs, 512 MiB, 1 vCPU) with the same QEMU arguments from the same warm page cache; under TCG the guest's boot is most of both figures. The engine's QEMU runs in the VM's own cgroup (its CPU limit and weight), the peer's in the bench's."
    ''
    '| measure | Virtuozzo | peer (same run) | ratio | target |'
    '| --- | ---: | ---: | ---: | --- |'
    "| single start, median (min-max) of $Rounds paired runs, alternating (Start-VzContainer vs ``crun run -d`` of the same bundle); load $loadSingle | $($single.Ours) | $($single.Peer) | $($single.Ratio) | <= 1.0 |"
    "| VM start to the guest agent's first answer, median (min-max) of $VmRounds paired runs, alternating ($accel; Start-VzVm -Wait vs the same QEMU command line by hand + guest-ping every 0.25 s); load $loadVm | $($vmPair.Ours) | $($vmPair.Peer) | $($vmPair.Ratio) | <= 1.05 |"
    "| New+Start of $PeerCount containers one after another vs $PeerCount ``crun run -d`` of prepared bundles | {0:n1} s ({1:n1} ms each) | {2:n1} s ({3:n1} ms each) | {4:n2} | <= 2.0 |" -f ($newStartFirst / 1000), $perNewStart, ($peerBulk / 1000), $perPeer, ($newStartFirst / $peerBulk)
    "| Get-VzContainer with $running running, median (min-max) of 9 warm; load $loadList | {0:n1} ms ({2:n1}-{3:n1}; CPU time {1:n1} ms) | | | < 100 ms |" -f (Get-Median $list), (Get-Median $listCpu), ($list | Measure-Object -Minimum).Minimum, ($list | Measure-Object -Maximum).Maximum
    "| Get-VzContainer -Name one of $running, median of 9 | {0:n1} ms | | | |" -f (Get-Median $listOne)
    "| Get-VzContainer \| Stop-VzContainer of $StopCount running (graceful, SIGUSR2 to busybox init) | {0:n2} s | | | < 10 s |" -f ($stopSome / 1000)
    ''
    '| operation | total | per container |'
    '| --- | ---: | ---: |'
    "| New-VzContainer, $($rest.Count) in a loop (after $PeerCount exist) | {0:n1} s | {1:n1} ms |" -f ($newRest / 1000), ($newRest / $restCount)
    "| Start-VzContainer over the pipeline, $($rest.Count) (default -ThrottleLimit) | {0:n1} s | {1:n1} ms |" -f ($startRest / 1000), ($startRest / $restCount)
    "| Stop-VzContainer over the pipeline, the other $($Count - $StopCount) | {0:n1} s | {1:n1} ms |" -f ($stopRest / 1000), ($stopRest / [math]::Max(1, $Count - $StopCount))
    "| Remove-VzContainer over the pipeline, $Count | {0:n1} s | {1:n1} ms |" -f ($remove / 1000), ($remove / $Count)
    ''
    $perHost = ($memBefore - $memAfter) / [math]::Max(1, $running); $perCgroup = $inCgroups / [math]::Max(1, $running)
    # MemAvailable is host-wide: other sessions starting or stopping VMs meanwhile move it by more than 500 busybox
    # containers take, so a difference below what the containers' own cgroups hold is said to be unusable.
    $swamped = if ($perHost -lt $perCgroup) { ' (other sessions freed memory between the two readings, so this difference is unusable; the cgroup charge is the measured part)' } else { '' }
    "$running of $Count containers ran at once; host memory {0:n2} MiB per running container (MemAvailable before and after){2}, {1:n0} KiB charged to their memory cgroups. Containers left running after the stops: $stillRunning." -f ($perHost / 1MB), ($perCgroup / 1KB), $swamped
}
finally {
    # Everything goes, whatever failed: peer containers first (their groups sit under the module's parent), then VEs.
    if (Test-Path $state) { foreach ($id in @(& crun --root $state list -q 2>$null)) { if ($id) { Remove-Peer $id } } }
    Stop-PeerVm (Join-Path $base 'peer-vm')
    Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
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
