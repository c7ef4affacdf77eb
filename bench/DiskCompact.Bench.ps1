<#
.SYNOPSIS
    Compact benchmark: Optimize-VzDisk (trim every file system in the image, then rewrite it) vs `qemu-img convert`
    alone (what compacting did before: it drops only clusters the guest already zeroed or discarded). The image has
    an ext4 partition and an LVM volume group with an XFS logical volume, each holding a deleted file. Prints a
    markdown section: space given back, time, each against the peer measured in the same run. Needs root.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $DeletedMiB = 400
)
$ErrorActionPreference = 'Stop'
$work = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-compact-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory -Path $work
# A private data and run root: the compact's mounts and loop devices live under it, nothing host-wide.
$env:VZ_ROOT = Join-Path $work 'data'; $env:VZ_RUN_ROOT = Join-Path $work 'run'; $env:VZ_HOST_CONFIG = Join-Path $work 'host.json'
$env:PSModulePath = (Join-Path $Root 'out/Modules') + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module Virtuozzo -Force
$env:LVM_SUPPRESS_FD_WARNINGS = '1'
$lvm = @('--config', 'global/activation=0')
function Time([scriptblock] $block) { $w = [Diagnostics.Stopwatch]::StartNew(); & $block | Out-Null; $w.Elapsed.TotalMilliseconds }
function Fmt([double] $ms) { if ($ms -ge 1000) { '{0:n2} s' -f ($ms / 1000) } else { '{0:n0} ms' -f $ms } }
function MiB([long] $b) { '{0:n1} MiB' -f ($b / 1MB) }
function Allocated([string] $p) { (Get-VzDisk $p).ActualSize }

try {
    $load = (Get-Content /proc/loadavg).Split(' ')[0]
    $half = [int]($DeletedMiB / 2)
    $raw = Join-Path $work 'bench.raw'
    $null = & truncate -s 1600M $raw
    "label: gpt`n,500M,L`n,,L`n" | sfdisk -q $raw
    $parts = (sfdisk -J $raw | ConvertFrom-Json).partitiontable.partitions
    $p1 = losetup --find --show --offset ($parts[0].start * 512) --sizelimit ($parts[0].size * 512) $raw
    $pv = losetup --find --show --offset ($parts[1].start * 512) --sizelimit ($parts[1].size * 512) $raw
    $vg = 'vzbench' + [guid]::NewGuid().ToString('N').Substring(0, 6)
    $mnt = Join-Path $work 'mnt'
    $null = New-Item -ItemType Directory $mnt
    try {
        mkfs.ext4 -q $p1
        $null = & lvm pvcreate @lvm -q --devices $pv $pv 2>&1
        $null = & lvm vgcreate @lvm -q --devices $pv $vg $pv 2>&1
        $null = & lvm lvcreate @lvm -q --devices $pv -an -Zn -L 900M -n data $vg 2>&1
        $peStart = [long]((& lvm pvs @lvm --devices $pv --noheadings --units b --nosuffix -o pe_start $pv 2>$null) -join '').Trim()
        $lv = losetup --find --show --offset $peStart --sizelimit 900MB $pv
        try {
            mkfs.xfs -q $lv
            foreach ($dev in $p1, $lv) {
                $opt = if ($dev -eq $lv) { 'nouuid' } else { 'defaults' }
                mount -o $opt $dev $mnt
                dd if=/dev/urandom "of=$mnt/keep.bin" bs=1M count=16 status=none
                dd if=/dev/urandom "of=$mnt/big.bin" bs=1M "count=$half" status=none conv=fsync
                umount $mnt
                mount -o $opt $dev $mnt; Remove-Item "$mnt/big.bin"; umount $mnt
            }
        }
        finally { losetup -d $lv }
    }
    finally { losetup -d $pv; losetup -d $p1 }
    $ours = Join-Path $work 'ours.qcow2'; $peer = Join-Path $work 'peer.qcow2'
    qemu-img convert -O qcow2 $raw $ours
    Copy-Item $ours $peer
    Remove-Item $raw
    $before = Allocated $ours

    $peerOut = Join-Path $work 'peer-compact.qcow2'
    $peerMs = Time { qemu-img convert -O qcow2 $peer $peerOut }
    $peerAfter = Allocated $peerOut
    $report = $null
    $ourMs = Time { $script:report = Optimize-VzDisk $ours -Confirm:$false }
    $ourAfter = $script:report.BytesAfter
    $deleted = [long]$DeletedMiB * 1MB

    '## Disk compact'
    ''
    ("One run (each compact changes its image); a 1.6 GiB qcow2 image: an ext4 partition and an LVM volume group with an XFS logical volume, each with 16 MiB kept and {0} MiB written and deleted again ({1} MiB deleted in all, still allocated in the image). Load average at the start: {2} (other helpers' tests share the machine)." -f $half, $DeletedMiB, $load)
    ''
    '| Compact | Allocated before | Allocated after | Deleted data given back | Time |'
    '|---|---|---|---|---|'
    ('| `Optimize-VzDisk` (trim + rewrite) | {0} | {1} | {2:p1} | {3} |' -f (MiB $before), (MiB $ourAfter), (($before - $ourAfter) / $deleted), (Fmt $ourMs))
    ('| `qemu-img convert` alone (peer) | {0} | {1} | {2:p1} | {3} |' -f (MiB $before), (MiB $peerAfter), (($before - $peerAfter) / $deleted), (Fmt $peerMs))
    ''
    ('Optimize-VzDisk leaves {0:n1}x less allocated than the peer, in {1:n1}x its time (the trim mounts each file system; target: >= 90 % of the deleted data given back).' -f ($peerAfter / [math]::Max(1, $ourAfter)), ($ourMs / $peerMs))
}
finally {
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
    Remove-Item Env:LVM_SUPPRESS_FD_WARNINGS -ErrorAction SilentlyContinue
}
