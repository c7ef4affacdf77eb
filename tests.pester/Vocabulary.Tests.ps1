<#
  One vocabulary for people: every setting a New-Vz* or Set-Vz* cmdlet takes is a property of the same name (or an
  alias) on what the matching Get-Vz* returns, and that value binds back to the parameter; a VE exported to CSV and
  read back into Set-Vz* changes nothing. VEs are registry records made through the engine (no runtime needed).
#>
BeforeDiscovery {
    Import-Module Virtuozzo -Force
    $script:setters = @(Get-Command -Module Virtuozzo -Verb New, Set | Sort-Object Name | ForEach-Object { @{ Command = $_.Name; Noun = $_.Noun } })
}

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestRecords.psm1') -Force
    $scope = New-VzTestScope -Name vocabulary
    $null = New-VzTestVeRecord ct1 -MemorySize 256MB
    $null = New-VzTestVeRecord vm1 -Type VirtualMachine -MemorySize 512MB
    Set-VzContainer ct1 -MemGuarantee 30 -CpuUnits 1500 -CpuLimit 50 -CpuMask 0 -PidsLimit 200 -Hostname ct1.example.test `
        -Nameserver 198.18.0.53, 198.18.0.54 -IpAddress 198.18.7.2/24, 198.18.7.3/24 -Gateway 198.18.7.1 -OnBoot $true -Description 'web tier'
    Set-VzVm vm1 -CpuUnits 1500 -CpuLimit 50 -CpuMask 0 -OnBoot $true -Description 'db tier'
    $disk = Join-Path $scope.Base 'probe.qcow2'
    $null = New-VzDisk $disk -Size 16MB -LazyRefcounts
    $null = New-VzTemplate busybox
    # A Private network on a bridge named for this run (no address, no DHCP: nothing outside the bridge changes).
    $null = New-VzNetwork vocnet -Type Private -Bridge (Get-VzTestLinkName 71)
    $null = Add-VzNetworkAdapter ct1 -Network vocnet -Name eth1 -IpAddress 198.18.7.9/24 -Connected $false

    # What each Get-Vz* twin returns here, and how to call the setter for a binding check that changes nothing (-WhatIf).
    $script:objects = @{
        VzContainer = Get-VzContainer ct1; VzVm = Get-VzVm vm1; VzHost = Get-VzHost; VzKsm = Get-VzKsm
        VzDisk = Get-VzDisk $disk; VzTemplate = Get-VzTemplate busybox
        VzNetwork = Get-VzNetwork vocnet; VzFirewall = Get-VzFirewall ct1; VzNetworkAdapter = Get-VzNetworkAdapter ct1 eth1
    }
    $script:targets = @{
        'New-VzContainer' = @{ Name = 'probe' }; 'Set-VzContainer' = @{ Name = 'ct1' }
        'New-VzVm' = @{ Name = 'probe' }; 'Set-VzVm' = @{ Name = 'vm1' }
        'New-VzDisk' = @{ Path = (Join-Path $scope.Base 'other.qcow2') }; 'New-VzTemplate' = @{ Name = 'probe' }
        'Set-VzHost' = @{}; 'Set-VzKsm' = @{}
        'New-VzNetwork' = @{ Name = 'probe'; Type = 'Private' }; 'Set-VzNetwork' = @{ Name = 'vocnet' }; 'Set-VzFirewall' = @{ Name = 'ct1' }
        'Set-VzNetworkAdapter' = @{ VeName = 'ct1'; Name = 'eth1' }
    }
    # Parameters that say how to make something rather than a setting it keeps; each needs its reason.
    $script:notSettings = @{
        'New-VzVm'        = 'DiskSize', 'DiskPath', 'IsoPath', 'Convert'  # the system disk and DVD (the VM shows them in Disks and DvdDrives), and whether -DiskPath is copied in
        'Set-VzVm'        = @('ChangeSid')                             # a request to the guest (answered NotSupported for Linux), not a setting
        'New-VzDisk'      = 'Path', 'Preallocation', 'RelativeBackingPath'  # the new file, and how it is written: not properties to copy
        'Set-VzFirewall'  = @('Rule')                                  # replaces the whole rule list, which Get-VzFirewallRule returns (the firewall shows RuleCount)
        'Set-VzNetworkAdapter' = 'VeName', 'VeId'                     # which VE's adapter to change (its target, like -Name), not a setting
    }
    $script:ignored = [Management.Automation.Cmdlet]::CommonParameters + [Management.Automation.Cmdlet]::OptionalCommonParameters +
        'Name', 'Id', 'InputObject', 'PassThru', 'Force', 'AsJob', 'WhatIf', 'Confirm'
}

AfterAll {
    Remove-VzNetworkAdapter ct1 eth1 -Confirm:$false -ErrorAction SilentlyContinue   # a network in use cannot go
    Remove-VzNetwork vocnet -Confirm:$false -ErrorAction SilentlyContinue
    Remove-VzTestScope $scope
}

Describe '<Command>: settings named like the properties of Get-<Noun>' -Tag Unit -ForEach $setters {
    It 'has a property for each setting, whose value binds back' {
        if (-not $objects.ContainsKey($Noun)) {
            # Passwords are secrets that nothing reads back; the guest network's Get- twin needs a running guest; DVD
            # media show in Get-VzVm's DvdDrives.
            $Command | Should -BeIn 'Set-VzVmUserPassword', 'Set-VzContainerUserPassword', 'Set-VzVmGuestNetwork', 'Set-VzVmDvdDrive'
            return
        }
        $object = $objects[$Noun]
        $skip = @($notSettings[$Command])
        $settings = @((Get-Command $Command).Parameters.Values | Where-Object { $_.Name -notin $ignored -and $_.Name -notin $skip })
        $settings.Count | Should -BeGreaterThan 0
        foreach ($p in $settings) {
            $property = $object.PSObject.Properties[$p.Name]
            $property | Should -Not -BeNullOrEmpty -Because "$Command -$($p.Name) needs a property $($p.Name) on Get-$Noun's objects"
            if ($null -eq $property.Value) { continue }
            $splat = $targets[$Command].Clone()
            $splat[$p.Name] = $property.Value
            { & $Command @splat -WhatIf -ErrorAction Stop 6>$null } | Should -Not -Throw -Because "Get-$Noun's $($p.Name) ($($property.Value)) must bind to $Command -$($p.Name)"
        }
    }
}

Describe 'A CSV round trip changes nothing' -Tag Unit {
    It 'Get-VzContainer | Export-Csv, then Import-Csv | Set-VzContainer' {
        $yaml = Join-Path $scope.Base 'ct-before.yaml'
        Export-VzConfig ct1 -Path $yaml
        $csv = Join-Path $scope.Base 'ct.csv'
        Get-VzContainer ct1 | Export-Csv $csv
        (Get-Content -Raw $csv) | Should -Not -Match 'System\.' -Because 'lists print as their items, not as a type name'
        Import-Csv $csv | Set-VzContainer
        Compare-VzConfig $yaml | Should -BeNullOrEmpty
        (Get-VzContainer ct1).IpAddress | Should -Be @('198.18.7.2/24', '198.18.7.3/24')
    }

    It 'Get-VzVm | Export-Csv, then Import-Csv | Set-VzVm' {
        $yaml = Join-Path $scope.Base 'vm-before.yaml'
        Export-VzConfig vm1 -Path $yaml
        $csv = Join-Path $scope.Base 'vm.csv'
        Get-VzVm vm1 | Export-Csv $csv
        Import-Csv $csv | Set-VzVm -WarningAction SilentlyContinue
        Compare-VzConfig $yaml | Should -BeNullOrEmpty
    }

    It 'binds a setting changed in the CSV, and an empty cell leaves the setting alone' {
        $csv = Join-Path $scope.Base 'vm2.csv'
        Get-VzVm vm1 | Select-Object Name, MemorySize, MemGuarantee, CpuLimit, OnBoot | Export-Csv $csv
        Import-Csv $csv | ForEach-Object { $_.MemGuarantee = '55'; $_.CpuLimit = ''; $_.OnBoot = 'False'; $_ } | Set-VzVm
        $vm = Get-VzVm vm1
        $vm.MemGuarantee.Percent | Should -Be 55
        $vm.CpuLimit | Should -Be 50
        $vm.OnBoot | Should -BeFalse
    }
}

Describe 'Objects read well outside the format views' -Tag Unit {
    It 'writes states as text and small memory with enough precision in JSON' {
        $json = Get-VzContainer ct1 | ConvertTo-Json -Depth 2 | ConvertFrom-Json
        $json.State | Should -Be 'Stopped'
        @(Get-VzContainer | Where-Object State -eq Stopped).Name | Should -Contain 'ct1'
        (Get-VzVm vm1 | ConvertTo-Json -Depth 2 | ConvertFrom-Json).State | Should -Be 'Stopped'
        ([Virtuozzo.Engine.Containers.ContainerInfo]@{ MemoryCurrent = 176128 }).MemoryCurrentMB | Should -Be 0.168 -Because '172 KiB is not 0 MB'
    }

    It 'prints the host''s controllers and runtimes as short text, not record dumps' {
        $text = Get-VzHost | Format-List * | Out-String -Width 400
        $text | Should -Not -Match 'CgroupControllerInfo \{|OciRuntimeInfo \{'
        "$((Get-VzHost).CgroupControllers[0])" | Should -Match '^\w+ v[12] /'
    }

    It 'takes -MemGuarantee as Auto, a number or text, on both kinds, with one error id out of range' {
        (Set-VzContainer ct1 -MemGuarantee Auto -PassThru).MemGuarantee.IsAuto | Should -BeTrue
        (Set-VzContainer ct1 -MemGuarantee '40' -PassThru).MemGuaranteePercent | Should -Be 40
        (Set-VzVm vm1 -MemGuarantee Auto -PassThru).MemGuaranteePercent | Should -Be 40
        { Set-VzContainer ct1 -MemGuarantee 101 -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidMemGuarantee,Virtuozzo.Commands.SetVzContainerCommand'
        { Set-VzVm vm1 -MemGuarantee 101 -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidMemGuarantee,Virtuozzo.Commands.SetVzVmCommand'
        { New-VzVm probe -MemGuarantee -1 -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidMemGuarantee,Virtuozzo.Commands.NewVzVmCommand'
    }

    It 'refuses more CPUs than the host has, on both kinds, with the same error id' {
        $tooMany = [Environment]::ProcessorCount + 1
        { Set-VzContainer ct1 -CpuCount $tooMany -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidCpuCount,Virtuozzo.Commands.SetVzContainerCommand'
        { Set-VzVm vm1 -CpuCount $tooMany -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidCpuCount,Virtuozzo.Commands.SetVzVmCommand'
        { New-VzVm probe -CpuCount $tooMany -ErrorAction Stop } | Should -Throw -ErrorId 'VzInvalidCpuCount,Virtuozzo.Commands.NewVzVmCommand'
    }
}
