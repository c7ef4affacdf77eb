<#
.SYNOPSIS
    Boots the pure cgroup v2 test host (a TCG guest, built and cached by build-cgroupv2-guest.sh), runs the engine
    facts of one xunit category inside it against the guest's kernel, and returns their results.
.DESCRIPTION
    The guest gets the .NET runtime and this checkout's engine test output on read-only disks, a swap disk, and an
    empty result disk its runner writes a JSON report to before it powers off. The build output is taken as it is:
    build first (./build.sh Build). Writes the guest's console to out/test-results/cgroupv2-<category>.console.log.
.OUTPUTS
    An object with Passed, Failed, Skipped, Tests (name, outcome, seconds, message), Measurements and Seconds.
#>
[CmdletBinding()]
param(
    [string] $Root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path,
    # The xunit trait value (Category=...) to run: CgroupV2 for the tests, CgroupV2Bench for the benchmark.
    [string] $Category = 'CgroupV2',
    [int] $MemoryMB = 1536,
    [int] $SwapMB = 2048,
    [int] $TimeoutSeconds = 600
)
$ErrorActionPreference = 'Stop'
$watch = [Diagnostics.Stopwatch]::StartNew()
$guest = Join-Path $Root 'out/cgroupv2guest'
& bash (Join-Path $PSScriptRoot 'build-cgroupv2-guest.sh') $guest | Write-Verbose
if ($LASTEXITCODE -ne 0) { throw "Building the cgroup v2 test host failed (exit code $LASTEXITCODE)." }
$bin = Join-Path $Root 'Virtuozzo.Engine.Tests/bin/Release/net10.0'
if (-not (Test-Path (Join-Path $bin 'Virtuozzo.Engine.Tests.dll'))) { throw "No engine test build in ${bin}: run ./build.sh Build first." }

$results = Join-Path $Root 'out/test-results'
$null = New-Item -ItemType Directory $results -Force
$console = Join-Path $results "cgroupv2-$Category.console.log"
$work = Join-Path ([IO.Path]::GetTempPath()) ('vz-cgv2run-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory $work
$qemu = $null
try {
    $testsImg = Join-Path $work 'tests.img'
    $sizeMB = [int][math]::Ceiling(((Get-ChildItem $bin -Recurse -File | Measure-Object Length -Sum).Sum / 1MB) * 1.3) + 16
    & mkfs.ext4 -q -F -L vztests -d $bin $testsImg "${sizeMB}M" | Write-Verbose # it says "Creating regular file" even with -q
    if ($LASTEXITCODE -ne 0) { throw "mkfs.ext4 of the test output failed (exit code $LASTEXITCODE)." }
    $resultImg = Join-Path $work 'result.img'
    $swapImg = Join-Path $work 'swap.img'
    & truncate -s 4M $resultImg
    & truncate -s "${SwapMB}M" $swapImg

    $cmdline = (Get-Content -Raw (Join-Path $guest 'cmdline')).Trim() + " vz.filter=$Category"
    $drives = foreach ($d in @(
            @{ File = Join-Path $guest 'dotnet.img'; Serial = 'vzdotnet'; ReadOnly = $true }
            @{ File = $testsImg; Serial = 'vztests'; ReadOnly = $true }
            @{ File = $swapImg; Serial = 'vzswap'; ReadOnly = $false }
            @{ File = $resultImg; Serial = 'vzresult'; ReadOnly = $false })) {
        $ro = if ($d.ReadOnly) { ',readonly=on' } else { '' }
        '-drive', "file=$($d.File),if=none,id=$($d.Serial),format=raw,cache=unsafe$ro", '-device', "virtio-blk-pci,drive=$($d.Serial),serial=$($d.Serial)"
    }
    $qemuArgs = @('-machine', 'q35,accel=tcg', '-cpu', 'max', '-smp', '2', '-m', "$MemoryMB", '-nodefaults', '-no-reboot',
        '-display', 'none', '-monitor', 'none', '-serial', "file:$console",
        '-kernel', (Join-Path $guest 'vmlinuz'), '-initrd', (Join-Path $guest 'initrd.img'), '-append', $cmdline) + $drives
    $psi = [Diagnostics.ProcessStartInfo]::new('qemu-system-x86_64')
    foreach ($a in $qemuArgs) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $qemu = [Diagnostics.Process]::Start($psi)
    $stderr = $qemu.StandardError.ReadToEndAsync()
    if (-not $qemu.WaitForExit($TimeoutSeconds * 1000)) {
        $qemu.Kill($true)
        $qemu.WaitForExit()
        Write-Warning "The cgroup v2 test host did not finish within $TimeoutSeconds s."
    }
    elseif ($qemu.ExitCode -ne 0) { Write-Warning "qemu exited with $($qemu.ExitCode): $($stderr.Result)" }

    $bytes = [IO.File]::ReadAllBytes($resultImg)
    $end = [Array]::IndexOf($bytes, [byte]0)
    $json = [Text.Encoding]::UTF8.GetString($bytes, 0, $(if ($end -lt 0) { $bytes.Length } else { $end }))
    $report = if ($json.Trim()) { try { $json | ConvertFrom-Json } catch { $null } }
    if (-not $report -or -not ($report.PSObject.Properties.Name -contains 'Tests')) {
        $why = if ($report -and $report.PSObject.Properties.Name -contains 'error') { $report.error } else { 'no result' }
        Write-Host "cgroup v2 host: $why; the console said:"
        if (Test-Path $console) { Get-Content $console -Tail 40 | ForEach-Object { Write-Host "  $_" } }
        return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; Tests = @(); Measurements = $null; Seconds = $watch.Elapsed.TotalSeconds }
    }
    [pscustomobject]@{
        Passed = [int]$report.Passed; Failed = [int]$report.Failed; Skipped = [int]$report.Skipped
        Tests = @($report.Tests); Measurements = $report.Measurements; Seconds = $watch.Elapsed.TotalSeconds
    }
}
finally {
    if ($qemu) { if (-not $qemu.HasExited) { $qemu.Kill($true) }; $qemu.Dispose() }
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
