# The tasks behind build.ps1. Each function is one task and can be called alone.
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

# Debian packages the product and its tests use. Kept here, in one list, so a fresh machine gets all of them.
$script:DebianPackages = @(
    'qemu-system-x86', 'qemu-utils', 'ovmf',           # VMs and disks
    'crun', 'runc', 'uidmap',                          # OCI runtimes, user namespaces
    'busybox-static', 'debootstrap',                   # templates
    'xfsprogs', 'e2fsprogs', 'fdisk', 'lvm2',          # image layouts, guest file system resize
    'iproute2', 'nftables', 'iputils-ping',            # container networking
    'dnsmasq-base', 'conntrack',                       # virtual networks' DHCP, cutting revoked flows
    'cpio', 'kmod', 'zstd',                            # building the VM test guest
    'libvirt-clients', 'libxml2-utils',                # Export-VzVm tests validate against libvirt's domain schema
    'openssh-server',                                  # SSH remoting tests
    'rsync',                                           # Move-VzContainer: pre-copy and delta over ssh
    'procps', 'util-linux', 'criu',
    'prometheus', 'strace',                            # metrics tests (a real scraper, promtool) and bench (no process per VE)
    'tcpdump',                                         # network tests: a capture beside the nft counters
    'xorriso',                                         # DVD tests build ISO images
    'attr',                                            # snapshot tests set and compare xattrs (setfattr, getfattr)
    'acl'                                              # migration tests and bench compare POSIX ACLs (setfacl, getfacl)
)
$script:PesterVersion = '5.7.1'

