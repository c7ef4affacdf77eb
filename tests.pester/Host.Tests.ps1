# Get-VzHost on this machine, and the module's manifest.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
}

Describe 'Get-VzHost on this host' -Tag Integration, Host {
    BeforeAll { $script:h = Get-VzHost -Refresh }

    It 'reports the cgroup mode the host mounts' {
        $expected = if ((Get-Content /proc/self/mountinfo) -match ' - cgroup2 ' -and (Get-Content /proc/self/mountinfo) -match ' - cgroup ') { 'Hybrid' }
                    elseif ((Get-Content /proc/self/mountinfo) -match ' - cgroup ') { 'V1' } else { 'V2' }
        $script:h.CgroupMode | Should -Be $expected
        ($script:h.CgroupControllers | Where-Object Name -eq 'memory').MountPath | Should -Not -BeNullOrEmpty
    }

    It 'reports the cgroup parent and, on cgroup v2 only, the controllers delegated to it' {
        $script:h.CgroupParent | Should -Be $env:VZ_CGROUP_PARENT
        if ($script:h.CgroupMode -ne 'V2') { $script:h.CgroupDelegatedControllers | Should -BeNullOrEmpty; return }
        # An independent read: the parent's own cgroup.controllers, or what the root passes down before it exists.
        $own = "/sys/fs/cgroup/$env:VZ_CGROUP_PARENT/cgroup.controllers"
        $expected = if (Test-Path $own) { (Get-Content $own -Raw).Trim() } else { (Get-Content /sys/fs/cgroup/cgroup.subtree_control -Raw).Trim() }
        $script:h.CgroupDelegatedControllers -join ' ' | Should -Be $expected
    }

    It 'finds out by a trial guest whether KVM works, agreeing with a trial run here, and falls back to TCG' {
        # An independent probe, made by the test: boot a sector that writes 0x21 to isa-debug-exit under -accel kvm.
        # QEMU then exits with (0x21 << 1) | 1 = 67. /dev/kvm can open while every guest hangs (nested KVM without
        # MSR 0x10a), so only a guest that ran says yes; 'timeout' kills a hung one.
        $kvmRuns = $false
        if (Test-Path /dev/kvm) {
            $sector = [byte[]]::new(512)
            [byte[]](0xB0, 0x21, 0xE6, 0xF4, 0xFA, 0xF4, 0xEB, 0xFD) | ForEach-Object -Begin { $i = 0 } -Process { $sector[$i++] = $_ }
            $sector[510] = 0x55; $sector[511] = 0xAA
            $image = Join-Path $TestDrive 'kvm-trial.img'
            [IO.File]::WriteAllBytes($image, $sector)
            $null = & timeout 30 qemu-system-x86_64 -accel kvm -cpu host -machine pc -m 16 -nodefaults -no-user-config -display none `
                -serial none -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -drive "file=$image,format=raw,if=ide,snapshot=on" 2>&1
            $kvmRuns = $LASTEXITCODE -eq 67
        }
        $script:h.KvmUsable | Should -Be $kvmRuns -Because 'Get-VzHost must agree with a KVM guest run by the test'
        if ((Test-Path /dev/kvm) -and -not $kvmRuns) { $script:h.KvmReason | Should -Not -BeNullOrEmpty -Because 'a KVM guest cannot run on this host' }
        $script:h.TcgAvailable | Should -BeTrue
        $script:h.Accelerator | Should -Be $(if ($kvmRuns) { 'Kvm' } else { 'Tcg' })
    }

    It 'reports memory, CPUs, tools and the data root' {
        $script:h.CpuCount | Should -Be ([Environment]::ProcessorCount)
        $script:h.MemoryTotal | Should -BeGreaterThan 1GB
        $script:h.MemoryAvailable | Should -BeLessOrEqual $script:h.MemoryTotal
        $script:h.QemuVersion | Should -Match '^\d+\.\d+'
        $script:h.QemuImgVersion | Should -Match '^\d+\.\d+'
        $script:h.ContainerRuntimes.Name | Should -Contain 'runc'
        $script:h.KsmAvailable | Should -Be (Test-Path /sys/kernel/mm/ksm/run)
        $script:h.DataRoot | Should -Be ([IO.Path]::GetFullPath($env:VZ_ROOT))
        $script:h.DataRootFreeBytes | Should -BeGreaterThan 0
    }

    It 'answers from its cache after the first probe, with the age of what it found' {
        $again = Get-VzHost
        $again.ProbedAt | Should -Be $script:h.ProbedAt
        $again.ProbeAge | Should -BeGreaterThan ([TimeSpan]::Zero)
    }

    It 'shares the cache with a new process through the run folder' {
        $pwsh = Get-VzPwshPath
        $ticks = & $pwsh -NoProfile -c 'Import-Module Virtuozzo; (Get-VzHost).ProbedAt.UtcTicks'
        [long]$ticks | Should -Be $script:h.ProbedAt.UtcTicks
    }
}

Describe 'The engine bridge' -Tag Integration, Host {
    It 'routes engine logging to the Verbose stream of the running cmdlet' {
        $verbose = Get-VzHost -Refresh -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] }
        $verbose.Message | Should -Contain 'HostProbe: Probing host capabilities (trial guests and containers; takes a few seconds).'
    }
}

Describe 'Set-VzHost' -Tag Integration, Host {
    BeforeAll { $script:scope = New-VzTestScope -Name sethost }
    AfterAll { Remove-VzTestScope $script:scope }

    It 'moves the data root through the host settings file when VZ_ROOT is not set' {
        $saved = $env:VZ_ROOT
        try {
            $target = Join-Path $script:scope.Base 'moved'
            Set-VzHost -DataRoot $target
            Remove-Item env:VZ_ROOT
            (Get-VzHost).DataRoot | Should -Be $target
            Get-Content $env:VZ_HOST_CONFIG -Raw | Should -Match 'dataRoot:'
        }
        finally { $env:VZ_ROOT = $saved }
    }

    It 'changes nothing under -WhatIf' {
        Set-VzHost -ContainerRuntime runc -WhatIf
        if (Test-Path $env:VZ_HOST_CONFIG) { Get-Content $env:VZ_HOST_CONFIG -Raw | Should -Not -Match 'containerRuntime' }
    }

    It 'resolves a relative data root against the current location' {
        Push-Location $script:scope.Base
        try { Set-VzHost -DataRoot 'relative/root' } finally { Pop-Location }
        Get-Content $env:VZ_HOST_CONFIG -Raw | Should -Match ([regex]::Escape((Join-Path $script:scope.Base 'relative/root')))
    }

    It 'rejects an unknown runtime before changing anything' {
        $before = Get-Content $env:VZ_HOST_CONFIG -Raw
        { Set-VzHost -ContainerRuntime lxc -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Virtuozzo.Commands.SetVzHostCommand'
        Get-Content $env:VZ_HOST_CONFIG -Raw | Should -Be $before
    }
}

Describe 'The module manifest' -Tag Unit {
    It 'requires PowerShell 7.6 Core and names its formats and types' {
        $m = Test-ModuleManifest (Join-Path (Get-Module Virtuozzo).ModuleBase 'Virtuozzo.psd1')
        $m.PowerShellVersion | Should -Be ([version]'7.6')
        $m.CompatiblePSEditions | Should -Be @('Core')
        (Import-PowerShellDataFile (Join-Path $env:VZ_SOURCE_ROOT 'Virtuozzo.psd1')).FormatsToProcess | ForEach-Object {
            Join-Path $env:VZ_SOURCE_ROOT $_ | Should -Exist
        }
    }

    It 'exports exactly the cmdlets the assembly defines' {
        $declared = (Import-PowerShellDataFile (Join-Path $env:VZ_SOURCE_ROOT 'Virtuozzo.psd1')).CmdletsToExport | Sort-Object
        $defined = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Virtuozzo.PowerShell' } |
            ForEach-Object { $_.GetExportedTypes() } |
            ForEach-Object { $_.GetCustomAttributes([Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { "$($_.VerbName)-$($_.NounName)" } | Sort-Object
        $declared | Should -Be $defined
    }
}
