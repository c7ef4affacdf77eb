<#
.SYNOPSIS
    cgroup v2 memory guarantee under pressure, measured inside the pure v2 test host (a TCG guest booted with
    cgroup_no_v1=all): a container of 256 MiB holding a 200 MiB working set, with -MemGuarantee 50 and then the same
    container restarted with 0, while a hog outside the `vz` group writes more than the guest's free memory into tmpfs (the
    guest has a 2 GiB swap disk). Reports what stayed resident each time. Prints a markdown section.
#>
param([Parameter(Mandatory)][string] $Root)
$ErrorActionPreference = 'Stop'
$r = & (Join-Path $Root 'tools/testguest/Invoke-VzCgroupV2Host.ps1') -Root $Root -Category CgroupV2Bench -MemoryMB 2048 -TimeoutSeconds 900
if ($r.Failed -gt 0 -or -not $r.Measurements) {
    $why = ($r.Tests | Where-Object Outcome -ne Passed | ForEach-Object { ($_.Message -split "`n")[0] }) -join '; '
    throw "The cgroup v2 memory benchmark failed: $why"
}
$m = $r.Measurements
function Row([string] $label, [string] $key) {
    "| $label | $($m."$key.lowMiB") MiB (vz parent: $($m."$key.parentLowMiB") MiB) | $($m."$key.beforeMiB") MiB | $($m."$key.hogMiB") MiB | **$($m."$key.residentMiB") MiB** | $($m."$key.swapMiB") MiB | $($m."$key.seconds") s |"
}
$held = [int]$m.'guarantee50.residentMiB' -ge 120
@"
## cgroup v2: memory guarantee under host pressure

Inside the cgroup v2 test host (TCG guest, $($m.memTotalMiB) MiB RAM, 2 GiB swap disk, cgroup_no_v1=all): one busybox
container, ``-MemorySize 256MB -SwapSize 256MB``, with a 200 MiB working set on tmpfs (shmem charged to its group).
A hog in its own group beside ``vz`` writes MemAvailable + 768 MiB into tmpfs, which forces global reclaim into swap.
The same container is measured with ``-MemGuarantee 50``, then restarted with ``-MemGuarantee 0`` and measured the same way.

| guarantee | memory.low (and on the vz parent) | resident before | hog wrote | resident under pressure | swapped out | hog time |
| --- | --- | --- | --- | --- | --- | --- |
$(Row '50 %' 'guarantee50')
$(Row '0 %' 'guarantee0')

With the guarantee the container kept $($m.'guarantee50.residentMiB') MiB resident ($(if ($held) { 'at least 120 MiB: holds' } else { 'below 120 MiB: does NOT hold' })); without it, $($m.'guarantee0.residentMiB') MiB.
"@
