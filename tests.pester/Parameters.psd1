# The exact parameter list of every exported cmdlet (common parameters, -WhatIf and -Confirm left out), sorted.
# tests.pester/Parameters.Tests.ps1 fails when a cmdlet is missing here or its parameters differ: a parameter
# added, renamed or removed is a visible change to review, as in dbatools' tests.
@{
    # Host
    'Get-VzHost'      = @('Refresh')
    'Set-VzHost'      = @('ContainerRuntime', 'DataRoot', 'PassThru')
    # Configuration
    'Export-VzConfig' = @('Id', 'Name', 'NoClobber', 'PassThru', 'Path', 'Type')
    'Import-VzConfig' = @('Name', 'Path')
}
