#Requires -Modules Pester
<#
  Density behaviour: containers created by the one-pass template copy, started and stopped side by side over a
  pipeline (-ThrottleLimit), one failing item among many, and listings that read one container only. Real crun,
  real cgroups; no network. Times are measured in bench/Density.Bench.ps1, never asserted here.
#>
BeforeDiscovery {
    $script:IsRoot = (id -u) -eq '0'
}

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Scope = New-VzTestScope -Name density
}

AfterAll {
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'Containers over a pipeline' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:names = 1..6 | ForEach-Object { "dn$_" }
        foreach ($n in $names) { $null = New-VzContainer $n -MemorySize 64MB }
    }
    AfterAll {
        Get-VzContainer dn* -ErrorAction SilentlyContinue | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
        Get-VzContainer dn* -ErrorAction SilentlyContinue | Remove-VzContainer -Force
    }

    It 'gives the copied tree the container''s own owners, as the template had them' {
        $ct = Get-VzContainer dn1
        $template = (Get-VzTemplate busybox).Path
        $want = & find "$template/root" -printf '%M %s %T@ %l %P\n' | Sort-Object
        $have = & find "$($ct.Path)/root" -printf '%M %s %T@ %l %P\n' | Sort-Object
        Compare-Object $want $have | Should -BeNullOrEmpty
        & find "$($ct.Path)/root" -printf '%U:%G\n' | Sort-Object -Unique | Should -Be "$($ct.UidBase):$($ct.UidBase)"
    }

    It 'starts all of them side by side and returns each with -PassThru' {
        $started = Get-VzContainer dn* | Start-VzContainer -PassThru -ThrottleLimit 3
        $started.Count | Should -Be 6
        ($started.Name | Sort-Object) | Should -Be ($names | Sort-Object)
        $started | ForEach-Object { $_.State | Should -Be Running; $_.InitPid | Should -BeGreaterThan 1 }
        (Invoke-VzContainerCommand dn4 -Shell 'stat -c %u:%g /bin/busybox').StdOut.Trim() | Should -Be '0:0'
    }

    It 'lists one container by name with its live figures' {
        $one = Get-VzContainer dn2
        $one.Name | Should -Be dn2
        $one.MemoryCurrent | Should -BeGreaterThan 0
        $one.ProcessCount | Should -BeGreaterOrEqual 1
    }

    It 'stops them gracefully with the init''s signal, all of them, with one slot' {
        # One slot: the next stop's work goes on while the others' inits shut down on their own.
        $pids = (Get-VzContainer dn*).InitPid
        $stopped = Get-VzContainer dn* | Stop-VzContainer -ThrottleLimit 1 -PassThru
        $stopped.Count | Should -Be 6
        $stopped | ForEach-Object { $_.State | Should -Be Stopped; $_.StateReason | Should -BeNullOrEmpty }
        foreach ($p in $pids) {
            # Gone, or a zombie the host's PID 1 has not reaped yet (this host's reaps late).
            $stat = Get-Content "/proc/$p/stat" -ErrorAction SilentlyContinue
            if ($stat) { ($stat -replace '^.*\) ', '')[0] | Should -BeIn 'Z', 'X' }
        }
    }

    It 'reports one failing container and starts the others' {
        Remove-Item "$((Get-VzContainer dn3).Path)/root/sbin/init" -Force
        $out = Get-VzContainer dn* | Start-VzContainer -PassThru -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        $failed[0].TargetObject | Should -Be dn3
        ($out.Name | Sort-Object) | Should -Be ($names | Where-Object { $_ -ne 'dn3' } | Sort-Object)
        (Get-VzContainer dn3).State | Should -Be Stopped
        Get-VzContainer dn* | Where-Object State -eq Running | Stop-VzContainer -Kill
    }

    It 'refuses a throttle limit below 1' {
        { Stop-VzContainer dn1 -ThrottleLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Virtuozzo.Commands.StopVzContainerCommand'
    }
}
