<#
.SYNOPSIS
    Returns the VM test guest (kernel, initrd, kernel command line), building it first when the cache under
    out/testguest is missing or stale. Used by the VM tests, the benchmark and the demo, so a fresh machine needs
    no manual step.
.PARAMETER Flavour
    Cloud (default): Debian's cloud kernel, fastest to boot. Generic: Debian's full kernel, for 9p, which the cloud
    kernel lacks (the shared-folder tests and benchmark). Each is cached in its own folder.
#>
[CmdletBinding()]
param(
    [string] $Root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path,
    [ValidateSet('Cloud', 'Generic')] [string] $Flavour = 'Cloud'
)
$ErrorActionPreference = 'Stop'
$out = Join-Path $Root ($Flavour -eq 'Cloud' ? 'out/testguest' : 'out/testguest-generic')
$script = Join-Path $PSScriptRoot 'build-testguest.sh'
& bash $script $out $Flavour.ToLowerInvariant() | Write-Verbose
if ($LASTEXITCODE -ne 0) { throw "Building the test guest failed (exit code $LASTEXITCODE); see the output of $script." }
[pscustomobject]@{
    KernelPath      = Join-Path $out 'vmlinuz'
    InitrdPath      = Join-Path $out 'initrd.img'
    KernelArguments = (Get-Content (Join-Path $out 'cmdline') -Raw).Trim()
}
