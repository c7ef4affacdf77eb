# The memory plan and KSM, against the real /sys/kernel/mm/ksm (restored afterwards) and engine-made VEs.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
}

Describe 'Get-VzKsm and Set-VzKsm' -Tag Integration, Memory {
    BeforeAll {
        $script:ksm = '/sys/kernel/mm/ksm'
        $script:ksmLock = Enter-VzHostWideLock ksm
        $script:saved = @{}
        foreach ($f in 'run', 'pages_to_scan', 'sleep_millisecs') { $script:saved[$f] = (Get-Content "$script:ksm/$f").Trim() }
    }
    AfterAll {
        # KSM is host-wide: put back exactly what was there.
        foreach ($f in 'pages_to_scan', 'sleep_millisecs', 'run') { Set-Content "$script:ksm/$f" $script:saved[$f] -NoNewline }
        Exit-VzHostWideLock $script:ksmLock
    }

    It 'reads the kernel values' {
        $k = Get-VzKsm
        $k.Available | Should -BeTrue
        $k.PagesToScan | Should -Be ([int]$script:saved['pages_to_scan'])
        $k.SleepMilliseconds | Should -Be ([int]$script:saved['sleep_millisecs'])
        [int]$k.Run | Should -Be ([int]$script:saved['run'])
        $k.SavedBytes | Should -Be ($k.PagesSharing * [Environment]::SystemPageSize)
    }

    It 'changes the scan rate and reports it back' {
        $k = Set-VzKsm -PagesToScan 321 -SleepMilliseconds 77 -PassThru
        $k.PagesToScan | Should -Be 321
        (Get-Content "$script:ksm/pages_to_scan").Trim() | Should -Be '321'
        (Get-Content "$script:ksm/sleep_millisecs").Trim() | Should -Be '77'
    }

    It 'changes nothing under -WhatIf' {
        Set-VzKsm -PagesToScan 555 -WhatIf
        (Get-Content "$script:ksm/pages_to_scan").Trim() | Should -Not -Be '555'
    }

    It 'refuses an out-of-range value with a parameter validation error' {
        { Set-VzKsm -PagesToScan 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Virtuozzo.Commands.SetVzKsmCommand'
    }
}

Describe 'Get-VzMemoryPlan' -Tag Integration, Memory {
    BeforeAll {
        $script:scope = New-VzTestScope -Name memplan
        $moduleDir = (Get-Module Virtuozzo).ModuleBase
        Add-Type -Path (Join-Path $moduleDir 'Virtuozzo.Engine.dll')
        $store = [Virtuozzo.Engine.Store.VeStore]::new([Virtuozzo.Engine.Configuration.VzPaths]::Resolve($null),
            [Microsoft.Extensions.Logging.Abstractions.NullLogger[Virtuozzo.Engine.Store.VeStore]]::Instance)
        foreach ($spec in @(@{ Name = 'vm-a'; Type = 'VirtualMachine'; Size = 2GB }, @{ Name = 'ct-b'; Type = 'Container'; Size = 512MB; G = 50 })) {
            $c = [Virtuozzo.Engine.Store.VeConfig]::new()
            $c.Name = $spec.Name; $c.Type = $spec.Type; $c.Memory.MemorySize = $spec.Size
            if ($spec.G) { $c.Memory.GuaranteePercent = $spec.G }
            if ($spec.Type -eq 'Container') { $c.Container = [Virtuozzo.Engine.Store.ContainerSettings]::new(); $c.Container.Template = 'busybox' }
            else { $c.Vm = [Virtuozzo.Engine.Store.VmSettings]::new() }
            $r = $store.BeginCreate($c, [Threading.CancellationToken]::None)
            $store.CompleteCreation($r.Id)
        }
    }
    AfterAll { Remove-VzTestScope $script:scope }

    It 'lists every VE with its guarantee, defaulting VMs to 40 % and honouring an explicit one' {
        $plan = Get-VzMemoryPlan
        $plan.Name | Should -Be @('ct-b', 'vm-a')
        $vm = $plan | Where-Object Name -eq 'vm-a'
        $vm.GuaranteePercent | Should -Be 40
        $vm.GuaranteeIsDefault | Should -BeTrue
        $vm.Overhead | Should -Be (64MB + 8 * (2GB / 4096))
        $vm.Protection | Should -Be ($vm.Guarantee + $vm.Overhead)
        ($plan | Where-Object Name -eq 'ct-b').Guarantee | Should -Be (512MB * 50 / 100)
    }

    It 'filters by name with wildcards' {
        (Get-VzMemoryPlan -Name 'vm-*').Name | Should -Be 'vm-a'
    }

    It 'gives host totals with -Summary, and exports to CSV' {
        $s = Get-VzMemoryPlan -Summary
        $s.HostMemory | Should -Be ((Get-VzHost).MemoryTotal)
        $s.Entries.Count | Should -Be 2
        $csv = Join-Path $script:scope.Base 'plan.csv'
        Get-VzMemoryPlan | Export-Csv $csv
        (Import-Csv $csv).Name | Should -Be @('ct-b', 'vm-a')
    }

    It 'renders with its table and list views' {
        (Get-VzMemoryPlan | Format-Table | Out-String) | Should -Match 'ProtectionMB'
        (Get-VzMemoryPlan -Summary | Format-List | Out-String) | Should -Match 'Free for guarantees'
        (Get-VzKsm | Format-List | Out-String) | Should -Match 'Scan rate'
    }
}

Describe 'Admission control' -Tag Integration, Memory {
    BeforeAll {
        $script:scope = New-VzTestScope -Name admission
        # Two containers whose full guarantees cannot both fit in this host's RAM (a bit less than 24 GiB here).
        $script:size = [long]([math]::Floor((Get-VzHost).MemoryTotal * 0.7 / 1MB)) * 1MB
        $null = New-VzContainer big-a -Template busybox -MemorySize $script:size -MemGuarantee 100 | Start-VzContainer
        $null = New-VzContainer big-b -Template busybox -MemorySize $script:size -MemGuarantee 100
    }
    AfterAll {
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'refuses to start a VE whose guarantee does not fit beside the running ones' {
        $err = $null
        try { Start-VzContainer big-b -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzGuaranteeUnavailable,Virtuozzo.Commands.StartVzContainerCommand'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.Exception.Message | Should -Match 'big-b'
        (Get-VzContainer big-b).State | Should -Be 'Stopped'
        (Get-VzMemoryPlan -Summary).GuaranteedMemory | Should -Be $script:size
    }

    It 'starts it without a guarantee, and refuses to raise its guarantee while it runs' {
        Set-VzContainer big-b -MemGuarantee 0
        Start-VzContainer big-b
        (Get-VzContainer big-b).State | Should -Be 'Running'
        { Set-VzContainer big-b -MemGuarantee 100 -ErrorAction Stop } | Should -Throw -ErrorId 'VzGuaranteeUnavailable,Virtuozzo.Commands.SetVzContainerCommand'
        (Get-VzContainer big-b).MemGuaranteePercent | Should -Be 0 -Because 'a refused change changes nothing'
    }

    It 'refuses the same raise through Import-VzConfig (the same engine call as Set-VzContainer)' {
        $file = Join-Path $script:scope.Base 'big-b.yaml'
        Export-VzConfig big-b -Path $file
        $text = Get-Content -Raw $file
        $text | Should -Match 'guaranteePercent: 0'
        $text -replace 'guaranteePercent: 0', 'guaranteePercent: 100' | Set-Content $file
        $err = $null
        $null = Import-VzConfig $file -ErrorVariable err -ErrorAction SilentlyContinue
        @($err).Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'VzGuaranteeUnavailable,Virtuozzo.Commands.ImportVzConfigCommand'
        (Get-VzContainer big-b).MemGuaranteePercent | Should -Be 0 -Because 'a refused change changes nothing'
    }
}
