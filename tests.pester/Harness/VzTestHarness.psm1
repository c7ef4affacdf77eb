<#
  The test harness: each test run gets its own data root, run folder, host settings file and cgroup parent,
  and at the end the host is compared with how it was before. Anything new (a cgroup, a mount, a loop device,
  a netns, a veth or bridge, a QEMU or runtime process) is a leak, and a leak fails the run.
#>
Set-StrictMode -Version 3.0

$script:ProcessPattern = '^(qemu-system|qemu-storage-daemon|qemu-nbd|crun|runc|conmon|virtiofsd)'

function Test-VzRunOwnsProcess {
    # A process belongs to this run when it inherited the run's id, sits in the run's cgroups, or names its folders.
    param([string] $ProcDir, [string] $RunId, [string] $Base, [string] $CgroupParent)
    $environ = try { [IO.File]::ReadAllText("$ProcDir/environ") } catch { '' }
    if ($RunId -and $environ.Contains("VZ_TEST_RUN=$RunId")) { return $true }
    $cgroup = try { [IO.File]::ReadAllText("$ProcDir/cgroup") } catch { '' }
    if ($CgroupParent -and $cgroup.Contains("/$CgroupParent/")) { return $true }
    $cmdline = try { [IO.File]::ReadAllText("$ProcDir/cmdline") } catch { '' }
    return ($Base -and $cmdline.Contains($Base))
}

function Get-VzHostSnapshot {
    <#
      What this run could leave behind. Cgroups, mounts, loop devices and processes are attributed to the run (by
      its cgroup parent, its temp folder, its id in the environment), so test runs in other work trees on the same
      machine are not mistaken for leaks. Network namespaces and links are compared by name.
    #>
    [CmdletBinding()] param([string] $RunId = $env:VZ_TEST_RUN, [string] $Base = $env:VZ_TEST_BASE, [string] $CgroupParent = $env:VZ_CGROUP_PARENT)
    $mounts = Get-Content /proc/self/mountinfo | ForEach-Object { ($_ -split ' ')[4] } | Where-Object { $Base -and $_.StartsWith($Base) }
    $cgroups = if ($CgroupParent) { Get-VzCgroupDirectory $CgroupParent }
    $loops = Get-ChildItem /sys/block -Filter 'loop*' -ErrorAction SilentlyContinue |
        Where-Object { Test-Path (Join-Path $_.FullName 'loop/backing_file') } |
        ForEach-Object { "$($_.Name) -> $((Get-Content (Join-Path $_.FullName 'loop/backing_file')).Trim())" } |
        Where-Object { $Base -and $_.Contains($Base) }
    $netns = if (Test-Path /run/netns) { Get-ChildItem /run/netns | Select-Object -ExpandProperty Name } else { @() }
    $links = (& ip -o link show 2>$null) | ForEach-Object { ($_ -split ': ')[1] -replace '@.*$', '' }
    # DirectoryInfo objects straight from .NET: once, with processes exiting during the listing, 'Where-Object Name'
    # over Get-ChildItem /proc failed ("property 'Name' cannot be found") and ended the leak check without a result.
    $procs = [IO.DirectoryInfo]::new('/proc').GetDirectories() | Where-Object { $_.Name -match '^\d+$' } | ForEach-Object {
        $comm = Get-Content (Join-Path $_.FullName 'comm') -ErrorAction SilentlyContinue
        $state = (Get-Content (Join-Path $_.FullName 'stat') -ErrorAction SilentlyContinue) -replace '^.*\) (\S).*$', '$1'
        if ($comm -and $comm -match $script:ProcessPattern -and $state -ne 'Z' -and
            (Test-VzRunOwnsProcess $_.FullName $RunId $Base $CgroupParent)) { "$($_.Name) $comm" }
    }
    [pscustomobject]@{
        Mounts = @($mounts); Cgroups = @($cgroups); Loops = @($loops); Netns = @($netns); Links = @($links); Processes = @($procs)
    }
}

