#requires -Version 7.4
<#
.SYNOPSIS
    Builds, lays out, tests and benchmarks the Virtuozzo module.
.DESCRIPTION
    Every task can run alone; several run in the order given.
      Bootstrap  install what the product and its tests need (Debian packages, Pester from NuGet)
      Build      compile the solution (Release)
      Layout     assemble the module folder (out/Modules/Virtuozzo) and install it where Import-Module finds it
      Help       generate MAML help from the Markdown beside the cmdlets
      Test       run xunit and Pester; print 'N passed, N failed'
      Bench      run the benchmarks in bench/ and write docs/BENCHMARKS.md
      Demo       run examples/demo.ps1 against a data root under the checkout
.EXAMPLE
    ./build.ps1 -Task Build,Layout
.EXAMPLE
    ./build.ps1 -Task Test -Tag Unit
#>
[CmdletBinding()]
param(
    # Bootstrap, Build, Layout, Help, Test, Bench, Demo; a comma-separated string works too (pwsh -File).
    [string[]] $Task = @('Build', 'Layout'),

    # Pester tags to run (default: all). Unit tests need no root and change nothing on the host.
    [string[]] $Tag,

    # Pester tags to leave out.
    [string[]] $ExcludeTag,

    # Pester test files to run (default: all), relative to the checkout; a quick loop over one area.
    # With Bench: the bench scripts to run; only their sections of docs/BENCHMARKS.md are replaced.
    [string[]] $Path,


    # Skip the xunit engine tests (for a quick Pester-only loop).
    [switch] $SkipEngineTests
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = $PSScriptRoot
Import-Module (Join-Path $root 'tools/Build.psm1') -Force

$known = 'Bootstrap', 'Build', 'Layout', 'Help', 'Test', 'Bench', 'Demo'
$Task = @($Task | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ })
foreach ($t in $Task) { if ($t -notin $known) { throw "Unknown task '$t'. Tasks: $($known -join ', ')." } }
foreach ($t in $Task) {
    Write-Host "== $t" -ForegroundColor Cyan
    switch ($t) {
        'Bootstrap' { Invoke-VzBootstrap -Root $root }
        'Build'     { Invoke-VzBuild -Root $root }
        'Layout'    { Invoke-VzLayout -Root $root }
        'Help'      { Invoke-VzHelp -Root $root }
        'Test'      { Invoke-VzTest -Root $root -Tag $Tag -ExcludeTag $ExcludeTag -Path $Path -SkipEngineTests:$SkipEngineTests }
        'Bench'     { Invoke-VzBench -Root $root -Path $Path }
        'Demo'      { Invoke-VzDemo -Root $root }
    }
}
