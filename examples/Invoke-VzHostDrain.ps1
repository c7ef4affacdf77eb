<#
.SYNOPSIS
    Maintenance runbook: drains a host before a reboot or package upgrade, and brings back what ran afterwards.
.DESCRIPTION
    -Drain records which VEs run in a state file, then stops the containers gracefully (each with -Timeout, killed
    after it) and saves the VMs' memory to disk (Suspend-VzVm -SaveState), so the VMs come back exactly where they
    were. -Restore starts what the state file lists and removes the file.

    This version has no live migration (Move-VzVm/Move-VzContainer): draining here means the VEs pause for the
    maintenance window. What ran before comes back; what was stopped stays stopped.
.EXAMPLE
    ./Invoke-VzHostDrain.ps1 -Drain -StateFile /var/lib/vz/drain.json; apt-get -y upgrade; reboot
    # after the reboot:
    ./Invoke-VzHostDrain.ps1 -Restore -StateFile /var/lib/vz/drain.json
.EXAMPLE
    Invoke-Command -HostName vz1, vz2 -FilePath ./Invoke-VzHostDrain.ps1 -ArgumentList $true, $false, /var/lib/vz/drain.json
#>
[CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Drain')]
param(
    [Parameter(Mandatory, ParameterSetName = 'Drain')][switch] $Drain,
    [Parameter(Mandatory, ParameterSetName = 'Restore')][switch] $Restore,

    # Where the list of VEs that were running is kept between -Drain and -Restore.
    [Parameter(Mandatory)][string] $StateFile,

    # Seconds a container gets to shut down before it is killed.
    [int] $Timeout = 30
)
$ErrorActionPreference = 'Stop'
Import-Module Virtuozzo

if ($Drain) {
    if (Test-Path $StateFile) { throw "A drain is already recorded in '$StateFile': restore it first, or remove the file." }
    $containers = @(Get-VzContainer | Where-Object State -eq 'Running')
    $vms = @(Get-VzVm | Where-Object State -eq 'Running')
    # The record goes to disk first: if the drain is interrupted, -Restore still knows what to bring back.
    [pscustomobject]@{
        DrainedAt  = (Get-Date).ToUniversalTime().ToString('o')
        Containers = @($containers | ForEach-Object { $_.Id.ToString() })
        Vms        = @($vms | ForEach-Object { $_.Id.ToString() })
    } | ConvertTo-Json | Set-Content -Path $StateFile -WhatIf:$false
    $containers | Stop-VzContainer -Timeout $Timeout
    $vms | Suspend-VzVm -SaveState
    [pscustomobject]@{ Action = 'Drained'; Containers = $containers.Count; Vms = $vms.Count; StateFile = $StateFile }
}
else {
    if (-not (Test-Path $StateFile)) { throw "No drain is recorded in '$StateFile'." }
    $state = Get-Content -Raw $StateFile | ConvertFrom-Json
    # VEs removed during the window are reported, not fatal: the rest still comes back.
    $containers = @($state.Containers | ForEach-Object { Get-VzContainer -Id $_ -ErrorAction Continue })
    $vms = @($state.Vms | ForEach-Object { Get-VzVm -Id $_ -ErrorAction Continue })
    $containers | Start-VzContainer
    $vms | Start-VzVm
    if ($PSCmdlet.ShouldProcess($StateFile, 'Remove the drain record')) { Remove-Item $StateFile }
    [pscustomobject]@{ Action = 'Restored'; Containers = $containers.Count; Vms = $vms.Count; StateFile = $StateFile }
}
