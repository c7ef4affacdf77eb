# The exact parameter list of every exported cmdlet (common parameters, -WhatIf and -Confirm left out), sorted.
# tests.pester/Parameters.Tests.ps1 fails when a cmdlet is missing here or its parameters differ: a parameter
# added, renamed or removed is a visible change to review, as in dbatools' tests. One line per cmdlet, by area.
@{
    # Host
    'Get-VzHost'       = @('Refresh')
    'Set-VzHost'       = @('ContainerRuntime', 'DataRoot', 'PassThru')
    # Memory
    'Get-VzMemoryPlan' = @('Name', 'Summary')
    'Get-VzKsm'        = @()
    'Set-VzKsm'        = @('MergeAcrossNodes', 'Mode', 'PagesToScan', 'PassThru', 'SleepMilliseconds')
    # Disks
    'New-VzDisk'       = @('BackingDisk', 'ClusterSize', 'Compat', 'LazyRefcounts', 'Path', 'Preallocation', 'RelativeBackingPath', 'Size')
    'Get-VzDisk'       = @('InputObject', 'Path')
    'Resize-VzDisk'    = @('InputObject', 'PassThru', 'Path', 'ResizeGuestFileSystem', 'Shrink', 'Size')
    'Test-VzDisk'      = @('InputObject', 'Path', 'Repair')
    'Optimize-VzDisk'  = @('InputObject', 'PassThru', 'Path')
    'Convert-VzDisk'   = @('DestinationPath', 'Format', 'InputObject', 'PassThru', 'Path')
    # Configuration
    'Export-VzConfig'  = @('Id', 'Name', 'NoClobber', 'PassThru', 'Path', 'Type')
    'Import-VzConfig'  = @('AsJob', 'Name', 'Path')
    'Compare-VzConfig' = @('IncludeEqual', 'Name', 'Path')
}
