<#
.SYNOPSIS
    Provisioning runbook: creates the containers a YAML list names, applies their settings, and starts them.
.DESCRIPTION
    The list is a desired-state file in the Export-VzConfig format, so it can be written by hand or exported from a
    host that is already right. Containers that do not exist are created from their template; the ones that do are
    brought to the settings in the file (a section left out is left alone). Then every container of the list that is
    not running is started, and the list is shown as it now is.

    Run it again at any time: it only changes what differs.
.EXAMPLE
    ./New-VzContainersFromList.ps1 -Path ./web-tier.yaml

    where web-tier.yaml is:

        schemaVersion: 1
        ves:
        - name: web01
          type: Container
          memory: { size: 268435456 }
          cpu: { limitPercent: 50 }
          container: { template: busybox, hostname: web01.example.net }
        - name: web02
          ...
.EXAMPLE
    ./New-VzContainersFromList.ps1 -Path ./web-tier.yaml -NoStart -WhatIf
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # The YAML list of containers (Export-VzConfig format).
    [Parameter(Mandatory)][string] $Path,

    # Create and configure, but leave them stopped.
    [switch] $NoStart
)
$ErrorActionPreference = 'Stop'
Import-Module Virtuozzo

$results = @(Import-VzConfig -Path $Path -WhatIf:$WhatIfPreference)
$results | Group-Object Action | ForEach-Object { Write-Verbose "$($_.Name): $($_.Count) VE(s)" }
$names = @($results | Where-Object Type -eq 'Container' | ForEach-Object Name)
if ($names.Count -eq 0 -or $WhatIfPreference) { return }

if (-not $NoStart) {
    Get-VzContainer -Name $names | Where-Object State -ne 'Running' | Start-VzContainer
}
Get-VzContainer -Name $names