function Get-VzCgroupMount {
    <#
      Every cgroup hierarchy the host mounts, from mountinfo: each v1 hierarchy (cgroup) and the unified tree
      (cgroup2), wherever they are (/sys/fs/cgroup itself on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one).
    #>
    [CmdletBinding()] param()
    foreach ($line in Get-Content /proc/self/mountinfo) {
        $left, $right = $line -split ' - ', 2
        $fs = ($right -split ' ')[0]
        if ($fs -in 'cgroup', 'cgroup2') {
            [pscustomobject]@{ Path = ($left -split ' ')[4] -replace '\\040', ' '; Version = if ($fs -eq 'cgroup2') { 2 } else { 1 } }
        }
    }
}

function Get-VzCgroupDirectory {
    <# The folders of the group at RelativePath (for example 'vz/ct-<id>') in every hierarchy where it exists. #>
    [CmdletBinding()] param([Parameter(Mandatory)][string] $RelativePath)
    foreach ($m in Get-VzCgroupMount) {
        $p = Join-Path $m.Path $RelativePath.Trim('/')
        if (Test-Path -LiteralPath $p -PathType Container) { $p }
    }
}

function Test-VzCgroupExists {
    <# True when the group at RelativePath exists in any hierarchy, v1 or v2. #>
    [CmdletBinding()] param([Parameter(Mandatory)][string] $RelativePath)
    @(Get-VzCgroupDirectory $RelativePath).Count -gt 0
}

function Get-VzPwshPath {
    # pwsh from the NuGet global tool runs as 'dotnet pwsh.dll', so $PID's path is dotnet: find the pwsh launcher.
    $cmd = Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($cmd) { $cmd.Source } else { Join-Path $HOME '.dotnet/tools/pwsh' }
}

function Test-VzTestRunAlive {
    <#
      True while the run with this id may still be using its cgroup parent: its owner pid (written at its start)
      lives, or, for a run without an owner file, it began less than a day ago (a CI run takes under 45 minutes).
    #>
    param([string] $Id)
    $owner = Join-Path ([IO.Path]::GetTempPath()) "vz-test-$Id/owner.pid"
    if (Test-Path -LiteralPath $owner) {
        $ownerPid = (Get-Content -LiteralPath $owner -ErrorAction SilentlyContinue | Select-Object -First 1) -as [int]
        return ($ownerPid -and (Test-Path "/proc/$ownerPid"))
    }
    $started = [datetime]::MinValue
    if (-not [datetime]::TryParseExact($Id.Substring(0, 12), 'yyMMddHHmmss', $null, 'None', [ref] $started)) { return $true }
    ((Get-Date) - $started).TotalHours -lt 24
}

function Remove-VzDeadTestRunCgroup {
    <#
      A test run that was killed (not one that failed: that one cleans up in Stop-VzTestRun) leaves its cgroup
      parent behind. Remove the parents of dead runs at the next run's start, but only empty ones: a parent still
      holding a process is a leaked VE, which is reported, not torn down under someone who may be looking at it.
    #>
    [CmdletBinding()] param()
    foreach ($m in Get-VzCgroupMount) {
        foreach ($dir in [IO.Directory]::GetDirectories($m.Path, 'vztest-*')) {
            if (Test-VzTestRunAlive ([IO.Path]::GetFileName($dir).Substring(7))) { continue }
            $groups = @([IO.Directory]::GetDirectories($dir, '*', [IO.SearchOption]::AllDirectories)) + $dir |
                Sort-Object { $_.Length } -Descending
            if ($groups | Where-Object { (Test-Path "$_/cgroup.procs") -and [IO.File]::ReadAllText("$_/cgroup.procs").Trim() }) {
                Write-Warning "The cgroup $dir of a dead test run still holds processes; left in place."
                continue
            }
            foreach ($g in $groups) { try { [IO.Directory]::Delete($g) } catch { Write-Warning "Could not remove $g of a dead test run: $($_.Exception.Message)" } }
        }
    }
}

