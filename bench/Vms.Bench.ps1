<#
.SYNOPSIS
    VM start benchmark: Start-VzVm -Wait (launch + guest agent answering) against the same QEMU command line started
    by hand and polled with guest-ping, in the same run, alternating. Prints a markdown section with medians and the
    ratio (target: at most 1.1).
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $Runs = 3
)
$ErrorActionPreference = 'Stop'
$guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root
$base = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-vms-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory -Path "$base/data", "$base/run", "$base/peer" -Force
$env:VZ_ROOT = "$base/data"; $env:VZ_RUN_ROOT = "$base/run"; $env:VZ_HOST_CONFIG = "$base/host.yaml"
$env:VZ_CGROUP_PARENT = "vzbench-$PID"
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force

function Wait-GuestPing([string] $Socket, [int] $TimeoutSeconds = 120) {
    # The peer: a bare QGA client that sends guest-ping every 0.25 s until any reply arrives.
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

$vm = New-VzVm benchvm -MemorySize 512MB -CpuCount 1 -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
# The peer runs QEMU's exact arguments, with its own pid file and sockets.
$probe = Start-VzVm benchvm -PassThru
$qemuArgs = ([IO.File]::ReadAllText("/proc/$($probe.ProcessId)/cmdline")).TrimEnd([char]0).Split([char]0) | Select-Object -Skip 1
Stop-VzVm benchvm -Kill
$runDir = Join-Path $env:VZ_RUN_ROOT ($vm.Id.ToString('N').Substring(0, 12))
$peerArgs = $qemuArgs | ForEach-Object { $_.Replace($runDir, "$base/peer").Replace('console.log', 'peer-console.log') }

$ours = [Collections.Generic.List[double]]::new()
$peer = [Collections.Generic.List[double]]::new()
try {
    for ($i = 0; $i -lt $Runs; $i++) {
        $w = [Diagnostics.Stopwatch]::StartNew()
        $null = Start-VzVm benchvm -Wait -Timeout 120
        $ours.Add($w.Elapsed.TotalSeconds)
        Stop-VzVm benchvm -Kill

        Remove-Item "$base/peer/*" -Force -ErrorAction SilentlyContinue
        $w = [Diagnostics.Stopwatch]::StartNew()
        & qemu-system-x86_64 @peerArgs
        if ($LASTEXITCODE -ne 0) { throw "qemu-system-x86_64 failed with $LASTEXITCODE" }
        Wait-GuestPing "$base/peer/qga.sock"
        $peer.Add($w.Elapsed.TotalSeconds)
        $qpid = [int](Get-Content "$base/peer/qemu.pid")
        & kill -9 $qpid
        while ((Test-Path "/proc/$qpid") -and ((Get-Content "/proc/$qpid/stat" -ErrorAction SilentlyContinue) -notmatch '\) Z ')) { Start-Sleep -Milliseconds 20 }
    }
}
finally {
    Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    if (Test-Path "$base/peer/qemu.pid") { & kill -9 ([int](Get-Content "$base/peer/qemu.pid")) 2>$null }
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}

function Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
$mo = Median $ours; $mp = Median $peer
@(
    '## Virtual machines'
    ''
    "Test guest (Debian cloud kernel + busybox/qemu-ga initramfs, 512 MiB, 1 vCPU) under $((Get-VzHost).Accelerator); $Runs runs each, alternating."
    ''
    '| measurement | Virtuozzo | peer | ratio (target <= 1.1) |'
    '| --- | ---: | ---: | ---: |'
    ('| launch until the guest agent answers: Start-VzVm -Wait vs the same QEMU command line by hand + guest-ping | {0:N2} s | {1:N2} s | {2:N2} |' -f $mo, $mp, ($mo / $mp))
)

# Listing: Get-VzVm over many stopped VMs (config files and /proc only) against reading the same ve.yaml files raw.
$base2 = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-vmlist-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$env:VZ_ROOT = "$base2/data"; $env:VZ_RUN_ROOT = "$base2/run"
try {
    1..1000 | ForEach-Object { $null = New-VzVm ("list{0:d4}" -f $_) -MemorySize 256MB }
    $null = Get-VzVm   # warm: configs cached by file identity
    $listOurs = 1..5 | ForEach-Object { (Measure-Command { $null = Get-VzVm }).TotalMilliseconds }
    $listPeer = 1..5 | ForEach-Object { (Measure-Command { $null = [IO.Directory]::GetFiles("$base2/data/private", 've.yaml', [IO.SearchOption]::AllDirectories) | ForEach-Object { [IO.File]::ReadAllText($_) } }).TotalMilliseconds }
    $lo = Median $listOurs; $lp = Median $listPeer
    ('| Get-VzVm over 1,000 stopped VMs (warm) vs reading their 1,000 ve.yaml files raw | {0:N0} ms | {1:N0} ms | {2:N2} |' -f $lo, $lp, ($lo / $lp))
}
finally { Remove-Item $base2 -Recurse -Force -ErrorAction SilentlyContinue }
