<#
.SYNOPSIS
    Nightly runbook: saves the settings of every container and VM to a dated YAML file and keeps the newest few.
.DESCRIPTION
    Export-VzConfig writes the desired state of the host (names, types, memory, CPU, container and VM settings) to
    <Folder>/<host>-<yyyy-MM-dd>.yaml; Import-VzConfig can bring a host back to any of these files. Files older than
    the newest -Keep are removed. When the folder is a git work tree, the new file is committed too, so the history
    of every setting is in version control.
.EXAMPLE
    ./Backup-VzDesiredState.ps1 -Folder /srv/vz-state -Keep 30
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)][string] $Folder,
    [ValidateRange(1, 3650)][int] $Keep = 14,
    [datetime] $Date = (Get-Date)
)
$ErrorActionPreference = 'Stop'
Import-Module Virtuozzo

$null = New-Item -ItemType Directory -Force -Path $Folder
$hostName = [Environment]::MachineName
$file = Join-Path $Folder ('{0}-{1:yyyy-MM-dd}.yaml' -f $hostName, $Date)
$written = Export-VzConfig -Path $file -PassThru -WhatIf:$WhatIfPreference
if ($written) { Write-Verbose "Saved the settings of every VE to $file." }

# Keep the newest $Keep files of this host; the names sort by date.
Get-ChildItem -LiteralPath $Folder -Filter "$hostName-*.yaml" | Sort-Object Name -Descending | Select-Object -Skip $Keep |
    Remove-Item -WhatIf:$WhatIfPreference

if ($written -and (Test-Path (Join-Path $Folder '.git'))) {
    & git -C $Folder add --all
    & git -C $Folder commit --quiet --allow-empty -m "VE settings of $hostName, $($Date.ToString('yyyy-MM-dd'))"
}
$written
