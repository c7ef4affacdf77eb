<#
  Registry records for tests that need VEs to exist but not to run (listing, completion, export/import, benchmarks):
  made through the engine's store exactly as the create cmdlets register them (BeginCreate, CompleteCreation), in the
  data root the environment points at (use New-VzTestScope first).
#>
Set-StrictMode -Version 3.0

function Get-VzTestStore {
    # The engine assembly is loaded by Import-Module Virtuozzo.
    $paths = [Virtuozzo.Engine.Configuration.VzPaths]::Resolve($null)
    [Virtuozzo.Engine.VzEngine]::new($paths, $null).Store
}

function New-VzTestVeRecord {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string[]] $Name,
        [ValidateSet('Container', 'VirtualMachine')][string] $Type = 'Container',
        [string] $Template = 'busybox',
        [long] $MemorySize = 256MB
    )
    $store = Get-VzTestStore
    foreach ($n in $Name) {
        $config = [Virtuozzo.Engine.Store.VeConfig]::new()
        $config.Name = $n
        $config.Type = $Type
        $config.Memory.MemorySize = $MemorySize
        if ($Type -eq 'Container') {
            $config.Container = [Virtuozzo.Engine.Store.ContainerSettings]::new()
            $config.Container.Template = $Template
        }
        else { $config.Vm = [Virtuozzo.Engine.Store.VmSettings]::new() }
        $record = $store.BeginCreate($config, [Threading.CancellationToken]::None)
        $store.CompleteCreation($record.Id)
        $store.TryGet($record.Id)
    }
}

Export-ModuleMember -Function Get-VzTestStore, New-VzTestVeRecord
