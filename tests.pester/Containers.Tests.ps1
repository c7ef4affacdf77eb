#Requires -Modules Pester
<# Parameters, help and bad input of the container cmdlets; nothing here starts a container or changes the host. #>
BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Scope = New-VzTestScope -Name containers-unit
}
AfterAll { Remove-VzTestScope $script:Scope }

Describe 'Container cmdlets' -Tag Containers, Unit {
    It '<Name> is exported with ShouldProcess where it changes state' -ForEach @(
        @{ Name = 'New-VzContainer'; Changes = $true }, @{ Name = 'Set-VzContainer'; Changes = $true },
        @{ Name = 'Start-VzContainer'; Changes = $true }, @{ Name = 'Stop-VzContainer'; Changes = $true },
        @{ Name = 'Restart-VzContainer'; Changes = $true }, @{ Name = 'Suspend-VzContainer'; Changes = $true },
        @{ Name = 'Resume-VzContainer'; Changes = $true }, @{ Name = 'Remove-VzContainer'; Changes = $true },
        @{ Name = 'Rename-VzContainer'; Changes = $true }, @{ Name = 'Copy-VzContainer'; Changes = $true },
        @{ Name = 'Invoke-VzContainerCommand'; Changes = $true }, @{ Name = 'Get-VzContainer'; Changes = $false },
        @{ Name = 'Enter-VzContainer'; Changes = $false }, @{ Name = 'Get-VzTemplate'; Changes = $false },
        @{ Name = 'New-VzTemplate'; Changes = $true }, @{ Name = 'Remove-VzTemplate'; Changes = $true }
    ) {
        $cmd = Get-Command $Name -Module Virtuozzo
        $cmd | Should -Not -BeNullOrEmpty
        $cmd.Parameters.ContainsKey('WhatIf') | Should -Be $Changes
        $cmd.OutputType | Should -Not -BeNullOrEmpty
    }

    # Exact parameter lists of every cmdlet are asserted in one place: Parameters.Tests.ps1 with Parameters.psd1.

    It 'Stop-VzContainer has -Timeout and -Kill, Remove-VzContainer is ConfirmImpact High' {
        (Get-Command Stop-VzContainer).Parameters.Keys | Should -Contain 'Timeout'
        (Get-Command Stop-VzContainer).Parameters.Keys | Should -Contain 'Kill'
        $attr = (Get-Command Remove-VzContainer).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.ConfirmImpact | Should -Be 'High'
    }

    It 'has help with examples for <_>' -ForEach @('New-VzContainer', 'Get-VzContainer', 'Set-VzContainer', 'Start-VzContainer', 'Stop-VzContainer',
        'Restart-VzContainer', 'Suspend-VzContainer', 'Resume-VzContainer', 'Remove-VzContainer', 'Rename-VzContainer', 'Copy-VzContainer',
        'Invoke-VzContainerCommand', 'Enter-VzContainer', 'Get-VzTemplate', 'New-VzTemplate', 'Remove-VzTemplate') {
        $src = Join-Path $env:VZ_SOURCE_ROOT "Virtuozzo.PowerShell/Commands/Containers/$_.md"
        Test-Path $src | Should -BeTrue
        $text = Get-Content -Raw $src
        ([regex]::Matches($text, '(?m)^### Example')).Count | Should -BeGreaterOrEqual 2
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($p in (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common }) { $text | Should -Match "(?m)^### -$p\b" }
    }
}

Describe 'Bad input is a typed error and creates nothing' -Tag Containers, Unit {
    BeforeAll {
        function Assert-NothingCreated {
            @(Get-ChildItem (Join-Path $env:VZ_ROOT 'private') -ErrorAction SilentlyContinue).Count | Should -Be 0
            @(Get-ChildItem /sys/fs/cgroup -Directory | Where-Object { Test-Path "$($_.FullName)/$env:VZ_CGROUP_PARENT" }).Count | Should -Be 0
        }
    }

    It 'an unknown template' {
        { New-VzContainer bad1 -Template no-such-template -ErrorAction Stop } | Should -Throw -ErrorId 'VzTemplateNotFound,Virtuozzo.Commands.NewVzContainerCommand'
        Assert-NothingCreated
    }

    It 'the name <_>' -ForEach @('../x', '', ('a' * 200), 'has space', '-lead') {
        { New-VzContainer $_ -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidName,Virtuozzo.Commands.NewVzContainerCommand'
        Assert-NothingCreated
    }

    It 'a memory size of <_>' -ForEach @(0, 1MB, 1PB) {
        { New-VzContainer bad2 -MemorySize $_ -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidMemorySize,Virtuozzo.Commands.NewVzContainerCommand'
        Assert-NothingCreated
    }

    It 'a CPU mask naming a CPU the host lacks' {
        { New-VzContainer bad3 -CpuMask "0,$([Environment]::ProcessorCount + 7)" -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidCpuMask,Virtuozzo.Commands.NewVzContainerCommand'
        Assert-NothingCreated
    }

    It 'more CPUs than the host has' {
        { New-VzContainer bad4 -CpuCount ([Environment]::ProcessorCount + 1) -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidCpuCount,Virtuozzo.Commands.NewVzContainerCommand'
        Assert-NothingCreated
    }

    It 'CPU units outside 8-500000 are refused by parameter validation' {
        { New-VzContainer bad5 -CpuUnits 7 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Virtuozzo.Commands.NewVzContainerCommand'
        Assert-NothingCreated
    }

    It 'a malformed address' {
        { New-VzContainer bad6 -IpAddress 198.18.0.300/24 -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidIpAddress,Virtuozzo.Commands.NewVzContainerCommand'
        { New-VzContainer bad6 -IpAddress 198.18.0.3/33 -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidIpAddress,Virtuozzo.Commands.NewVzContainerCommand'
        Assert-NothingCreated
    }

    It 'an unknown container is a typed not-found error per item' {
        { Start-VzContainer nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'VzContainerNotFound,Virtuozzo.Commands.StartVzContainerCommand'
        { Get-VzContainer nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'VzContainerNotFound,Virtuozzo.Commands.GetVzContainerCommand'
        Get-VzContainer nosuch* | Should -BeNullOrEmpty
    }
}

Describe 'Templates' -Tag Containers, Unit {
    It 'builds busybox with no network, lists it and removes it' {
        $t = New-VzTemplate busybox
        $t.Name | Should -Be busybox
        $t.Kind | Should -Be Busybox
        $t.StopSignal | Should -Be SIGUSR2
        Test-Path (Join-Path $t.Path 'root/bin/busybox') | Should -BeTrue
        (Get-Item (Join-Path $t.Path 'root/sbin/init')).LinkTarget | Should -Be '/bin/busybox'
        (Get-VzTemplate busybox).SizeBytes | Should -BeGreaterThan 1MB
        { New-VzTemplate busybox -ErrorAction Stop } | Should -Throw -ErrorId 'VzTemplateExists,Virtuozzo.Commands.NewVzTemplateCommand'
        Remove-VzTemplate busybox -Force
        Get-VzTemplate | Should -BeNullOrEmpty
        { Get-VzTemplate busybox -ErrorAction Stop } | Should -Throw -ErrorId 'VzTemplateNotFound,Virtuozzo.Commands.GetVzTemplateCommand'
    }

    It 'an unknown template name needs -Kind' {
        { New-VzTemplate mytpl -ErrorAction Stop } | Should -Throw -ErrorId 'VzTemplateKindRequired,Virtuozzo.Commands.NewVzTemplateCommand'
    }
}
