@{
    RootModule           = 'Virtuozzo.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f7a3e-2c41-4f0e-9a8e-7d3c1a6b9e42'
    Author               = 'Virtuozzo for PowerShell developers'
    CompanyName          = 'Virtuozzo for PowerShell'
    Copyright            = '(c) Virtuozzo for PowerShell developers. MIT License.'
    Description          = 'Turns a Linux host into a Virtuozzo-7-style virtualization host: system containers, QEMU virtual machines, QCOW2 disks, KSM and memory guarantees, as objects on the pipeline.'
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @(
        'formats/Virtuozzo.Host.format.ps1xml'
        'formats/Virtuozzo.HostService.format.ps1xml'
        'formats/Virtuozzo.Container.format.ps1xml'
        'formats/Virtuozzo.Vm.format.ps1xml'
        'formats/Virtuozzo.Disk.format.ps1xml'
        'formats/Virtuozzo.Memory.format.ps1xml'
        'formats/Virtuozzo.Configuration.format.ps1xml'
        'formats/Virtuozzo.SharedFolder.format.ps1xml'
        'formats/Virtuozzo.Metrics.format.ps1xml'
        'formats/Virtuozzo.Network.format.ps1xml'
        'formats/Virtuozzo.Snapshot.format.ps1xml'
        'formats/Virtuozzo.Backup.format.ps1xml'
        'formats/Virtuozzo.Migration.format.ps1xml'
        'formats/Virtuozzo.DiskCompact.format.ps1xml'
    )
    TypesToProcess       = @('formats/Virtuozzo.types.ps1xml')
    CmdletsToExport      = @(
        # Host
        'Get-VzHost'
        'Set-VzHost'
        'Get-VzHostService'
        'Start-VzHostService'
        'Stop-VzHostService'
        'Install-VzHostService'
        # Memory
        'Get-VzMemoryPlan'
        'Get-VzKsm'
        'Set-VzKsm'
        # Containers
        'Get-VzContainer'
        'New-VzContainer'
        'Set-VzContainer'
        'Start-VzContainer'
        'Stop-VzContainer'
        'Restart-VzContainer'
        'Suspend-VzContainer'
        'Resume-VzContainer'
        'Remove-VzContainer'
        'Rename-VzContainer'
        'Copy-VzContainer'
        'Invoke-VzContainerCommand'
        'Enter-VzContainer'
        'Get-VzTemplate'
        'New-VzTemplate'
        'Remove-VzTemplate'
        # Disks
        'New-VzDisk'
        'Get-VzDisk'
        'Resize-VzDisk'
        'Test-VzDisk'
        'Optimize-VzDisk'
        'Convert-VzDisk'
        # Virtual machines
        'New-VzVm'
        'Get-VzVm'
        'Set-VzVm'
        'Start-VzVm'
        'Stop-VzVm'
        'Restart-VzVm'
        'Suspend-VzVm'
        'Resume-VzVm'
        'Remove-VzVm'
        'Rename-VzVm'
        'Copy-VzVm'
        'Move-VzVm'
        'Move-VzContainer'
        'Test-VzMigration'
        'Add-VzVmDisk'
        'Remove-VzVmDisk'
        'Add-VzVmDvdDrive'
        'Remove-VzVmDvdDrive'
        'Set-VzVmDvdDrive'
        'Invoke-VzVmCommand'
        'Set-VzVmUserPassword'
        'Set-VzVmGuestNetwork'
        'Set-VzContainerUserPassword'
        'Get-VzVmGuestInfo'
        'Get-VzVmGuestNetwork'
        'Enter-VzVm'
        'Export-VzVm'
        # Snapshots and backups
        'Checkpoint-VzVm'
        'Checkpoint-VzContainer'
        'Get-VzSnapshot'
        'Restore-VzSnapshot'
        'Remove-VzSnapshot'
        'Backup-VzVm'
        'Backup-VzContainer'
        'Get-VzBackup'
        'Restore-VzBackup'
        'Remove-VzBackup'
        # Configuration
        'Export-VzConfig'
        'Import-VzConfig'
        'Compare-VzConfig'
        # Shared folders
        'Add-VzSharedFolder'
        'Get-VzSharedFolder'
        'Remove-VzSharedFolder'
        # Metrics
        'Measure-VzVm'
        'Measure-VzContainer'
        # Networks and firewall
        'New-VzNetwork'
        'Get-VzNetwork'
        'Set-VzNetwork'
        'Remove-VzNetwork'
        'Get-VzFirewall'
        'Set-VzFirewall'
        'Add-VzFirewallRule'
        'Get-VzFirewallRule'
        'Remove-VzFirewallRule'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Virtuozzo', 'Containers', 'QEMU', 'KVM', 'QCOW2', 'Linux', 'Virtualization')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
