#Requires -Modules Pester
<#
  The harness's own cgroup checks: Test-VzCgroupExists (what tests use to assert a VE's group is gone) and the
  leak check's snapshot must find a group that exists on either layout, v1 hierarchies and the unified tree,
  or every "Should -BeFalse" on them passes whatever happened.
#>
BeforeDiscovery {
    $script:IsRoot = (id -u) -eq '0'
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
}

Describe 'The harness finds cgroups on either layout' -Tag Integration -Skip:(-not $IsRoot) {
    BeforeEach {
        $script:rel = "$env:VZ_CGROUP_PARENT/harness-probe-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $script:made = [Collections.Generic.List[string]]::new()
    }
    AfterEach {
        # Deepest first: the probe, then the run's parent if this test made it.
        foreach ($dir in $script:made | Sort-Object Length -Descending) { if (Test-Path $dir) { [IO.Directory]::Delete($dir) } }
    }

    It 'finds a group made in the unified (cgroup2) tree' {
        $v2 = Get-VzCgroupMount | Where-Object Version -eq 2 | Select-Object -First 1
        if (-not $v2) { Set-ItResult -Skipped -Because 'this host mounts no cgroup2 tree'; return }
        Test-VzCgroupExists $script:rel | Should -BeFalse
        $parent = Join-Path $v2.Path $env:VZ_CGROUP_PARENT
        if (-not (Test-Path $parent)) { $null = New-Item -ItemType Directory $parent; $script:made.Add($parent) }
        $dir = Join-Path $v2.Path $script:rel
        $null = New-Item -ItemType Directory $dir; $script:made.Add($dir)

        Test-VzCgroupExists $script:rel | Should -BeTrue
        Get-VzCgroupDirectory $script:rel | Should -Be $dir
        (Get-VzHostSnapshot -CgroupParent $env:VZ_CGROUP_PARENT).Cgroups | Should -Contain $parent
    }

    It 'finds a group made in a v1 hierarchy' {
        $v1 = Get-VzCgroupMount | Where-Object { $_.Version -eq 1 -and (Test-Path (Join-Path $_.Path 'memory.limit_in_bytes')) } | Select-Object -First 1
        if (-not $v1) { Set-ItResult -Skipped -Because 'this host has no v1 memory hierarchy'; return }
        Test-VzCgroupExists $script:rel | Should -BeFalse
        $parent = Join-Path $v1.Path $env:VZ_CGROUP_PARENT
        if (-not (Test-Path $parent)) { $null = New-Item -ItemType Directory $parent; $script:made.Add($parent) }
        $dir = Join-Path $v1.Path $script:rel
        $null = New-Item -ItemType Directory $dir; $script:made.Add($dir)

        Test-VzCgroupExists $script:rel | Should -BeTrue
        Get-VzCgroupDirectory $script:rel | Should -Be $dir
        (Get-VzHostSnapshot -CgroupParent $env:VZ_CGROUP_PARENT).Cgroups | Should -Contain $parent
    }
}

Describe 'A killed run''s cgroup parent is swept at the next run''s start' -Tag Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:mount = Get-VzCgroupMount | Where-Object { $_.Version -eq 1 -and (Test-Path (Join-Path $_.Path 'memory.limit_in_bytes')) } | Select-Object -First 1
        if (-not $script:mount) { $script:mount = Get-VzCgroupMount | Select-Object -First 1 }
        $suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)
        # A run that began two days ago and left no owner file (killed before this harness wrote one), and a run
        # whose owner is this very process: only the first is dead.
        $script:deadId = '{0:yyMMddHHmmss}-{1}' -f (Get-Date).AddDays(-2), $suffix
        $script:liveId = '{0:yyMMddHHmmss}-{1}' -f (Get-Date), $suffix
        $script:liveBase = Join-Path ([IO.Path]::GetTempPath()) "vz-test-$script:liveId"
        $null = New-Item -ItemType Directory $script:liveBase -Force
        [IO.File]::WriteAllText((Join-Path $script:liveBase 'owner.pid'), "$PID")
        $script:dead = Join-Path $script:mount.Path "vztest-$script:deadId"
        $script:live = Join-Path $script:mount.Path "vztest-$script:liveId"
        $null = New-Item -ItemType Directory (Join-Path $script:dead 'vz/ct-probe'), (Join-Path $script:live 'vz') -Force
    }
    AfterAll {
        foreach ($dir in "$script:dead/vz/ct-probe", "$script:dead/vz", $script:dead, "$script:live/vz", $script:live) {
            if (Test-Path $dir) { [IO.Directory]::Delete($dir) }
        }
        Remove-Item $script:liveBase -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'removes the dead run''s empty groups and keeps the live run''s' {
        Remove-VzDeadTestRunCgroup -WarningAction SilentlyContinue
        Test-Path $script:dead | Should -BeFalse
        Test-Path (Join-Path $script:live 'vz') | Should -BeTrue
    }
}

Describe 'Host-wide settings are changed by one test run at a time' -Tag Integration -Skip:(-not $IsRoot) {
    It 'holds the lock until it is released, and a second taker times out meanwhile' {
        $name = 'harness-probe-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $lock = Enter-VzHostWideLock $name
        try {
            { Enter-VzHostWideLock $name -TimeoutSeconds 1 } | Should -Throw '*held*'
        } finally { Exit-VzHostWideLock $lock }
        $again = Enter-VzHostWideLock $name -TimeoutSeconds 1
        Exit-VzHostWideLock $again
        Remove-Item "/run/vz-test-$name.lock" -Force
    }
}
