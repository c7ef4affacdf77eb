<#
.SYNOPSIS
    Runs the Pester suite in a fresh process with its own data root, run folder and cgroup parent, then checks that
    the tests left nothing behind on the host. Writes the counts as JSON for build.ps1 to sum with xunit's.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [Parameter(Mandatory)][string] $PesterPath,
    [Parameter(Mandatory)][string] $ResultPath,
    [string] $Tag,
    [string] $ExcludeTag,
    # Test files or folders to run (default: all of tests.pester), comma-separated or an array.
    [string[]] $Path
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
Import-Module (Join-Path $Root 'tests.pester/Harness/VzTestHarness.psm1') -Force

# The module under test is the one just laid out, not whatever an earlier install left on the machine.
$env:PSModulePath = (Join-Path $Root 'out/Modules') + [IO.Path]::PathSeparator + $env:PSModulePath
$env:VZ_SOURCE_ROOT = $Root

$run = Start-VzTestRun
$config = New-PesterConfiguration
$config.Run.Path = if ($Path) { @($Path | ForEach-Object { $_ -split ',' } | ForEach-Object { if ([IO.Path]::IsPathRooted($_)) { $_ } else { Join-Path $Root $_ } }) } else { Join-Path $Root 'tests.pester' }
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = Join-Path (Split-Path $ResultPath) 'pester.xml'
if ($Tag) { $config.Filter.Tag = $Tag.Split(',') }
if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag.Split(',') }

$result = $null
try { $result = Invoke-Pester -Configuration $config }
finally { $leaks = @(Stop-VzTestRun -Run $run) }

$failed = if ($result) { $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount } else { 1 }
if ($leaks.Count -gt 0) {
    Write-Host "The tests left things behind on the host (each counts as a failure):" -ForegroundColor Red
    $leaks | ForEach-Object { Write-Host "  $_" -ForegroundColor Red }
    $failed += $leaks.Count
}
# The names of what failed go into the summary too, so the last lines of a CI log say which tests to look at.
$failedNames = @(
    if ($result) {
        $result.Failed | ForEach-Object { $_.ExpandedPath }
        $result.FailedBlocks | ForEach-Object { "$($_.ExpandedPath) (block)" }
        $result.FailedContainers | ForEach-Object { "$($_.Item) (file)" }
    }
    else { 'Pester did not run' }
    $leaks | ForEach-Object { "left behind: $_" })
[pscustomobject]@{
    Passed  = if ($result) { $result.PassedCount } else { 0 }
    Failed  = $failed
    FailedNames = $failedNames
    Skipped = if ($result) { $result.SkippedCount + $result.NotRunCount } else { 0 }
} | ConvertTo-Json | Set-Content $ResultPath
