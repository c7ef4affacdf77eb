<#
.SYNOPSIS
    The main job in a few lines: look at the host, run a system container and a VM side by side, see them in the
    store and in the memory plan, run a command in each, and remove them. Uses a data root of its own.
.EXAMPLE
    ./examples/demo.ps1 -DataRoot /tmp/vz-demo
#>
param([string] $DataRoot = (Join-Path $PSScriptRoot '../.vzdata'))
$ErrorActionPreference = 'Stop'
$env:VZ_ROOT = [IO.Path]::GetFullPath($DataRoot)
Import-Module Virtuozzo
$root = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path

Write-Host "`n# What can this host do?" -ForegroundColor Cyan
Get-VzHost | Format-List ComputerName, Kernel, CpuCount, MemoryTotal, CgroupMode, Accelerator, KvmReason, QemuVersion, ContainerRuntime, DataRoot

# A demo that was interrupted last time leaves its VEs behind: start from a clean slate.
Get-VzContainer demo-ct01 -ErrorAction SilentlyContinue | Remove-VzContainer -Force -Confirm:$false
Get-VzVm demo-vm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false

# The container joins the default bridge, which its start creates when the host has none; the demo removes it again then.
$bridge = [Virtuozzo.Engine.Network.NetworkSetup]::DefaultBridge
$bridgeWasThere = Test-Path "/sys/class/net/$bridge"

Write-Host "`n# A system container from the busybox template: 128 MB, half a CPU" -ForegroundColor Cyan
New-VzContainer demo-ct01 -Template busybox -MemorySize 128MB -CpuLimit 50 | Start-VzContainer -PassThru | Format-Table

Write-Host "`n# A VM: the test guest (Debian cloud kernel + busybox/qemu-ga initramfs) under QEMU ($((Get-VzHost).Accelerator))" -ForegroundColor Cyan
$guest = & (Join-Path $root 'tools/testguest/Get-VzTestGuest.ps1') -Root $root
# Two vCPUs, or one on a one-CPU host (a CPU count above the host's is refused)
New-VzVm demo-vm -MemorySize 512MB -CpuCount ([Math]::Min(2, [Environment]::ProcessorCount)) -DiskSize 64MB -Network User `
    -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments |
    Start-VzVm -Wait -PassThru | Format-Table

Write-Host "`n# What the store holds, and what each VE is guaranteed" -ForegroundColor Cyan
Get-VzContainer | Format-Table
Get-VzVm | Format-Table
Get-VzMemoryPlan | Format-Table

Write-Host "`n# A command in each" -ForegroundColor Cyan
Invoke-VzContainerCommand demo-ct01 -Shell 'hostname; ps' | Format-List ExitCode, StdOut
Invoke-VzVmCommand demo-vm uname -ArgumentList '-a' | Format-List ExitCode, StdOut

Write-Host "`n# Stop and remove both" -ForegroundColor Cyan
Stop-VzContainer demo-ct01 -PassThru | Remove-VzContainer -Force -Confirm:$false
Stop-VzVm demo-vm -Kill -PassThru | Remove-VzVm -Force -Confirm:$false
if (-not $bridgeWasThere -and (Test-Path "/sys/class/net/$bridge")) { & ip link delete $bridge }
$left = @(Get-VzContainer) + @(Get-VzVm)
Write-Host "VEs left in $env:VZ_ROOT`: $($left.Count)" -ForegroundColor Cyan
