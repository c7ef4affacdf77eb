<#
.SYNOPSIS
    Nightly runbook: compacts the QCOW2 disks of every stopped VM and reports the space won back.
.DESCRIPTION
    A running VM's disk is in use, so only stopped VMs are touched (a VM that starts while its disk is being
    compacted is refused by the disk's lock, not corrupted). Each disk is compacted with Optimize-VzDisk
    (prl_disk_tool compact), and one row per disk says how much smaller its file became. -WhatIf lists the disks
    without touching them.
.NOTES
    Written against the VM and disk cmdlets (Get-VzVm, Optimize-VzDisk); its test runs once both are in the module.
.EXAMPLE
    ./Optimize-VzStoppedVmDisk.ps1 | Format-Table
.EXAMPLE
    ./Optimize-VzStoppedVmDisk.ps1 -Name 'build-*' -WhatIf
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # Only VMs whose name matches (wildcards).
    [string[]] $Name = '*'
)
$ErrorActionPreference = 'Stop'
Import-Module Virtuozzo

foreach ($vm in Get-VzVm -Name $Name | Where-Object { $_.State.ToString() -eq 'Stopped' }) {
    foreach ($disk in $vm.Disks | Where-Object Format -eq 'qcow2') {
        if (-not $PSCmdlet.ShouldProcess("$($vm.Name) $($disk.DiskId) ($($disk.Path))", 'Compact disk')) { continue }
        $before = (Get-Item -LiteralPath $disk.Path).Length
        try {
            $after = (Optimize-VzDisk -Path $disk.Path -PassThru -Confirm:$false).FileSize
            [pscustomobject]@{
                Vm = $vm.Name; DiskId = $disk.DiskId; Path = $disk.Path
                BeforeMB = [math]::Round($before / 1MB, 1); AfterMB = [math]::Round($after / 1MB, 1)
                SavedMB = [math]::Round(($before - $after) / 1MB, 1)
            }
        }
        catch { Write-Error -ErrorRecord $_ -ErrorAction Continue }   # one disk failing does not stop the night's run
    }
}
