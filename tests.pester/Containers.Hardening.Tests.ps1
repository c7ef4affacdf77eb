#Requires -Modules Pester
<#
  Hardening of containers and honest errors (issue 9): the default seccomp filter and how to loosen it, live hostname
  on rename, the reason a container whose init was killed stopped, corrupt configs found by name, and input errors
  that are the same kind on containers and VMs.
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestRecords.psm1') -Force
    $script:Scope = New-VzTestScope -Name hardening
}
AfterAll {
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'Errors that tell the truth' -Tag Unit {
    It 'finds a VE with a hand-broken ve.yaml by name, and says which one and which file, in plain words' {
        $r = New-VzTestVeRecord c2
        $path = Join-Path $r.Directory 've.yaml'
        Add-Content $path "memory: 5"        # a value where a section belongs: YamlDotNet says "Invalid cast from 'System.String'..."
        foreach ($cmd in 'Get-VzContainer', 'Start-VzContainer', 'Remove-VzContainer') {
            $err = $null
            & $cmd c2 -ErrorVariable err -ErrorAction SilentlyContinue
            $err.Count | Should -Be 1 -Because $cmd
            $err[0].FullyQualifiedErrorId | Should -Be "VzConfigCorrupt,Virtuozzo.Commands.$($cmd -replace '-', '')Command"
            $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $err[0].TargetObject | Should -Be $path
            $err[0].Exception.Message | Should -Match "container 'c2' \(id $($r.Id)\)"
            $err[0].Exception.Message | Should -Match ([regex]::Escape("'$path'") + ' is not valid at line \d+')
            $err[0].Exception.Message | Should -Not -Match 'System\.|Virtuozzo\.|YamlDotNet'
            $err[0].ErrorDetails.RecommendedAction | Should -Match "Remove-VzContainer -Id $($r.Id)"
        }
        Test-Path $r.Directory | Should -BeTrue -Because 'by name the broken VE is reported, not removed'
        Set-Content $path ((Get-Content $path -Raw) -replace 'memory: 5', 'bogusKey: 1')
        $err = $null
        Get-VzContainer -Id $r.Id -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].Exception.Message | Should -Match "'bogusKey' is not a known key"
        $err[0].Exception.Message | Should -Not -Match 'System\.|Virtuozzo\.|YamlDotNet'
        Remove-VzContainer -Id $r.Id -Force
    }

    It 'gives New-VzContainer and New-VzVm the same non-terminating InvalidArgument for a bad name' {
        foreach ($cmd in 'New-VzContainer', 'New-VzVm') {
            $err = $null
            $went_on = $false
            & $cmd 'a/b' -ErrorVariable err -ErrorAction SilentlyContinue; $went_on = $true
            $went_on | Should -BeTrue
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be "VzInvalidName,Virtuozzo.Commands.$($cmd -replace '-', '')Command"
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err[0].TargetObject | Should -Be 'a/b'
        }
        # Non-terminating: the next name in the pipeline is still tried.
        $err = $null
        [pscustomobject]@{ Name = 'x/y' }, [pscustomobject]@{ Name = 'x|z' } | New-VzContainer -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 2
    }

    It 'range-checks -SwapSize with the rule memory uses: 0, or 16 MiB up to the host''s RAM' {
        $null = New-VzTestVeRecord swap1
        foreach ($bad in 1, 1PB, -1) {
            { New-VzContainer swapnew -SwapSize $bad -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidSwapSize,Virtuozzo.Commands.NewVzContainerCommand'
            $err = $null
            Set-VzContainer swap1 -SwapSize $bad -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -Be 'VzInvalidSwapSize,Virtuozzo.Commands.SetVzContainerCommand'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
        (Set-VzContainer swap1 -SwapSize 0 -PassThru).SwapSize | Should -Be 0
        (Set-VzContainer swap1 -SwapSize 64MB -PassThru).SwapSize | Should -Be 64MB
        Get-VzContainer swapnew -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Remove-VzContainer swap1 -Force
    }

    It 'refuses an empty guest password before touching the VM' {
        $null = New-VzTestVeRecord pw1 -Type VirtualMachine
        { Set-VzVmUserPassword pw1 -UserName test -Password (New-Object SecureString) -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzEmptyPassword,Virtuozzo.Commands.SetVzVmUserPasswordCommand'
        try { Set-VzVmUserPassword pw1 -UserName test -Password (New-Object SecureString) -ErrorAction Stop } catch { $e = $_ }
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Remove-VzVm pw1 -Force -Confirm:$false
    }

    It 'checks a custom seccomp profile before storing it' {
        $null = New-VzTestVeRecord sc1
        $notJson = Join-Path $script:Scope.Base 'not.json'
        Set-Content $notJson 'this is not json'
        foreach ($bad in 'relative.json', $notJson, $script:Scope.Base, '/nonexistent/profile.json') {
            $err = $null
            Set-VzContainer sc1 -SeccompProfile $bad -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -Be 'VzInvalidSeccompProfile,Virtuozzo.Commands.SetVzContainerCommand' -Because $bad
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
        (Get-VzContainer sc1).SeccompProfile | Should -Be 'Default'
        (Set-VzContainer sc1 -SeccompProfile unconfined -PassThru).SeccompProfile | Should -Be 'Unconfined'
        (Set-VzContainer sc1 -SeccompProfile Default -PassThru).SeccompProfile | Should -Be 'Default'
        Remove-VzContainer sc1 -Force
    }
}

Describe 'The default seccomp filter of a container' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    BeforeAll { $script:c = New-VzContainer sec1 -MemorySize 128MB | Start-VzContainer -PassThru }
    AfterAll { Get-VzContainer sec1 -ErrorAction SilentlyContinue | Stop-VzContainer -Kill -PassThru | Remove-VzContainer -Force }

    It 'runs every process under a filter' {
        (Invoke-VzContainerCommand sec1 cat /proc/self/status).StdOut | Should -Match '(?m)^Seccomp:\s+2$'
        (Get-Content "/proc/$($c.InitPid)/status" -Raw) | Should -Match '(?m)^Seccomp:\s+2$' -Because 'init is filtered too'
    }

    It 'fails a nested user namespace with EPERM, and the filter is what blocks it' {
        $r = Invoke-VzContainerCommand sec1 unshare -ArgumentList '-U', 'true'
        $r.ExitCode | Should -Not -Be 0
        $r.StdErr | Should -Match 'Operation not permitted'
        Stop-VzContainer sec1 -Kill
        Set-VzContainer sec1 -SeccompProfile Unconfined
        Start-VzContainer sec1
        (Invoke-VzContainerCommand sec1 cat /proc/self/status).StdOut | Should -Match '(?m)^Seccomp:\s+0$'
        (Invoke-VzContainerCommand sec1 unshare -ArgumentList '-U', 'true').ExitCode | Should -Be 0 -Because 'without the filter the kernel allows it'
        Stop-VzContainer sec1 -Kill
        Set-VzContainer sec1 -SeccompProfile Default
        Start-VzContainer sec1
        (Invoke-VzContainerCommand sec1 unshare -ArgumentList '-U', 'true').StdErr | Should -Match 'Operation not permitted'
    }

    It 'fails swapoff, settimeofday and reading the kernel log with EPERM' {
        (Invoke-VzContainerCommand sec1 swapoff /dev/null).StdErr | Should -Match 'Operation not permitted'
        (Invoke-VzContainerCommand sec1 date -ArgumentList '-s', '2001-01-01').StdErr | Should -Match 'Operation not permitted|cannot set date'
        (Invoke-VzContainerCommand sec1 dmesg).StdErr | Should -Match 'Operation not permitted'
    }

    It 'takes a custom profile from a file at the next start' {
        $profile = Join-Path $script:Scope.Base 'deny-mkdir.json'
        @{ defaultAction = 'SCMP_ACT_ALLOW'; syscalls = @(@{ names = @('mkdir', 'mkdirat'); action = 'SCMP_ACT_ERRNO'; errnoRet = 1 }) } | ConvertTo-Json -Depth 5 | Set-Content $profile
        Stop-VzContainer sec1 -Kill
        (Set-VzContainer sec1 -SeccompProfile $profile -PassThru).SeccompProfile | Should -Be $profile
        Start-VzContainer sec1
        $r = Invoke-VzContainerCommand sec1 mkdir /tmp/denied
        $r.ExitCode | Should -Not -Be 0
        $r.StdErr | Should -Match 'Operation not permitted'
        Stop-VzContainer sec1 -Kill
        Set-VzContainer sec1 -SeccompProfile Default
        Start-VzContainer sec1
        (Invoke-VzContainerCommand sec1 mkdir /tmp/allowed).ExitCode | Should -Be 0
    }
}

Describe 'A running container''s identity and end' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    It 'takes its new name as hostname at once when renamed, when the hostname follows the name' {
        $c = New-VzContainer host1 -MemorySize 128MB | Start-VzContainer -PassThru
        try {
            (Invoke-VzContainerCommand host1 hostname).StdOut.Trim() | Should -Be 'host1'
            $r = Rename-VzContainer host1 host2 -PassThru
            $r.Hostname | Should -Be 'host2'
            (Invoke-VzContainerCommand host2 hostname).StdOut.Trim() | Should -Be 'host2'
            (Invoke-VzContainerCommand host2 cat /etc/hostname).StdOut.Trim() | Should -Be 'host2'
        }
        finally { Get-VzContainer host1, host2 -ErrorAction SilentlyContinue | Stop-VzContainer -Kill -PassThru | Remove-VzContainer -Force }
    }

    It 'shows a container whose init was killed as Stopped with the reason; a clean stop has none' {
        $c = New-VzContainer killed1 -MemorySize 128MB | Start-VzContainer -PassThru
        try {
            (Get-VzContainer killed1).StateReason | Should -BeNullOrEmpty
            & kill -9 $c.InitPid
            $end = (Get-Date).AddSeconds(10)
            while ((Get-VzContainer killed1).State -ne 'Stopped' -and (Get-Date) -lt $end) { Start-Sleep -Milliseconds 100 }
            $s = Get-VzContainer killed1
            $s.State | Should -Be Stopped
            $s.StateReason | Should -Match "init \(pid $($c.InitPid)\) ended without Stop-VzContainer"
            Start-VzContainer killed1
            (Stop-VzContainer killed1 -PassThru).StateReason | Should -BeNullOrEmpty
        }
        finally { Get-VzContainer killed1 -ErrorAction SilentlyContinue | Stop-VzContainer -Kill -PassThru | Remove-VzContainer -Force }
    }
}
