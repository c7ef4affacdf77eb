<#
.SYNOPSIS
    Network adapter benchmarks: how long Add-VzNetworkAdapter and Remove-VzNetworkAdapter take on a running container
    (a veth made, moved into its namespace, addressed; deleted) and on a running TCG VM (netdev_add + device_add until the
    guest agent lists the new interface; device_del until DEVICE_DELETED + netdev_del). Peers, measured in the same run:
    the same add and remove on the stopped container (the config write and checks alone), and a link toggle
    (Set-VzNetworkAdapter -Connected) on the running VM. Prints a markdown section.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $ContainerRounds = 10,
    [int] $VmRounds = 3
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force

$tag = [guid]::NewGuid().ToString('N').Substring(0, 6)
$base = Join-Path ([IO.Path]::GetTempPath()) "vz-bench-$tag"
$env:VZ_ROOT = Join-Path $base 'data'; $env:VZ_RUN_ROOT = Join-Path $base 'run'
$env:VZ_HOST_CONFIG = Join-Path $base 'host.yaml'; $env:VZ_CGROUP_PARENT = "vzbench-$tag"
$null = New-Item -ItemType Directory $env:VZ_ROOT, $env:VZ_RUN_ROOT -Force
$table = "vz_vzbench_$tag"

function Get-Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
function Measure-Ms([scriptblock] $Block) { $sw = [Diagnostics.Stopwatch]::StartNew(); $null = & $Block; $sw.Elapsed.TotalMilliseconds }

try {
    New-VzNetwork "nb$tag" -Type Private -Bridge "vzbn$tag" | Out-Null
    $null = New-VzContainer nbct -MemorySize 64MB

    # Peer first: the stopped container (config and checks only).
    $coldAdd = @(); $coldRemove = @()
    foreach ($i in 1..$ContainerRounds) {
        $coldAdd += Measure-Ms { Add-VzNetworkAdapter nbct -Network "nb$tag" -Name eth1 -IpAddress 198.19.38.2/24 }
        $coldRemove += Measure-Ms { Remove-VzNetworkAdapter nbct eth1 -Confirm:$false }
    }
    Start-VzContainer nbct
    $ctAdd = @(); $ctRemove = @()
    foreach ($i in 1..$ContainerRounds) {
        $ctAdd += Measure-Ms { Add-VzNetworkAdapter nbct -Network "nb$tag" -Name eth1 -IpAddress 198.19.38.2/24 }
        if (-not (Get-VzNetworkAdapter nbct eth1).Active) { throw 'The hot-added veth is not there.' }
        $ctRemove += Measure-Ms { Remove-VzNetworkAdapter nbct eth1 -Confirm:$false }
    }

    $guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root
    $null = New-VzVm nbvm -MemorySize 256MB -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
    Start-VzVm nbvm -Wait -Timeout 300
    $vmAdd = @(); $vmSeen = @(); $vmRemove = @(); $toggle = @()
    foreach ($i in 1..$VmRounds) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $a = Add-VzNetworkAdapter nbvm -Network "nb$tag" -Name eth1 -PassThru
        $vmAdd += $sw.Elapsed.TotalMilliseconds
        $mac = $a.MacAddress.ToLowerInvariant()
        while (-not (Get-VzVmGuestNetwork nbvm -Timeout 60 | Where-Object { $_.MacAddress -eq $mac })) {
            if ($sw.Elapsed.TotalSeconds -gt 180) { throw 'The guest did not see the hot-added adapter within 180 s.' }
            Start-Sleep -Milliseconds 200
        }
        $vmSeen += $sw.Elapsed.TotalMilliseconds
        $toggle += Measure-Ms { Set-VzNetworkAdapter nbvm eth1 -Connected $false; Set-VzNetworkAdapter nbvm eth1 -Connected $true }
        $vmRemove += Measure-Ms { Remove-VzNetworkAdapter nbvm eth1 -Confirm:$false }
    }

    $r = { param($v) [math]::Round((Get-Median $v), 1) }
    $load = ((Get-Content /proc/loadavg) -split ' ')[0]
    @"
## Network adapters: hot add and remove

A busybox container and a TCG test guest (256 MB, q35) on a Private network; each round adds an adapter and removes
it again ($ContainerRounds rounds for the container, $VmRounds for the VM; medians). A VM's add is timed twice: until
the cmdlet returns (QMP netdev_add, the tap on the bridge, device_add on a free PCIe hotplug port) and until the
guest agent lists the new interface (the guest's PCIe hotplug and virtio-net probe, under TCG). Load average at the
end: $load on 2 cores (other helpers' test runs share the machine).

| measure | value |
| --- | --- |
| container, running: Add-VzNetworkAdapter (veth made, moved in, renamed, addressed, on the bridge) | **$(& $r $ctAdd) ms** |
| container, running: Remove-VzNetworkAdapter (veth deleted) | **$(& $r $ctRemove) ms** |
| peer: the same add / remove on the stopped container (config write and checks only) | $(& $r $coldAdd) ms / $(& $r $coldRemove) ms |
| VM, running: Add-VzNetworkAdapter returns | **$(& $r $vmAdd) ms** |
| VM, running: until the guest agent lists the new interface | $(& $r $vmSeen) ms |
| VM, running: Remove-VzNetworkAdapter (device_del, DEVICE_DELETED, netdev_del; tap gone) | **$(& $r $vmRemove) ms** |
| peer: a link toggle on the running VM (two set_link calls through Set-VzNetworkAdapter) | $(& $r $toggle) ms |

Live plumbing costs a container $([math]::Round((Get-Median $ctAdd) / [math]::Max((Get-Median $coldAdd), 0.1), 1))x the config-only add; a VM's hot remove is
bounded by how fast the guest lets go of the device (the cmdlet waits for DEVICE_DELETED, at most 30 s).
"@
}
finally {
    Get-VzVm -ErrorAction SilentlyContinue | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Get-VzNetwork -ErrorAction SilentlyContinue | Remove-VzNetwork -Confirm:$false -ErrorAction SilentlyContinue
    & nft delete table inet $table 2>$null
    & nft delete table bridge $table 2>$null
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}
