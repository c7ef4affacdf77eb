<#
.SYNOPSIS
    Shared folder metadata benchmark: in one test guest (generic Debian kernel, which has both virtio-fs and 9p) with
    two shares, unpack a tar of 5,000 small files into the share and list the tree (find + ls -lR), over virtio-fs
    and over 9p, alternating, in the same run. Prints a markdown section with medians and the 9p / virtio-fs ratio
    (the reference's target: virtio-fs at least 5x faster on metadata).
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $Runs = 2,
    [int] $Files = 5000
)
$ErrorActionPreference = 'Stop'
$guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root -Flavour Generic
$base = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-sf-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory -Path "$base/data", "$base/run", "$base/vfs", "$base/p9", "$base/tree" -Force
$env:VZ_ROOT = "$base/data"; $env:VZ_RUN_ROOT = "$base/run"; $env:VZ_HOST_CONFIG = "$base/host.yaml"
$env:VZ_CGROUP_PARENT = "vzbench-$PID"
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force

# The tree: $Files files of 100 bytes in folders of 100, as a tar in each share (the guest reads it through the share too).
$perDir = 100
for ($d = 0; $d -lt [math]::Ceiling($Files / $perDir); $d++) {
    $dir = [IO.Directory]::CreateDirectory("$base/tree/d$d").FullName
    for ($f = 0; $f -lt [math]::Min($perDir, $Files - $d * $perDir); $f++) { [IO.File]::WriteAllText("$dir/f$f.txt", 'x' * 100) }
}
& tar -cf "$base/vfs/tree.tar" -C "$base/tree" .
if ($LASTEXITCODE -ne 0) { throw 'tar failed' }
Copy-Item "$base/vfs/tree.tar" "$base/p9/tree.tar"

# Times come from the guest's /proc/uptime (10 ms steps), so the agent round trips are not counted.
$workload = 'D=$1; rm -rf $D/work; mkdir $D/work; sync; t0=$(cut -d" " -f1 /proc/uptime); tar -xf $D/tree.tar -C $D/work; t1=$(cut -d" " -f1 /proc/uptime); n=$(find $D/work -type f | wc -l); ls -lR $D/work >/dev/null; t2=$(cut -d" " -f1 /proc/uptime); echo $t0 $t1 $t2 $n'
$timings = @{ vfs = [Collections.Generic.List[object]]::new(); p9 = [Collections.Generic.List[object]]::new() }
$load = (Get-Content /proc/loadavg).Split(' ')[0]
try {
    $null = New-VzVm benchsf -MemorySize 512MB -CpuCount 1 -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
    Add-VzSharedFolder benchsf "$base/vfs" vfs -Transport VirtioFs
    Add-VzSharedFolder benchsf "$base/p9" p9 -Transport NineP
    $null = Start-VzVm benchsf -Wait -Timeout 300
    $m = Invoke-VzVmCommand benchsf sh -ArgumentList '-c', 'mkdir -p /mnt/vfs /mnt/p9 && mount -t virtiofs vfs /mnt/vfs && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 p9 /mnt/p9' -Timeout 120
    if ($m.ExitCode -ne 0) { throw "mounting the shares failed: $($m.StdErr)" }
    for ($i = 0; $i -lt $Runs; $i++) {
        foreach ($kind in 'vfs', 'p9') {
            $r = Invoke-VzVmCommand benchsf sh -ArgumentList '-c', $workload, 'bench', "/mnt/$kind" -Timeout 3600
            if ($r.ExitCode -ne 0) { throw "the $kind workload failed: $($r.StdErr)" }
            $t = [double[]]($r.StdOut.Trim() -split ' ' | Select-Object -First 3)
            $n = [int]($r.StdOut.Trim() -split ' ')[3]
            if ($n -ne $Files) { throw "the $kind tree holds $n files, not $Files" }
            $timings[$kind].Add([pscustomobject]@{ Unpack = $t[1] - $t[0]; List = $t[2] - $t[1] })
        }
    }
}
finally {
    Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}

function Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
$vu = Median $timings.vfs.Unpack; $vl = Median $timings.vfs.List
$pu = Median $timings.p9.Unpack; $pl = Median $timings.p9.List
@(
    '## Shared folders'
    ''
    "One test guest (Debian generic kernel + busybox/qemu-ga initramfs, 512 MiB, 1 vCPU) under $((Get-VzHost).Accelerator) with two shares: virtio-fs (QEMU 7.2's virtiofsd, cache=auto) and 9p (virtio-9p-pci, security_model=passthrough, msize 256 KiB). Workload: busybox tar unpacks $('{0:N0}' -f $Files) files of 100 bytes (in folders of 100) into the share, then find and ls -lR list the tree. Guest-side times (/proc/uptime), median of $Runs runs each, alternating; host load average $load at the start (other work shares the machine's $([Environment]::ProcessorCount) CPUs)."
    ''
    '| measurement | virtio-fs | 9p (peer) | 9p / virtio-fs (target >= 5) |'
    '| --- | ---: | ---: | ---: |'
    ('| unpack {0:N0} small files | {1:N2} s | {2:N2} s | {3:N1} |' -f $Files, $vu, $pu, ($pu / [math]::Max($vu, 0.01)))
    ('| list the tree (find + ls -lR) | {0:N2} s | {1:N2} s | {2:N1} |' -f $vl, $pl, ($pl / [math]::Max($vl, 0.01)))
    ('| both | {0:N2} s | {1:N2} s | {2:N1} |' -f ($vu + $vl), ($pu + $pl), (($pu + $pl) / [math]::Max($vu + $vl, 0.01)))
)
