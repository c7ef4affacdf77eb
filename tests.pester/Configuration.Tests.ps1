<#
  Export-VzConfig / Import-VzConfig: desired state in YAML files. VEs are registry records made through the engine
  (no runtime needed), so these are Unit tests: nothing outside the per-file data root changes.
#>
BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestRecords.psm1') -Force
    $scope = New-VzTestScope -Name config
    $null = New-VzTestVeRecord web01, web02 -MemorySize 256MB
    $null = New-VzTestVeRecord vm01 -Type VirtualMachine -MemorySize 1GB
    $dir = Join-Path $scope.Base 'files'
    $null = New-Item -ItemType Directory $dir
    function ConvertFrom-Yaml2 {
        # YamlDotNet (shipped with the module) into plain objects, to assert on the exported structure.
        param([Parameter(ValueFromPipeline)][string] $Text)
        process {
            $tree = [YamlDotNet.Serialization.DeserializerBuilder]::new().Build().Deserialize([IO.StringReader]::new($Text))
            $tree | ConvertTo-Json -Depth 10 | ConvertFrom-Json
        }
    }
    function Get-Config([string] $Name) { ((Get-VzTestStore).List() | Where-Object { $_.Config.Name -eq $Name }).Config }
}

AfterAll {
    Remove-VzTestScope $scope
}