function Invoke-Native {
    param([Parameter(Mandatory)][string] $Command, [string[]] $Arguments = @())
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Invoke-VzBootstrap {
    param([Parameter(Mandatory)][string] $Root)
    $missing = @($script:DebianPackages | Where-Object {
        (& dpkg-query -W -f='${Status}' $_ 2>$null) -ne 'install ok installed'
    })
    if ($missing.Count -gt 0) {
        Write-Host "Installing Debian packages: $($missing -join ' ')"
        $env:DEBIAN_FRONTEND = 'noninteractive'
        Invoke-Native apt-get @('update', '-qq')
        Invoke-Native apt-get (@('install', '-y', '-qq', '--no-install-recommends') + $missing)
    }
    # Pester comes from NuGet (the PowerShell Gallery is not reachable): a PackageDownload puts it in the cache.
    Invoke-Native dotnet @('restore', (Join-Path $Root 'tools/Pester.Restore/Pester.Restore.csproj'), '--verbosity', 'quiet')
    $null = Get-VzPesterPath
}

function Get-VzPesterPath {
    $nugetRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
    $psd1 = Join-Path $nugetRoot "pester/$script:PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $psd1)) { throw "Pester $script:PesterVersion is not in the NuGet cache ($psd1); run './build.ps1 -Task Bootstrap'." }
    $psd1
}

function Invoke-VzBuild {
    param([Parameter(Mandatory)][string] $Root)
    Invoke-Native dotnet @('build', (Join-Path $Root 'Virtuozzo.sln'), '-c', 'Release', '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
}

function Get-VzPwshPath {
    # pwsh from the NuGet global tool runs as 'dotnet pwsh.dll', so $PID's path is dotnet: find the pwsh launcher.
    $cmd = Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($cmd) { $cmd.Source } else { Join-Path $HOME '.dotnet/tools/pwsh' }
}

function Get-VzModuleOutput { param([string] $Root) Join-Path $Root 'out/Modules/Virtuozzo' }

# Where Import-Module finds the module for every user and in SSH remoting sessions (pwsh's AllUsers scope on Linux).
$script:SystemModulePath = '/usr/local/share/powershell/Modules/Virtuozzo'

function Invoke-VzLayout {
    param([Parameter(Mandatory)][string] $Root)
    $out = Get-VzModuleOutput $Root
    $bin = Join-Path $Root 'Virtuozzo.PowerShell/bin/Release/net10.0'
    if (-not (Test-Path (Join-Path $bin 'Virtuozzo.PowerShell.dll'))) { throw "Build first: $bin has no Virtuozzo.PowerShell.dll." }
    if (Test-Path $out) { Remove-Item $out -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $out, (Join-Path $out 'formats'), (Join-Path $out 'en-US')
    # The module's own assemblies and their dependencies; PowerShell's own assemblies are never shipped.
    Get-ChildItem $bin -Filter *.dll | Where-Object Name -NotMatch '^System\.Management\.Automation' | Copy-Item -Destination $out
    # The host service runs as its own process (dotnet Virtuozzo.HostService.dll), with its own dependencies, from
    # a folder of its own so its assemblies never mix with those pwsh loads for the module.
    $svc = Join-Path $Root 'Virtuozzo.HostService/bin/Release/net10.0'
    if (-not (Test-Path (Join-Path $svc 'Virtuozzo.HostService.dll'))) { throw "Build first: $svc has no Virtuozzo.HostService.dll." }
    $null = New-Item -ItemType Directory -Path (Join-Path $out 'hostservice')
    Copy-Item (Join-Path $svc '*') (Join-Path $out 'hostservice') -Recurse
    Copy-Item (Join-Path $Root 'Virtuozzo.psd1') $out
    Copy-Item (Join-Path $Root 'formats/*.ps1xml') (Join-Path $out 'formats')
    if (Test-Path (Join-Path $Root 'en-US')) { Copy-Item (Join-Path $Root 'en-US/*') (Join-Path $out 'en-US') -Recurse -ErrorAction SilentlyContinue }
    if (Test-Path (Join-Path $Root 'scripts')) { Copy-Item (Join-Path $Root 'scripts') $out -Recurse }
    # VZ_LAYOUT_SKIP_INSTALL=1 keeps a work tree's layout private (several trees on one machine).
    if ([Environment]::UserName -eq 'root' -and $env:VZ_LAYOUT_SKIP_INSTALL -ne '1') {
        if (Test-Path $script:SystemModulePath) { Remove-Item $script:SystemModulePath -Recurse -Force }
        $null = New-Item -ItemType Directory -Path (Split-Path $script:SystemModulePath) -Force
        Copy-Item $out $script:SystemModulePath -Recurse
        Write-Host "Module laid out in $out and installed to $script:SystemModulePath"
    }
    else { Write-Host "Module laid out in $out (not installed system-wide)" }
}

function Invoke-VzHelp {
    param([Parameter(Mandatory)][string] $Root)
    $generator = Join-Path $Root 'tools/New-VzMamlHelp.ps1'
    & $generator -Root $Root
    Invoke-VzLayout -Root $Root
}

function Read-TrxCounts {
    param([string] $Path)
    [xml] $trx = Get-Content -Raw $Path
    $c = $trx.TestRun.ResultSummary.Counters
    $names = @($trx.TestRun.Results.UnitTestResult | Where-Object { $_.outcome -notin 'Passed', 'NotExecuted' } | ForEach-Object { "xunit: $($_.testName)" })
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted; Skipped = [int]$c.notExecuted; FailedNames = $names }
}

function Invoke-VzTest {
    param([Parameter(Mandatory)][string] $Root, [string[]] $Tag, [string[]] $ExcludeTag, [string[]] $Path, [switch] $SkipEngineTests)
    $results = Join-Path $Root 'out/test-results'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    $null = New-Item -ItemType Directory $results
    $passed = 0; $failed = 0; $skipped = 0
    $failedNames = [Collections.Generic.List[string]]::new()
    $watch = [Diagnostics.Stopwatch]::StartNew()

    # -Tag CgroupV2 runs only the cgroup v2 test host; a full run includes it after the engine's xunit tests.
    $v2Only = @($Tag) -contains 'CgroupV2'
    if (-not $SkipEngineTests -and -not $v2Only) {
        Write-Host '-- xunit (engine)'
        # The CgroupV2 facts need a pure v2 kernel: they run inside the v2 test host below, not here.
        & dotnet test (Join-Path $Root 'Virtuozzo.Engine.Tests/Virtuozzo.Engine.Tests.csproj') -c Release --no-build --nologo `
            --filter 'Category!=CgroupV2&Category!=CgroupV2Bench' --logger 'trx;LogFileName=engine.trx' --logger 'console;verbosity=minimal' --results-directory $results
        $trx = Join-Path $results 'engine.trx'
        if (Test-Path $trx) {
            $x = Read-TrxCounts $trx
            $passed += $x.Passed; $failed += $x.Failed; $skipped += $x.Skipped
            $x.FailedNames | ForEach-Object { $failedNames.Add($_) }
            Write-Host "xunit: $($x.Passed) passed, $($x.Failed) failed, $($x.Skipped) skipped"
        }
        else { Write-Host 'xunit produced no results: counted as one failure'; $failed += 1; $failedNames.Add('xunit produced no results') }
    }

    if ($v2Only -or (-not $SkipEngineTests -and -not $Tag -and -not $Path)) {
        $v2 = Invoke-VzCgroupV2HostTest -Root $Root
        $passed += $v2.Passed; $failed += $v2.Failed; $skipped += $v2.Skipped
        $v2.Tests | Where-Object Outcome -ne 'Passed' | ForEach-Object { $failedNames.Add("cgroup v2 host: $($_.Name)") }
        if ($v2.Failed -gt 0 -and -not $v2.Tests) { $failedNames.Add('cgroup v2 host could not run') }
    }
    if ($v2Only) {
        Write-VzTestSummary $watch $passed $failed $skipped $failedNames
        return
    }

    Write-Host '-- Pester (module)'
    $pesterJson = Join-Path $results 'pester.json'
    $runner = Join-Path $Root 'tools/Invoke-VzPester.ps1'
    $pwsh = Get-VzPwshPath
    $runnerArgs = @('-NoProfile', '-NoLogo', '-File', $runner, '-Root', $Root, '-PesterPath', (Get-VzPesterPath), '-ResultPath', $pesterJson)
    if ($Tag) { $runnerArgs += @('-Tag', ($Tag -join ',')) }
    if ($ExcludeTag) { $runnerArgs += @('-ExcludeTag', ($ExcludeTag -join ',')) }
    if ($Path) { $runnerArgs += @('-Path', ($Path -join ',')) }
    & $pwsh @runnerArgs
    if (Test-Path $pesterJson) {
        $p = Get-Content -Raw $pesterJson | ConvertFrom-Json
        $passed += $p.Passed; $failed += $p.Failed; $skipped += $p.Skipped
        $p.FailedNames | ForEach-Object { $failedNames.Add("Pester: $_") }
        Write-Host "Pester: $($p.Passed) passed, $($p.Failed) failed, $($p.Skipped) skipped"
    }
    else { Write-Host 'Pester produced no results: counted as one failure'; $failed += 1; $failedNames.Add('Pester produced no results') }

    Write-VzTestSummary $watch $passed $failed $skipped $failedNames
}

function Write-VzTestSummary {
    # The last lines of a run: what failed, by name (a CI log is often read from its tail), then the totals.
    param($Watch, [int] $Passed, [int] $Failed, [int] $Skipped, [string[]] $FailedNames)
    Write-Host ("Tests took {0:n0} s" -f $Watch.Elapsed.TotalSeconds)
    if ($FailedNames) {
        Write-Host 'Failed:'
        $FailedNames | ForEach-Object { Write-Host "  $_" }
    }
    Write-Host "$Passed passed, $Failed failed, $Skipped skipped"
    if ($Failed -gt 0) { exit 1 }
}

function Invoke-VzCgroupV2HostTest {
    # The engine's CgroupV2 facts inside the pure cgroup v2 test host (a TCG guest: tools/testguest/Invoke-VzCgroupV2Host.ps1).
    param([Parameter(Mandatory)][string] $Root)
    Write-Host '-- cgroup v2 host (TCG guest, cgroup_no_v1=all)'
    try { $r = & (Join-Path $Root 'tools/testguest/Invoke-VzCgroupV2Host.ps1') -Root $Root -Category CgroupV2 }
    catch {
        # The guest could not be built or booted: one failure, with the reason, and the rest of the run goes on.
        Write-Host "cgroup v2 host: could not run: $_"
        $r = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; Tests = @(); Seconds = 0 }
    }
    foreach ($t in $r.Tests) {
        $mark = switch ($t.Outcome) { 'Passed' { '[+]' } 'Failed' { '[-]' } default { '[!]' } }
        Write-Host ("  {0} {1} ({2} s)" -f $mark, $t.Name, $t.Seconds)
        if ($t.Outcome -ne 'Passed' -and $t.Message) { ($t.Message -split "`n" | Select-Object -First 6) | ForEach-Object { Write-Host "      $_" } }
    }
    Write-Host ("cgroup v2 host: {0} passed, {1} failed ({2:n0} s)" -f $r.Passed, $r.Failed, $r.Seconds)
    $r
}

function Invoke-VzBench {
    # -Path runs only the named bench scripts and replaces only their sections, so one area can be re-measured
    # without the hour a full run takes; each section sits between '<!-- bench: Name -->' markers.
    param([Parameter(Mandatory)][string] $Root, [string[]] $Path)
    $docPath = Join-Path $Root 'docs/BENCHMARKS.md'
    $all = @(Get-ChildItem (Join-Path $Root 'bench') -Filter '*.Bench.ps1' | Sort-Object Name)
    $chosen = if ($Path) {
        foreach ($p in $Path) {
            $full = if ([IO.Path]::IsPathRooted($p)) { $p } else { Join-Path $Root $p }
            if (-not (Test-Path $full)) { throw "No bench script '$p'." }
            Get-Item $full
        }
    } else { $all }
    $sections = [ordered]@{}
    if ($Path -and (Test-Path $docPath)) {
        foreach ($m in [regex]::Matches((Get-Content $docPath -Raw), '(?s)<!-- bench: (?<n>[^ ]+) -->\n(?<t>.*?)<!-- /bench: \k<n> -->')) {
            $sections[$m.Groups['n'].Value] = $m.Groups['t'].Value
        }
    }
    foreach ($script in $chosen) {
        $name = $script.BaseName -replace '\.Bench$', ''
        Write-Host "-- $name"
        $text = & $script.FullName -Root $Root
        $sections[$name] = ($text | Out-String).TrimEnd() + "`n"
    }
    $mem = [math]::Round((Get-Content /proc/meminfo | Select-String '^MemTotal:\s+(\d+)').Matches[0].Groups[1].Value / 1MB, 1)
    $cpu = ((Get-Content /proc/cpuinfo | Select-String '^model name') | Select-Object -First 1).ToString().Split(':')[1].Trim()
    $when = "$((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC"
    $how = if ($Path) { "Sections re-measured alone carry their own date; this header was last written on $when." } else { "Written by ``./build.ps1 -Task Bench`` on $when." }
    $body = foreach ($script in $all) {
        $name = $script.BaseName -replace '\.Bench$', ''
        if ($sections.Contains($name)) { "<!-- bench: $name -->`n$($sections[$name])<!-- /bench: $name -->`n" }
    }
    $doc = @(
        '# Benchmarks'
        ''
        "$how Every ratio compares against a peer measured in the same run."
        ''
        "Machine: $([Environment]::ProcessorCount) x $cpu, $mem GiB RAM, kernel $((Get-Content /proc/sys/kernel/osrelease).Trim()), pwsh $($PSVersionTable.PSVersion)."
        ''
        $body
    ) -join "`n"
    Set-Content -Path $docPath -Value $doc
    Write-Host "Wrote $docPath"
}

function Invoke-VzDemo {
    param([Parameter(Mandatory)][string] $Root)
    $pwsh = Get-VzPwshPath
    & $pwsh -NoProfile -NoLogo -File (Join-Path $Root 'examples/demo.ps1') -DataRoot (Join-Path $Root '.vzdata')
    if ($LASTEXITCODE -ne 0) { throw "The demo failed (exit code $LASTEXITCODE)." }
}

Export-ModuleMember -Function Invoke-VzBootstrap, Invoke-VzBuild, Invoke-VzLayout, Invoke-VzHelp, Invoke-VzTest, Invoke-VzBench, Invoke-VzDemo, Get-VzPesterPath, Get-VzPwshPath