function Start-VzTestRun {
    [CmdletBinding()] param()
    Remove-VzDeadTestRunCgroup
    $id = '{0:yyMMddHHmmss}-{1}' -f (Get-Date), ([guid]::NewGuid().ToString('N').Substring(0, 6))
    $base = Join-Path ([IO.Path]::GetTempPath()) "vz-test-$id"
    $null = New-Item -ItemType Directory -Path (Join-Path $base 'data'), (Join-Path $base 'run') -Force
    # The pid that owns the run: while it lives, no other run's start sweeps this run's cgroup parent.
    [IO.File]::WriteAllText((Join-Path $base 'owner.pid'), "$PID")
    $env:VZ_TEST_RUN = $id
    $env:VZ_ROOT = Join-Path $base 'data'
    $env:VZ_RUN_ROOT = Join-Path $base 'run'
    $env:VZ_CGROUP_PARENT = "vztest-$id"
    $env:VZ_HOST_CONFIG = Join-Path $base 'host.yaml'
    $env:VZ_TEST_BASE = $base
    Write-Host "Test run ${id}: data root $env:VZ_ROOT, cgroup parent $env:VZ_CGROUP_PARENT"
    [pscustomobject]@{ Id = $id; Base = $base; Before = Get-VzHostSnapshot -RunId $id -Base $base -CgroupParent $env:VZ_CGROUP_PARENT }
}

function Compare-VzHostSnapshot {
    [CmdletBinding()] param([Parameter(Mandatory)] $Before, [Parameter(Mandatory)] $After)
    foreach ($kind in 'Mounts', 'Cgroups', 'Loops', 'Netns', 'Links', 'Processes') {
        $old = [Collections.Generic.HashSet[string]]::new([string[]]@($Before.$kind))
        foreach ($item in $After.$kind) { if (-not $old.Contains($item)) { "${kind}: $item" } }
    }
}

function Stop-VzTestRun {
    [CmdletBinding()] param([Parameter(Mandatory)] $Run)
    # Give reaping a moment: a killed daemonized QEMU stays a zombie until PID 1 collects it.
    Start-Sleep -Milliseconds 500
    $leaks = @(Compare-VzHostSnapshot -Before $Run.Before -After (Get-VzHostSnapshot -RunId $Run.Id -Base $Run.Base -CgroupParent "vztest-$($Run.Id)") |
        Where-Object { -not (($_ -like 'Links: *' -or $_ -like 'Netns: *') -and (Test-VzForeignLink ($_ -split ': ', 2)[1] $Run)) })
    # Leaks are reported, then cleaned up as well as we can so the next run starts from a clean host.
    foreach ($leak in $leaks) {
        $kind, $what = $leak -split ': ', 2
        switch ($kind) {
            'Processes' { $null = & kill -9 (($what -split ' ')[0]) 2>$null }
            'Mounts'    { $null = & umount -l $what 2>$null }
            'Loops'     { $null = & losetup -d "/dev/$(($what -split ' ')[0])" 2>$null }
            # Links and namespaces are known only by name, so on a shared development machine they may be another
            # work tree's live ones: delete them only where this run is alone (CI).
            'Netns'     { if ($env:CI -eq 'true') { $null = & ip netns delete $what 2>$null } }
            'Links'     { if ($env:CI -eq 'true') { $null = & ip link delete $what 2>$null } }
        }
    }
    foreach ($leak in $leaks | Where-Object { $_ -like 'Cgroups: *' } | Sort-Object -Descending { $_.Length }) {
        $path = ($leak -split ': ', 2)[1]
        Get-ChildItem $path -Directory -Recurse -ErrorAction SilentlyContinue | Sort-Object { $_.FullName.Length } -Descending |
            ForEach-Object { [IO.Directory]::Delete($_.FullName) } 2>$null
        try { [IO.Directory]::Delete($path) } catch { }
    }
    if (-not (Get-Content /proc/self/mountinfo | Where-Object { ($_ -split ' ')[4].StartsWith($Run.Base) })) {
        Remove-Item $Run.Base -Recurse -Force -ErrorAction SilentlyContinue
    }
    $leaks
}

function Get-VzTestLinkName {
    <#
      A bridge/link name this run owns (for tests that make their own bridge): 'vzt' + the run's random part + an
      index, so a concurrent run on the same machine never reports it as its leak or deletes it.
    #>
    [CmdletBinding()] param([ValidateRange(0, 99)][int] $Index = 0, [string] $RunId = $env:VZ_TEST_RUN)
    'vzt{0}{1:d2}' -f $RunId.Substring($RunId.Length - 6), $Index
}

