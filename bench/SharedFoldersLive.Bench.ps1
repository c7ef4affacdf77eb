<#
.SYNOPSIS
    Live shared folders: how long until a running VE reads a folder shared with it, attached live (a container's
    idmapped bind mount moved into its mount namespace; a VM's virtio-fs hot-added and mounted by the guest) against
    the peer, a restart that picks the share up at start (Stop- and Start-VzContainer; Stop- and Start-VzVm, then the guest mounts).
    Both in the same run, alternating. Prints a markdown section with medians and the restart / live ratio.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $ContainerRuns = 5,
    [int] $VmRuns = 2
)
$ErrorActionPreference = 'Stop'
$guest = & (Join-Path $Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $Root
$base = Join-Path ([IO.Path]::GetTempPath()) ("vz-bench-sfl-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory -Path "$base/data", "$base/run", "$base/boot", "$base/live" -Force
Set-Content "$base/live/f" 'shared'
# The container's root is an unprivileged host uid: the folders above the share must let it pass.
& chmod o+x $base
$env:VZ_ROOT = "$base/data"; $env:VZ_RUN_ROOT = "$base/run"; $env:VZ_HOST_CONFIG = "$base/host.yaml"
$env:VZ_CGROUP_PARENT = "vzbench-$PID"
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force

function Measure-Ms([scriptblock] $Block) { $sw = [Diagnostics.Stopwatch]::StartNew(); & $Block; $sw.Elapsed.TotalMilliseconds }
function Assert-Read($Result, [string] $What) { if ($Result.StdOut.Trim() -ne 'shared') { throw "$What did not read the share: $($Result.StdOut) $($Result.StdErr)" } }
$ct = @{ Live = [Collections.Generic.List[double]]::new(); Restart = [Collections.Generic.List[double]]::new() }
$vm = @{ Live = [Collections.Generic.List[double]]::new(); Restart = [Collections.Generic.List[double]]::new() }
$mount = 'mkdir -p /mnt/{0} && mount -t virtiofs {0} /mnt/{0} && cat /mnt/{0}/f'
$load = (Get-Content /proc/loadavg).Split(' ')[0]
try {
    $null = New-VzContainer benchct -Template busybox -MemorySize 128MB
    $null = Start-VzContainer benchct
    for ($i = 0; $i -lt $ContainerRuns; $i++) {
        $ct.Live.Add((Measure-Ms {
            Add-VzSharedFolder benchct "$base/live" live
            Assert-Read (Invoke-VzContainerCommand benchct cat /mnt/live/f) 'the container (live)'
        }))
        Remove-VzSharedFolder benchct live -Confirm:$false
        # The peer: stored while the container is stopped, then started again (a running one would get it live).
        $ct.Restart.Add((Measure-Ms {
            $null = Stop-VzContainer benchct
            Add-VzSharedFolder benchct "$base/live" live
            $null = Start-VzContainer benchct
            Assert-Read (Invoke-VzContainerCommand benchct cat /mnt/live/f) 'the container (restart)'
        }))
        Remove-VzSharedFolder benchct live -Confirm:$false
    }

    # A VM that started with a virtio-fs share has shared RAM, which is what a hot add needs.
    $null = New-VzVm benchvm -MemorySize 256MB -CpuCount 1 -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
    Add-VzSharedFolder benchvm "$base/boot" boot
    $null = Start-VzVm benchvm -Wait -Timeout 300
    # A share attached at start sits on q35's root bus and stays until the VM stops: each round uses new names.
    for ($i = 0; $i -lt $VmRuns; $i++) {
        $vm.Live.Add((Measure-Ms {
            Add-VzSharedFolder benchvm "$base/live" "hot$i"
            Assert-Read (Invoke-VzVmCommand benchvm sh -ArgumentList '-c', ($mount -f "hot$i") -Timeout 120) 'the VM (hot add)'
        }))
        $null = Invoke-VzVmCommand benchvm umount -ArgumentList "/mnt/hot$i" -Timeout 60
        Remove-VzSharedFolder benchvm "hot$i" -Confirm:$false
        # The peer: stored while the VM is stopped, then the VM started again and the guest mounts it.
        $vm.Restart.Add((Measure-Ms {
            $null = Stop-VzVm benchvm
            Add-VzSharedFolder benchvm "$base/live" "cold$i"
            $null = Start-VzVm benchvm -Wait -Timeout 300
            Assert-Read (Invoke-VzVmCommand benchvm sh -ArgumentList '-c', ($mount -f "cold$i") -Timeout 120) 'the VM (restart)'
        }))
        Remove-VzSharedFolder benchvm "cold$i" -Confirm:$false -WarningAction SilentlyContinue
    }
}
finally {
    Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-VzContainer | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}

function Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
$cl = Median $ct.Live; $cr = Median $ct.Restart; $vl = Median $vm.Live; $vr = Median $vm.Restart
@(
    '## Shared folders attached live'
    ''
    "Time from Add-VzSharedFolder until the running VE reads a file in the share. A busybox container (median of $ContainerRuns): attached live (open_tree, idmap, setns and move_mount by the Perl helper) against Stop-VzContainer, Start-VzContainer picking the share up at start. The TCG test guest (256 MiB, 1 vCPU, started with a virtio-fs share so its RAM is shared; median of $VmRuns): virtio-fs hot-added (virtiofsd, chardev-add, device_add) and mounted by the guest, against Stop-VzVm, Start-VzVm -Wait and the same mount. Host load average $load at the start (other work shares the machine's $([Environment]::ProcessorCount) CPUs)."
    ''
    '| VE | live | restart (peer) | restart / live |'
    '| --- | ---: | ---: | ---: |'
    ('| container | {0:N0} ms | {1:N0} ms | {2:N1} |' -f $cl, $cr, ($cr / [math]::Max($cl, 1)))
    ('| VM (virtio-fs) | {0:N0} ms | {1:N0} ms | {2:N1} |' -f $vl, $vr, ($vr / [math]::Max($vl, 1)))
)
