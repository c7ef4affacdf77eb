<#
.SYNOPSIS
    Inventory of many virtualization hosts over SSH remoting, as one CSV: CPUs, memory, accelerator, runtimes, free space.
.DESCRIPTION
    Opens a PowerShell session to every host (hosts that cannot be reached get a row with the error), runs
    Get-VzHost on all of them at most -ThrottleLimit at a time, and writes one row per host. Sessions are closed
    at the end even when something fails. Each host needs the pwsh SSH subsystem in its sshd_config
    (Subsystem powershell /usr/bin/pwsh -sshs -NoLogo -NoProfile) and the Virtuozzo module installed.
.EXAMPLE
    ./Get-VzHostInventory.ps1 -HostName vz1, vz2, vz3 -Path ./inventory.csv
.EXAMPLE
    ./Get-VzHostInventory.ps1 -HostName (Get-Content hosts.txt) -KeyFilePath ~/.ssh/vz_ed25519 -ThrottleLimit 16 -Path inv.csv
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string[]] $HostName,
    [Parameter(Mandatory)][string] $Path,
    [string] $UserName = 'root',
    [int] $Port = 22,
    [string] $KeyFilePath,
    [hashtable] $Options,
    [ValidateRange(1, 256)][int] $ThrottleLimit = 8
)
$ErrorActionPreference = 'Stop'
Import-Module Virtuozzo   # locally too: the views and unit aliases for the objects that come back

$connect = @{ HostName = $HostName; UserName = $UserName; Port = $Port; ErrorAction = 'SilentlyContinue'; ErrorVariable = 'failed' }
if ($KeyFilePath) { $connect.KeyFilePath = $KeyFilePath }
if ($Options) { $connect.Options = $Options }
$failed = $null
$sessions = @(New-PSSession @connect)
try {
    $hosts = if ($sessions) { Invoke-Command -Session $sessions -ThrottleLimit $ThrottleLimit { Import-Module Virtuozzo; Get-VzHost } } else { @() }
    $rows = @(foreach ($h in $hosts) {
        [pscustomobject]@{
            Host = $h.PSComputerName; ComputerName = $h.ComputerName; Kernel = $h.Kernel; Cpus = $h.CpuCount
            MemoryGB = $h.MemoryTotalGB; AvailableGB = $h.MemoryAvailableGB
            Accelerator = $h.Accelerator.ToString(); KvmReason = $h.KvmReason
            ContainerRuntime = $h.ContainerRuntime; QemuVersion = $h.QemuVersion
            DataRoot = $h.DataRoot; DataRootFreeGB = $h.DataRootFreeGB; Error = ''
        }
    })
    $rows += foreach ($f in @($failed | Where-Object { $_ })) {
        # New-PSSession's error targets the runspace it could not open; its connection info names the host.
        $target = if ($f.TargetObject.PSObject.Properties['ConnectionInfo']) { $f.TargetObject.ConnectionInfo.ComputerName } else { "$($f.TargetObject)" }
        [pscustomobject]@{
            Host = $target; ComputerName = ''; Kernel = ''; Cpus = ''; MemoryGB = ''; AvailableGB = ''
            Accelerator = ''; KvmReason = ''; ContainerRuntime = ''; QemuVersion = ''; DataRoot = ''; DataRootFreeGB = ''
            Error = $f.Exception.Message
        }
    }
    $rows | Sort-Object Host | Export-Csv -Path $Path -NoTypeInformation -UseQuotes AsNeeded
    $rows | Sort-Object Host
}
finally { $sessions | Remove-PSSession }
