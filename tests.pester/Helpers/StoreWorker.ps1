<#
  Runs in its own pwsh process and drives the engine's store directly, so store tests race real processes
  (separate flock owners, separate caches), not threads. Prints one line: OK, or the exception type and error id.
#>
param(
    [Parameter(Mandatory)][string] $ModuleDir,
    [Parameter(Mandatory)][ValidateSet('Create', 'Increment')][string] $Action,
    [Parameter(Mandatory)][string] $Name,
    [string] $Field,
    [int] $Count = 1,
    [string] $StartFile
)
$ErrorActionPreference = 'Stop'
Add-Type -Path (Join-Path $ModuleDir 'Virtuozzo.Engine.dll')
Add-Type -Path (Join-Path $ModuleDir 'Microsoft.Extensions.Logging.Abstractions.dll')
$paths = [Virtuozzo.Engine.Configuration.VzPaths]::Resolve($null)
$store = [Virtuozzo.Engine.Store.VeStore]::new($paths, [Microsoft.Extensions.Logging.Abstractions.NullLogger[Virtuozzo.Engine.Store.VeStore]]::Instance)

# All workers wait for one start signal, so they really run at the same moment.
if ($StartFile) { while (-not (Test-Path $StartFile)) { Start-Sleep -Milliseconds 5 } }
try {
    switch ($Action) {
        'Create' {
            $config = [Virtuozzo.Engine.Store.VeConfig]::new()
            $config.Name = $Name
            $config.Type = 'Container'
            $config.Container = [Virtuozzo.Engine.Store.ContainerSettings]::new()
            $config.Container.Template = 'busybox'
            $record = $store.BeginCreate($config, [Threading.CancellationToken]::None)
            $store.CompleteCreation($record.Id)
        }
        'Increment' {
            $id = $store.TryFind($Name).Id
            for ($i = 0; $i -lt $Count; $i++) {
                $null = $store.Update($id, [Action[Virtuozzo.Engine.Store.VeConfig]] {
                    param($c)
                    switch ($Field) {
                        'MemorySize'  { $c.Memory.MemorySize++ }
                        'SwapSize'    { $c.Memory.SwapSize++ }
                        'Guarantee'   { $c.Memory.GuaranteePercent = [int]$c.Memory.GuaranteePercent + 1 }
                        'CpuCount'    { $c.Cpu.Count = [int]$c.Cpu.Count + 1 }
                        'CpuUnits'    { $c.Cpu.Units++ }
                        'CpuLimit'    { $c.Cpu.LimitPercent = [int]$c.Cpu.LimitPercent + 1 }
                        'Description' { $c.Description = [string]([int]$c.Description + 1) }
                        'CpuMask'     { $c.Cpu.Mask = [string]([int]$c.Cpu.Mask + 1) }
                    }
                }, [Threading.CancellationToken]::None)
            }
        }
    }
    'OK'
}
catch {
    $e = $_.Exception
    while ($e -is [Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
    "$($e.GetType().Name) $($e.ErrorId)"
}
