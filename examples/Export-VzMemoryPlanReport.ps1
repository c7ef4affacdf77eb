<#
.SYNOPSIS
    Morning runbook: writes the host's memory plan to a CSV file, one row per VE, in MiB, plus a totals row.
.DESCRIPTION
    Reads Get-VzMemoryPlan (limits, guarantees, protection and balloon targets as Virtuozzo's memory manager would set
    them) and writes it where a spreadsheet or a monitoring job can pick it up. Sizes are converted to MiB because
    that is what people compare by eye; the totals row says how much of the host's RAM is promised.
.EXAMPLE
    ./Export-VzMemoryPlanReport.ps1 -Path /var/log/vz/memory-$(Get-Date -Format yyyy-MM-dd).csv
.EXAMPLE
    Invoke-Command -HostName vz1 -UserName root -FilePath ./Export-VzMemoryPlanReport.ps1 -ArgumentList /tmp/plan.csv
#>
[CmdletBinding()]
param(
    # The CSV file to write (replaced if it exists).
    [Parameter(Mandatory)][string] $Path
)
$ErrorActionPreference = 'Stop'
Import-Module Virtuozzo

$plan = Get-VzMemoryPlan -Summary
$rows = foreach ($e in $plan.Entries | Sort-Object Name) {
    [pscustomobject]@{
        Name             = $e.Name
        Type             = $e.Type
        State            = $e.State
        MemoryMB         = [math]::Round($e.MemorySize / 1MB)
        GuaranteePercent = $e.GuaranteePercent
        GuaranteeMB      = [math]::Round($e.Guarantee / 1MB)
        ProtectionMB     = [math]::Round($e.Protection / 1MB)
        TargetMB         = [math]::Round($e.Target / 1MB)
    }
}
$total = [pscustomobject]@{
    Name = '(host)'; Type = ''; State = "$($plan.ActiveVeCount) active"
    MemoryMB = [math]::Round($plan.HostMemory / 1MB); GuaranteePercent = ''
    GuaranteeMB = [math]::Round($plan.GuaranteedMemory / 1MB)
    ProtectionMB = ''; TargetMB = [math]::Round($plan.FreeForGuarantees / 1MB)
}
@($rows) + $total | Export-Csv -Path $Path -NoTypeInformation -UseQuotes AsNeeded
Write-Verbose "Wrote $(@($rows).Count) VEs to $Path; $([math]::Round($plan.GuaranteedMemory / 1MB)) MiB guaranteed of $([math]::Round($plan.HostMemory / 1MB)) MiB."