function Test-VzForeignLink {
    <#
      Links are compared by name, machine-wide, so another work tree's test run (running at the same time) would
      see this run's links as its leaks and delete them. A link is another run's when it is a test link
      (vzt...) without this run's prefix, or an engine veth (vz + 11 hex of a VE id) of no VE under this run.
      (A veth left up after its VE was removed needs a live peer, i.e. a leaked container, which the cgroup
      check reports.)
    #>
    param([string] $Name, $Run)
    $own = 'vzt' + $Run.Id.Substring($Run.Id.Length - 6)
    if ($Name -like 'vzt*') { return -not $Name.StartsWith($own) }
    if ($Name -match '^vzp?([0-9a-f]{11})$') {
        $prefix = $Matches[1]
        # ForEach-Object, not .Name: under StrictMode an empty result has no Name (every scope already removed).
        $ids = @(Get-ChildItem "$($Run.Base)/data/private", "$($Run.Base)/*/data/private" -Directory -ErrorAction SilentlyContinue | ForEach-Object Name) -replace '-', ''
        return -not ($ids | Where-Object { $_.StartsWith($prefix) })
    }
    $false
}

function Enter-VzHostWideLock {
    <#
      For tests that change host-wide kernel settings (KSM's run, pages_to_scan, advisor): they restore what they
      change, but two test runs on one machine (work trees, a CI run beside a developer's) would still see each
      other's values in between. An exclusive lock file per setting serialises them; the returned stream is the
      lock, released by Exit-VzHostWideLock (or when the process ends, since .NET takes it with flock).
    #>
    [CmdletBinding()] param([Parameter(Mandatory)][ValidatePattern('^[a-z0-9-]+$')][string] $Name, [int] $TimeoutSeconds = 1800)
    $path = "/run/vz-test-$Name.lock"
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        try { return [IO.FileStream]::new($path, 'OpenOrCreate', 'ReadWrite', 'None') }
        catch [IO.IOException] {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Another test run has held $path for $TimeoutSeconds s; is one stuck?" }
            Start-Sleep -Milliseconds 500
        }
    }
}

function Exit-VzHostWideLock {
    [CmdletBinding()] param([AllowNull()] $Lock)
    if ($Lock) { $Lock.Dispose() }
}

function New-VzTestScope {
    <#
      A per-file (or per-Describe) data root inside the run, so files do not see each other's VEs.
      Returns the paths; Remove-VzTestScope puts the previous environment back.
    #>
    [CmdletBinding()] param([string] $Name = 'scope')
    # Inside the run's folder, so the leak check covers what a scope leaves behind.
    $parent = if ($env:VZ_TEST_BASE) { $env:VZ_TEST_BASE } else { [IO.Path]::GetTempPath() }
    $base = Join-Path $parent ("scope-{0}-{1}" -f $Name, [guid]::NewGuid().ToString('N').Substring(0, 8))
    $scope = [pscustomobject]@{
        Base = $base; Data = Join-Path $base 'data'; Run = Join-Path $base 'run'; HostConfig = Join-Path $base 'host.yaml'
        Previous = @{ VZ_ROOT = $env:VZ_ROOT; VZ_RUN_ROOT = $env:VZ_RUN_ROOT; VZ_HOST_CONFIG = $env:VZ_HOST_CONFIG }
    }
    $null = New-Item -ItemType Directory -Path $scope.Data, $scope.Run -Force
    $env:VZ_ROOT = $scope.Data; $env:VZ_RUN_ROOT = $scope.Run; $env:VZ_HOST_CONFIG = $scope.HostConfig
    $scope
}

function Remove-VzTestScope {
    [CmdletBinding()] param([Parameter(Mandatory)] $Scope)
    foreach ($k in $Scope.Previous.Keys) { [Environment]::SetEnvironmentVariable($k, $Scope.Previous[$k]) }
    if (-not (Get-Content /proc/self/mountinfo | Where-Object { ($_ -split ' ')[4].StartsWith($Scope.Base) })) {
        Remove-Item $Scope.Base -Recurse -Force -ErrorAction SilentlyContinue
    }
}

Export-ModuleMember -Function Enter-VzHostWideLock, Exit-VzHostWideLock, Remove-VzDeadTestRunCgroup, Get-VzCgroupMount, Get-VzCgroupDirectory, Test-VzCgroupExists, Get-VzPwshPath, Get-VzTestLinkName, Get-VzHostSnapshot, Start-VzTestRun, Stop-VzTestRun, Compare-VzHostSnapshot, New-VzTestScope, Remove-VzTestScope