Describe 'Export-VzConfig' -Tag Unit {
    It 'writes every VE with its settings, without ids' {
        $yaml = Export-VzConfig
        $yaml | Should -BeOfType [string]
        $doc = $yaml | ConvertFrom-Yaml2
        @($doc.ves.name) | Should -Be @('vm01', 'web01', 'web02')
        ($doc.ves | Where-Object name -eq 'web01').memory.size | Should -Be 268435456
        ($doc.ves | Where-Object name -eq 'vm01').type | Should -Be 'VirtualMachine'
        $yaml | Should -Not -Match '(?m)^\s*id:'
    }

    It 'selects by wildcard and by type' {
        @((Export-VzConfig web* | ConvertFrom-Yaml2).ves.name) | Should -Be @('web01', 'web02')
        @((Export-VzConfig -Type VirtualMachine | ConvertFrom-Yaml2).ves.name) | Should -Be @('vm01')
    }

    It 'binds objects by Id (as they come back over remoting)' {
        $id = (Get-VzTestStore).TryFind('web02').Id
        $obj = [pscustomobject]@{ Name = 'ignored-name'; Id = $id }
        @(($obj | Export-VzConfig -Id { $_.Id } | ConvertFrom-Yaml2).ves.name) | Should -Be @('web02')
    }

    It 'reports an unknown name with a typed error' {
        { Export-VzConfig nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'VzVeNotFound,Virtuozzo.Commands.ExportVzConfigCommand'
    }

    It 'writes a file, honours -WhatIf and -NoClobber' {
        $file = Join-Path $dir 'all.yaml'
        Export-VzConfig -Path $file -WhatIf
        Test-Path $file | Should -BeFalse
        $info = Export-VzConfig -Path $file -PassThru
        $info.FullName | Should -Be $file
        (Get-Content $file -Raw) | Should -Match 'name: web01'
        { Export-VzConfig -Path $file -NoClobber -ErrorAction Stop } | Should -Throw -ErrorId 'VzFileExists,Virtuozzo.Commands.ExportVzConfigCommand'
    }
}

# Creating a VE copies a template and shifts its owners into a uid range: that needs root, hence Integration.
Describe 'Import-VzConfig' -Tag Integration {
    It 'round-trips: importing an export changes nothing' {
        $file = Join-Path $dir 'roundtrip.yaml'
        Export-VzConfig -Path $file
        $before = Get-ChildItem (Join-Path $scope.Data 'private') -Recurse -Filter ve.yaml | ForEach-Object { Get-FileHash $_.FullName } | ForEach-Object Hash
        $results = Import-VzConfig $file
        @($results.Action | Sort-Object -Unique) | Should -Be @('Unchanged')
        $after = Get-ChildItem (Join-Path $scope.Data 'private') -Recurse -Filter ve.yaml | ForEach-Object { Get-FileHash $_.FullName } | ForEach-Object Hash
        $after | Should -Be $before
    }

    It 'updates only what the file changes, and says what changed' {
        $file = Join-Path $dir 'update.yaml'
        Set-Content $file "schemaVersion: 1`nves:`n- name: web01`n  type: Container`n  memory:`n    size: 536870912`n    guaranteePercent: 25`n"
        $r = Import-VzConfig $file
        $r.Action | Should -Be 'Update'
        $r.Applied | Should -BeTrue
        $r.Changes | Should -Contain 'memory.size: 268435456 -> 536870912'
        $r.Changes | Should -Contain 'memory.guaranteePercent: (none) -> 25'
        $c = Get-Config web01
        $c.Memory.MemorySize | Should -Be 536870912
        $c.Container.Template | Should -Be 'busybox' -Because 'a section left out of the file is left alone'
    }

    It 'carries boot order, AutoStop and the balloon settings through a file, applied as Set-VzVm applies them' {
        Set-VzVm vm01 -BootOrder 3 -BootDelay 20 -AutoStop Suspend -AutoBalloon $false -MemMerge $false -Confirm:$false
        Set-VzContainer web02 -BootOrder 2 -AutoStop Stop -Confirm:$false
        $file = Join-Path $dir 'automation.yaml'
        Export-VzConfig vm01, web02 -Path $file
        $doc = Get-Content $file -Raw | ConvertFrom-Yaml2
        $v = $doc.ves | Where-Object name -eq 'vm01'
        $v.bootOrder | Should -Be 3
        $v.autoStop | Should -Be 'Suspend'
        $v.vm.memMerge | Should -Be 'false'
        Set-VzVm vm01 -BootOrder 0 -BootDelay 0 -AutoStop None -AutoBalloon $true -MemMerge $true -Confirm:$false
        Set-VzContainer web02 -BootOrder 0 -AutoStop None -Confirm:$false
        $r = Import-VzConfig $file
        ($r | Where-Object Name -eq 'vm01').Changes | Should -Contain 'bootOrder: (none) -> 3'
        $vm = Get-VzVm vm01
        $vm.BootOrder | Should -Be 3
        $vm.BootDelay | Should -Be 20
        $vm.AutoStop | Should -Be 'Suspend'
        $vm.AutoBalloon | Should -BeFalse
        $vm.MemMerge | Should -BeFalse
        (Get-Config web02).BootOrder | Should -Be 2
        (Get-Config web02).AutoStop | Should -Be 'Stop'
        # Put back what the other tests of this file expect.
        Set-VzVm vm01 -BootOrder 0 -BootDelay 0 -AutoStop None -AutoBalloon $true -MemMerge $true -Confirm:$false
        Set-VzContainer web02 -BootOrder 0 -AutoStop None -Confirm:$false
    }

    It 'creates a VE that does not exist, by name' {
        $file = Join-Path $dir 'create.yaml'
        Set-Content $file "schemaVersion: 1`nves:`n- name: web03`n  type: Container`n  cpu:`n    units: 2000`n  container:`n    template: busybox`n"
        $r = Import-VzConfig $file
        $r.Action | Should -Be 'Create'
        $r.Id | Should -Not -Be ([guid]::Empty)
        (Get-Config web03).Cpu.Units | Should -Be 2000
        ((Get-VzTestStore).TryFind('web03')).State | Should -Be 'Ready'
        # Made by the container area, not just registered: a private area from the template and a uid range of its own.
        $ct = Get-VzContainer web03
        $ct.Template | Should -Be 'busybox'
        (Get-Config web03).Container.UidBase | Should -BeGreaterThan 0
        Test-Path (Join-Path ((Get-VzTestStore).TryFind('web03')).Directory 'root/bin/busybox') | Should -BeTrue
    }

    It 'changes nothing under -WhatIf' {
        $file = Join-Path $dir 'whatif.yaml'
        Set-Content $file "schemaVersion: 1`nves:`n- name: web04`n  type: Container`n  container:`n    template: busybox`n- name: web02`n  type: Container`n  onBoot: true`n"
        Import-VzConfig $file -WhatIf | Should -BeNullOrEmpty
        (Get-VzTestStore).TryFind('web04') | Should -BeNullOrEmpty
        (Get-Config web02).OnBoot | Should -BeFalse
    }

    It 'imports only the entries -Name selects' {
        $file = Join-Path $dir 'select.yaml'
        Set-Content $file "schemaVersion: 1`nves:`n- name: web05`n  type: Container`n  container:`n    template: busybox`n- name: web06`n  type: Container`n  container:`n    template: busybox`n"
        @(Import-VzConfig $file -Name web06).Name | Should -Be @('web06')
        (Get-VzTestStore).TryFind('web05') | Should -BeNullOrEmpty
    }

    It 'takes files from Get-ChildItem' {
        $sub = Join-Path $dir 'piped'; $null = New-Item -ItemType Directory $sub
        Set-Content (Join-Path $sub 'a.yaml') "schemaVersion: 1`nves:`n- name: web01`n  type: Container`n"
        @(Get-ChildItem $sub -Filter *.yaml | Import-VzConfig).Name | Should -Be @('web01')
    }

    Context 'a bad file' {
        BeforeAll {
            function Assert-NothingChanged([scriptblock] $Import) {
                $before = (Get-VzTestStore).List() | ForEach-Object { "$($_.Id) $(Get-FileHash (Join-Path $_.Directory 've.yaml') | ForEach-Object Hash)" }
                $err = $null
                try { & $Import } catch { $err = $_ }
                $after = (Get-VzTestStore).List() | ForEach-Object { "$($_.Id) $(Get-FileHash (Join-Path $_.Directory 've.yaml') | ForEach-Object Hash)" }
                $after | Should -Be $before -Because 'a bad file changes no VE'
                $err
            }
        }

        It 'names the line of a bad entry and imports none of the file' {
            $file = Join-Path $dir 'badname.yaml'
            Set-Content $file "schemaVersion: 1`nves:`n- name: web07`n  type: Container`n  container:`n    template: busybox`n- name: ../x`n  type: Container`n"
            $err = Assert-NothingChanged { Import-VzConfig $file -ErrorAction Stop }
            $err.FullyQualifiedErrorId | Should -Be 'VzConfigCorrupt,Virtuozzo.Commands.ImportVzConfigCommand'
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $err.Exception.Message | Should -Match 'badname\.yaml.*line 7'
            (Get-VzTestStore).TryFind('web07') | Should -BeNullOrEmpty
        }

        It 'names the line of an unknown key' {
            $file = Join-Path $dir 'badkey.yaml'
            Set-Content $file "schemaVersion: 1`nves:`n- name: web01`n  type: Container`n  memroy:`n    size: 1`n"
            $err = Assert-NothingChanged { Import-VzConfig $file -ErrorAction Stop }
            $err.Exception.Message | Should -Match 'line 5.*memroy'
        }

        It 'refuses broken YAML, a duplicate name, a guarantee over 100 and a type mismatch' {
            $cases = @{
                'yaml.yaml'  = "schemaVersion: 1`nves:`n- name: [web01`n"
                'dup.yaml'   = "schemaVersion: 1`nves:`n- name: web01`n  type: Container`n- name: WEB01`n  type: Container`n"
                'guar.yaml'  = "schemaVersion: 1`nves:`n- name: web01`n  type: Container`n  memory:`n    guaranteePercent: 101`n"
                'type.yaml'  = "schemaVersion: 1`nves:`n- name: web01`n  type: VirtualMachine`n"
                'notype.yaml' = "schemaVersion: 1`nves:`n- name: web01`n"
                'newer.yaml' = "schemaVersion: 9`nves: []`n"
            }
            foreach ($k in $cases.Keys) {
                $file = Join-Path $dir $k
                Set-Content $file $cases[$k]
                $err = Assert-NothingChanged { Import-VzConfig $file -ErrorAction Stop }
                $err | Should -Not -BeNullOrEmpty -Because "$k is not a valid file"
                $err.FullyQualifiedErrorId | Should -Be 'VzConfigCorrupt,Virtuozzo.Commands.ImportVzConfigCommand' -Because $k
            }
        }

        It 'reports a missing file as not found' {
            { Import-VzConfig (Join-Path $dir 'nosuch.yaml') -ErrorAction Stop } | Should -Throw -ErrorId 'VzConfigFileNotFound,Virtuozzo.Commands.ImportVzConfigCommand'
        }
    }

    It 'returns a job with -AsJob whose output is the same result objects' {
        $file = Join-Path $dir 'job.yaml'
        Set-Content $file "schemaVersion: 1`nves:`n- name: web10`n  type: Container`n  container:`n    template: busybox`n- name: web01`n  type: Container`n  description: from a job`n"
        $job = Import-VzConfig $file -AsJob
        $job | Should -BeOfType [Management.Automation.Job]
        $job.PSJobTypeName | Should -Be 'VzJob'
        (Get-Job -Id $job.Id).Id | Should -Be $job.Id -Because 'the job is in the session''s repository'
        $null = $job | Wait-Job -Timeout 30
        @($job.Progress | Where-Object Activity -eq 'Importing VE settings').Count | Should -BeGreaterThan 0 -Because 'the job reports progress'
        $results = @($job | Receive-Job -Wait -AutoRemoveJob)
        $job.State | Should -Be 'Completed'
        $results | ForEach-Object { $_ | Should -BeOfType [Virtuozzo.Engine.Store.VeConfigImportResult] }
        ($results | Where-Object Name -eq web10).Action | Should -Be 'Create'
        ($results | Where-Object Name -eq web01).Changes | Should -Contain 'description: (none) -> from a job'
        (Get-Config web10) | Should -Not -BeNullOrEmpty
        (Get-Config web01).Description | Should -Be 'from a job'
    }

    It 'validates and confirms before the job: a bad file fails at once, -WhatIf starts no job' {
        $bad = Join-Path $dir 'badname.yaml'
        { Import-VzConfig $bad -AsJob -ErrorAction Stop } | Should -Throw -ErrorId 'VzConfigCorrupt,Virtuozzo.Commands.ImportVzConfigCommand'
        $file = Join-Path $dir 'job-whatif.yaml'
        Set-Content $file "schemaVersion: 1`nves:`n- name: web11`n  type: Container`n  container:`n    template: busybox`n"
        Import-VzConfig $file -AsJob -WhatIf | Should -BeNullOrEmpty
        (Get-VzTestStore).TryFind('web11') | Should -BeNullOrEmpty
    }

    It 'carries a failure while applying into the job, with its error id, and goes on' {
        # Two files each create web12: both plans are made (and valid) before the job applies either, so the job
        # creates web12 from the first and fails the second with the store's VzVeNameInUse.
        $a = Join-Path $dir 'job-a.yaml'; $b = Join-Path $dir 'job-b.yaml'
        Set-Content $a "schemaVersion: 1`nves:`n- name: web12`n  type: Container`n  container:`n    template: busybox`n"
        Set-Content $b "schemaVersion: 1`nves:`n- name: web12`n  type: Container`n  container:`n    template: busybox`n- name: web13`n  type: Container`n  container:`n    template: busybox`n"
        $job = Import-VzConfig $a, $b -AsJob
        $jobErrors = $null
        $results = @($job | Receive-Job -Wait -AutoRemoveJob -ErrorVariable jobErrors -ErrorAction SilentlyContinue)
        $job.State | Should -Be 'Completed' -Because 'one failed entry does not fail the whole import'
        @($results.Name) | Should -Be @('web12', 'web13')
        @($jobErrors).Count | Should -Be 1
        $jobErrors[0].FullyQualifiedErrorId | Should -Match '^VzVeNameInUse'
        $jobErrors[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $jobErrors[0].TargetObject | Should -Be 'web12'
    }

    It 'shows results in the table view, also deserialized' {
        $file = Join-Path $dir 'view.yaml'
        Set-Content $file "schemaVersion: 1`nves:`n- name: web02`n  type: Container`n  description: front end`n"
        $r = Import-VzConfig $file
        ($r | Format-Table | Out-String) | Should -Match 'web02\s+Container\s+Updated\s+description'
        $d = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($r))
        ($d | Format-Table | Out-String) | Should -Match 'web02\s+Container\s+Updated\s+description'
    }
}
