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
