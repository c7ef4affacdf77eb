<#
.SYNOPSIS
    The main job in a few lines: look at the host, then work with VEs in a data root of our own.
#>
param([string] $DataRoot = (Join-Path $PSScriptRoot '../.vzdata'))
$ErrorActionPreference = 'Stop'
$env:VZ_ROOT = [IO.Path]::GetFullPath($DataRoot)
Import-Module Virtuozzo

Write-Host "`n# What can this host do?" -ForegroundColor Cyan
Get-VzHost | Format-List ComputerName, Kernel, CpuCount, MemoryTotal, CgroupMode, Accelerator, KvmReason, QemuVersion, ContainerRuntime, DataRoot

Write-Host "`n# A system container: create, start, run a command, stop, remove" -ForegroundColor Cyan
$ct = New-VzContainer demo-ct01 -Template busybox -MemorySize 128MB -CpuLimit 50 | Start-VzContainer -PassThru
$ct | Format-Table Name, State, MemorySize, CpuLimit, InitPid, Runtime
Invoke-VzContainerCommand demo-ct01 -Shell 'hostname; ps' | Format-List ExitCode, StdOut
Stop-VzContainer demo-ct01 -PassThru | Remove-VzContainer -Force
Get-VzContainer demo-ct01 -ErrorAction SilentlyContinue   # nothing left

Write-Host "`n# A virtual machine: the test guest (a Debian cloud kernel + busybox/qemu-ga initramfs) under QEMU" -ForegroundColor Cyan
$root = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$guest = & (Join-Path $root 'tools/testguest/Get-VzTestGuest.ps1') -Root $root
Get-VzVm demo-vm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false
$vm = New-VzVm demo-vm -MemorySize 512MB -CpuCount 2 -DiskSize 64MB -Network User `
    -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments |
    Start-VzVm -Wait -PassThru
$vm | Format-Table
Invoke-VzVmCommand demo-vm uname -a | Format-List ExitCode, StdOut
Get-VzVmGuestNetwork demo-vm | Format-Table
Remove-VzVm demo-vm -Force -Confirm:$false
Write-Host "VM demo-vm removed." -ForegroundColor Cyan
