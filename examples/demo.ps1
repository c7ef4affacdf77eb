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
