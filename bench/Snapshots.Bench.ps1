<#
.SYNOPSIS
    Snapshot and backup benchmarks (issue 15): the guest's freeze-to-thaw window of a live snapshot while it writes;
    a 20-snapshot chain deleted in random order (100 operations, qemu-img check and every remaining snapshot's
    checksum after each); an incremental backup of 100 MiB changed on a 4 GiB disk (bytes written and time);
    restores compared byte for byte; full backup throughput against qemu-img convert of the same disk in the same
    run; and the guest's 4 KiB write latency (p99) during a live backup against the idle baseline. Prints a
    markdown section.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $FreezeRuns = 5,
    [int] $ChainOperations = 100,
    [int] $Restores = 10
)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = (Join-Path $Root 'out/Modules') + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Virtuozzo -Force
$guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root
$base = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-snap-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory -Path "$base/data", "$base/run", "$base/backups", "$base/peer"
$env:VZ_ROOT = "$base/data"; $env:VZ_RUN_ROOT = "$base/run"; $env:VZ_HOST_CONFIG = "$base/host.yaml"
$env:VZ_CGROUP_PARENT = "vzbench-$PID"
function Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
function Percentile([double[]] $v, [double] $p) { $s = @($v | Sort-Object); $s[[int][math]::Min($s.Count - 1, [math]::Ceiling($p / 100 * $s.Count) - 1)] }
function ImageHash([string] $path, [string] $snapshot) {
    $raw = "$base/hash.raw"
    if ($snapshot) { qemu-img convert -U -f qcow2 -O raw -l "snapshot.name=$snapshot" $path $raw } else { qemu-img convert -U -f qcow2 -O raw $path $raw }
    if ($LASTEXITCODE) { throw "qemu-img convert failed ($snapshot)" }
    (Get-FileHash $raw -Algorithm SHA256).Hash
}
$load = { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' }
$rows = [ordered]@{}
try {
    # 1. Freeze-to-thaw of live snapshots while the guest writes a record per sector with fsync.
    $vm = New-VzVm snapvm -MemorySize 256MB -CpuCount 1 -DiskSize 64MB -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments |
        Start-VzVm -Wait -Timeout 300 -PassThru
    $writer = 'i=0; while :; do i=$((i+1)); printf "rec%08d\n" $i | dd of=/dev/vda bs=512 seek=$i conv=notrunc,fsync 2>/dev/null; done'
    $null = Invoke-VzVmCommand snapvm sh -ArgumentList '-c', "sh -c '$writer' >/dev/null 2>&1 </dev/null &" -Timeout 60
    Start-Sleep 2
    $frozen = @(); $wall = @()
    foreach ($n in 1..$FreezeRuns) {
        $w = [Diagnostics.Stopwatch]::StartNew()
        $s = Checkpoint-VzVm snapvm -SnapshotName "f$n" -PassThru
        $wall += $w.Elapsed.TotalMilliseconds
        if ($s.Consistency -ne 'Application') { throw "snapshot f$n is $($s.Consistency)" }
        $frozen += $s.FrozenMilliseconds
    }
    $mem = Checkpoint-VzVm snapvm -SnapshotName m1 -IncludeMemory -PassThru
    $rows.freeze = "| Live snapshot, guest writing: freeze-to-thaw (guest-fsfreeze-freeze reply to thaw reply), $FreezeRuns runs | median $([math]::Round((Median $frozen))) ms, max $([math]::Round(($frozen | Measure-Object -Maximum).Maximum)) ms | <= 1000 ms | Checkpoint-VzVm wall time median $([math]::Round((Median $wall))) ms; with -IncludeMemory (256 MiB guest) the guest was paused $($mem.FrozenMilliseconds) ms |"
    Stop-VzVm snapvm -Kill | Out-Null

    # 2. Chain: 20 snapshots, deleted in random order, rebuilt, ... until $ChainOperations deletes.
    # A small disk: every remaining snapshot is read back and hashed after each delete (~1,500 reads for 100 deletes).
    $null = New-VzVm chainvm -MemorySize 64MB -DiskSize 4MB
    $disk = (Get-VzVm chainvm).Disks[0].Path
    $rand = [Random]::new(15); $expected = @{}; $ops = 0; $failures = 0; $checks = 0; $verified = 0; $seq = 0
    $chainWatch = [Diagnostics.Stopwatch]::StartNew()
    while ($ops -lt $ChainOperations) {
        while ($expected.Count -lt 20) {
            $seq++
            qemu-io -f qcow2 -c ("write -P {0} {1}K 256K" -f (($seq % 250) + 1), (256 * ($seq % 16))) $disk | Out-Null
            Checkpoint-VzVm chainvm -SnapshotName "c$seq"
            $expected["c$seq"] = ImageHash $disk "c$seq"
        }
        $victim = @($expected.Keys)[$rand.Next($expected.Count)]
        try {
            Remove-VzSnapshot chainvm $victim -Confirm:$false
            $expected.Remove($victim); $ops++
            qemu-img check -q $disk; $checks++
            if ($LASTEXITCODE) { $failures++ }
            foreach ($k in @($expected.Keys)) { $verified++; if ((ImageHash $disk $k) -ne $expected[$k]) { $failures++ } }
            if (@((Get-VzSnapshot chainvm).Name).Count -ne $expected.Count) { $failures++ }
        } catch { $failures++; $ops++ }
    }
    $rows.chain = "| 20-snapshot chain, deletes in random order (rebuilt to 20 between) | $ops deletes, $failures failures; $checks qemu-img check clean runs required, $verified snapshot checksums verified | 0 failures in 100 | $([math]::Round($chainWatch.Elapsed.TotalSeconds)) s in all |"
    Remove-VzVm chainvm -Confirm:$false

    # 3. Backups of a 4 GiB disk holding 512 MiB: full (and qemu-img convert of the same disk as the peer), then 100 MiB changed.
    $null = New-VzVm bkvm -MemorySize 64MB -DiskSize 4GB
    $bdisk = (Get-VzVm bkvm).Disks[0].Path
    qemu-io -f qcow2 -c 'write -P 7 0 512M' $bdisk | Out-Null
    $full = Backup-VzVm bkvm -Destination "$base/backups"
    $pw = [Diagnostics.Stopwatch]::StartNew()
    qemu-img convert -f qcow2 -O qcow2 $bdisk "$base/peer/convert.qcow2"
    $peerSec = $pw.Elapsed.TotalSeconds
    $fullMiBps = $full.DataBytes / 1MB / $full.DurationSeconds
    $peerMiBps = (Get-Item "$base/peer/convert.qcow2").Length / 1MB / $peerSec
    Remove-Item "$base/peer/convert.qcow2"
    $rows.full = "| Full backup of a stopped VM, 4 GiB disk with 512 MiB data, to a local folder (uncompressed qcow2) | $('{0:n0}' -f $fullMiBps) MiB/s ($('{0:n1}' -f $full.DurationSeconds) s incl. SHA-256) | >= 150 MiB/s | peer ``qemu-img convert`` of the same disk: $('{0:n0}' -f $peerMiBps) MiB/s, ratio $('{0:n2}' -f ($fullMiBps / $peerMiBps)) |"
    # 100 MiB changed in 1 MiB pieces spread over the disk.
    $cmds = foreach ($k in 0..99) { '-c'; "write -P 9 $($k * 40)M 1M" }
    qemu-io -f qcow2 @cmds $bdisk | Out-Null
    $incWatch = [Diagnostics.Stopwatch]::StartNew()
    $inc = Backup-VzVm bkvm -Destination "$base/backups" -Incremental
    $incSec = $incWatch.Elapsed.TotalSeconds
    $rows.inc = "| Incremental backup, 100 MiB changed on a 4 GiB disk | $('{0:n1}' -f ($inc.DataBytes / 1MB)) MiB written = $('{0:n2}' -f ($inc.DataBytes / 100MB))x the changed bytes, in $('{0:n1}' -f $incSec) s | <= 1.2x, <= 10 s | kind $($inc.Kind) |"

    # 4. Restores of the incremental chain compared with qemu-img compare.
    $same = 0
    foreach ($n in 1..$Restores) {
        $r = $inc | Restore-VzBackup -NewName "rest$n"
        qemu-img compare -q -f qcow2 -F qcow2 $bdisk $r.Disks[0].Path
        if ($LASTEXITCODE -eq 0) { $same++ }
        Remove-VzVm "rest$n" -Confirm:$false
    }
    $rows.restore = "| Restore of full + incremental (4 GiB disk) compared with ``qemu-img compare`` | $same of $Restores byte-identical | 10/10 | |"
    Remove-VzVm bkvm -Confirm:$false
    Get-VzBackup "$base/backups" | Sort-Object CreatedAt -Descending | Remove-VzBackup -Confirm:$false

    # 5. Guest 4 KiB O_DIRECT write latency, idle and while a live full backup of its disk runs.
    try {
    $lat = New-VzVm latvm -MemorySize 256MB -CpuCount 1 -DiskSize 512MB -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments |
        Start-VzVm -Wait -Timeout 300 -PassThru
    $null = Invoke-VzVmCommand latvm sh -ArgumentList '-c', 'dd if=/dev/zero of=/dev/vda bs=1M count=256 seek=128 conv=fsync 2>/dev/null; echo' -Timeout 600
    # busybox date has no %N: the kernel's monotonic clock in ns is the 'now at' line of /proc/timer_list.
    $probe = 'ns() { sed -n "s/^now at \([0-9]*\) nsecs$/\1/p;/^now at/q" /proc/timer_list; }; i=0; while [ $i -lt 150 ]; do s=$(ns); dd if=/dev/zero of=/dev/vda bs=4k count=1 seek=$((i*8)) oflag=direct conv=notrunc 2>/dev/null; e=$(ns); echo $(((e-s)/1000)); i=$((i+1)); done > /run/lat; echo done > /run/latdone'
    $sample = {
        $null = Invoke-VzVmCommand latvm sh -ArgumentList '-c', 'rm -f /run/latdone' -Timeout 60
        $null = Invoke-VzVmCommand latvm sh -ArgumentList '-c', "sh -c '$probe' >/dev/null 2>&1 </dev/null &" -Timeout 60
    }
    $collect = {
        $end = (Get-Date).AddMinutes(10)
        while ((Invoke-VzVmCommand latvm sh -ArgumentList '-c', 'cat /run/latdone 2>/dev/null' -Timeout 60).StdOut.Trim() -ne 'done' -and (Get-Date) -lt $end) { Start-Sleep 1 }
        [double[]]((Invoke-VzVmCommand latvm cat /run/lat -Timeout 60).StdOut -split "`n" | Where-Object { $_ -match '^\d+$' })
    }
    & $sample; $idle = & $collect
    & $sample
    $bw = [Diagnostics.Stopwatch]::StartNew()
    $live = Backup-VzVm latvm -Destination "$base/backups"
    $during = & $collect
    $p99Idle = Percentile $idle 99; $p99During = Percentile $during 99
    $rows.latency = "| Guest 4 KiB O_DIRECT write latency p99, idle vs during a live full backup (512 MiB disk, $('{0:n0}' -f ($live.DataBytes / 1MB)) MiB, $('{0:n1}' -f $live.DurationSeconds) s) | idle $([math]::Round($p99Idle)) us, during $([math]::Round($p99During)) us = $('{0:n2}' -f ($p99During / $p99Idle))x | <= 2x | $($idle.Count)/$($during.Count) samples; the backup overlaps the first part of the probe only (it ends in $('{0:n1}' -f $live.DurationSeconds) s) |"
    Stop-VzVm latvm -Kill | Out-Null
    } catch { $rows.latency = "| Guest 4 KiB write latency p99 during a live backup vs idle | not measured: $($_.Exception.Message) | <= 2x | |" }

    '## Snapshots'
    ''
    "Measured $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC under TCG (no KVM) on 2 cores (load average at the end: $(& $load)). The test guest (busybox + qemu-ga initramfs) has no file system on its disk, so its freeze covers the agent's round trip and the kernel's sync, not a journal flush."
    ''
    '| Measure | Result | Target | Notes |'
    '|---|---|---|---|'
    $rows.Values
}
finally {
    Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue | Out-Null
    Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}
