<#
.SYNOPSIS
    Drift check: compares the host with a desired-state file and reports every setting that differs; -Repair fixes it.
.DESCRIPTION
    Compare-VzConfig reads the file (checking all of it) and says which VEs the file names are missing and which
    settings differ. The runbook turns that into one row per setting. With -Repair it then imports the file, which
    creates the missing VEs and rewrites the differing settings. The exit code is 0 when the host matches (or was
    repaired) and 2 when drift was found, so the runbook fits cron and CI alike. The report is text (a table) so it
    survives 'exit' under pwsh -File; -PassThru returns the rows as objects instead, without an exit code.
.EXAMPLE
    ./Test-VzDesiredState.ps1 -Path /srv/vz-state/desired.yaml
.EXAMPLE
    ./Test-VzDesiredState.ps1 -Path /srv/vz-state/desired.yaml -Repair | Format-Table
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $Path,
    [switch] $Repair,
    # Return the drift rows as objects (for a calling script) instead of a table and an exit code.
    [switch] $PassThru
)
$ErrorActionPreference = 'Stop'
Import-Module Virtuozzo

$drift = @(foreach ($ve in Compare-VzConfig -Path $Path) {
    if ($ve.Action -eq 'Create') { [pscustomobject]@{ Name = $ve.Name; Setting = '(the VE)'; Change = 'missing: would be created' } }
    else {
        foreach ($change in $ve.Changes) {
            $setting, $detail = $change -split ': ', 2
            [pscustomobject]@{ Name = $ve.Name; Setting = $setting; Change = $detail }
        }
    }
})
if ($Repair -and $drift.Count) {
    $null = Import-VzConfig -Path $Path -Confirm:$false
    Write-Verbose "Repaired $($drift.Count) setting(s) from $Path."
}
if ($PassThru) { return $drift }
# A table as text: formatted objects still buffered when 'exit' runs would be lost.
if ($drift.Count) { $drift | Format-Table -AutoSize | Out-String -Stream -Width 200 | Where-Object { $_.Trim() } }
exit $(if ($drift.Count -eq 0 -or $Repair) { 0 } else { 2 })
