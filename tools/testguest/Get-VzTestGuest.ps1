<#
.SYNOPSIS
    Returns the VM test guest (kernel, initrd, kernel command line), building it first when the cache under
    out/testguest is missing or stale. Used by the VM tests, the benchmark and the demo, so a fresh machine needs
    no manual step.
#>
[CmdletBinding()]
param([string] $Root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path)
$ErrorActionPreference = 'Stop'
$out = Join-Path $Root 'out/testguest'
$script = Join-Path $PSScriptRoot 'build-testguest.sh'
& bash $script $out | Write-Verbose
if ($LASTEXITCODE -ne 0) { throw "Building the test guest failed (exit code $LASTEXITCODE); see the output of $script." }
[pscustomobject]@{
    KernelPath      = Join-Path $out 'vmlinuz'
    InitrdPath      = Join-Path $out 'initrd.img'
    KernelArguments = (Get-Content (Join-Path $out 'cmdline') -Raw).Trim()
}
