<#
  The runbooks in examples/ run for real, as an administrator would run them: each in its own pwsh process
  (pwsh -File), against this file's data root, and the test checks what they wrote.
#>
BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestRecords.psm1') -Force
    $examples = Join-Path (Split-Path $PSScriptRoot) 'examples'
    $pwsh = if (Test-Path (Join-Path $PSHOME 'pwsh')) { Join-Path $PSHOME 'pwsh' } else { (Get-Command pwsh -CommandType Application)[0].Source }
    function Invoke-Runbook([string] $Name, [string[]] $Arguments) {
        $out = & $pwsh -NoProfile -NonInteractive -File (Join-Path $examples $Name) @Arguments 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($out) }
    }
}

Describe 'Runbook examples/Export-VzMemoryPlanReport.ps1' -Tag Unit {
    BeforeAll {
        $scope = New-VzTestScope -Name runbook-memory
        $null = New-VzTestVeRecord web01 -MemorySize 512MB
        $null = New-VzTestVeRecord vm01 -Type VirtualMachine -MemorySize 2GB
    }
    AfterAll { Remove-VzTestScope $scope }

    It 'writes one row per VE in MiB and a host row' {
        $csv = Join-Path $scope.Base 'plan.csv'
        $r = Invoke-Runbook 'Export-VzMemoryPlanReport.ps1' @('-Path', $csv)
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $rows = Import-Csv $csv
        $rows.Name | Should -Be @('vm01', 'web01', '(host)')
        ($rows | Where-Object Name -eq 'web01').MemoryMB | Should -Be '512'
        ($rows | Where-Object Name -eq 'vm01').MemoryMB | Should -Be '2048'
        # The VM's default guarantee is 40 % of its memory (Virtuozzo's "auto"); a container's is 0 %.
        ($rows | Where-Object Name -eq 'vm01').GuaranteeMB | Should -Be ([string][math]::Round(2048 * 0.4))
        ($rows | Where-Object Name -eq 'web01').GuaranteeMB | Should -Be '0'
        [long]($rows | Where-Object Name -eq '(host)').MemoryMB | Should -Be ([math]::Round((Get-VzHost).MemoryTotal / 1MB))
    }
}

Describe 'Runbook examples/Backup-VzDesiredState.ps1' -Tag Unit {
    BeforeAll {
        $scope = New-VzTestScope -Name runbook-backup
        $null = New-VzTestVeRecord web01, web02
        $folder = Join-Path $scope.Base 'state'
    }
    AfterAll { Remove-VzTestScope $scope }

    It 'saves a dated file per night and keeps only the newest -Keep' {
        foreach ($day in 1..4) {
            $r = Invoke-Runbook 'Backup-VzDesiredState.ps1' @('-Folder', $folder, '-Keep', '2', '-Date', "2026-01-0$day")
            $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        }
        $files = @(Get-ChildItem $folder -Filter '*.yaml' | Sort-Object Name)
        $files.Name | Should -Be @("$([Environment]::MachineName)-2026-01-03.yaml", "$([Environment]::MachineName)-2026-01-04.yaml")
        (Get-Content $files[-1].FullName -Raw) | Should -Match 'name: web02'
    }

    It 'restores a changed VE from the saved file' {
        $saved = (Get-ChildItem $folder -Filter '*.yaml' | Sort-Object Name)[-1].FullName
        $store = Get-VzTestStore
        $id = $store.TryFind('web01').Id
        $null = $store.Update($id, [Action[Virtuozzo.Engine.Store.VeConfig]] { param($c) $c.Memory.MemorySize = 64MB }, [Threading.CancellationToken]::None)
        (Import-VzConfig $saved | Where-Object Name -eq web01).Action | Should -Be 'Update'
        $store.TryFind('web01').Config.Memory.MemorySize | Should -Be 256MB
    }
}

Describe 'Runbook examples/Test-VzDesiredState.ps1' -Tag Unit {
    BeforeAll {
        $scope = New-VzTestScope -Name runbook-drift
        $null = New-VzTestVeRecord web01
        $desired = Join-Path $scope.Base 'desired.yaml'
        Set-Content $desired "schemaVersion: 1`nves:`n- name: web01`n  type: Container`n  memory:`n    size: 536870912`n- name: web02`n  type: Container`n  container:`n    template: busybox`n"
    }
    AfterAll { Remove-VzTestScope $scope }

    It 'reports drift with exit code 2 and changes nothing' {
        $r = Invoke-Runbook 'Test-VzDesiredState.ps1' @('-Path', $desired)
        $r.ExitCode | Should -Be 2
        ($r.Output -join "`n") | Should -Match 'web01\s+memory\.size\s+268435456 -> 536870912'
        ($r.Output -join "`n") | Should -Match 'web02\s+\(the VE\)\s+missing'
        (Get-VzTestStore).TryFind('web02') | Should -BeNullOrEmpty
    }

    It 'returns the drift as objects with -PassThru' {
        $rows = & (Join-Path $examples 'Test-VzDesiredState.ps1') -Path $desired -PassThru
        ($rows | Where-Object Name -eq 'web01').Setting | Should -Be 'memory.size'
        ($rows | Where-Object Name -eq 'web02').Change | Should -Be 'missing: would be created'
    }

    It 'repairs with -Repair, after which the host matches' {
        (Invoke-Runbook 'Test-VzDesiredState.ps1' @('-Path', $desired, '-Repair')).ExitCode | Should -Be 0
        (Get-VzTestStore).TryFind('web01').Config.Memory.MemorySize | Should -Be 512MB
        (Get-VzTestStore).TryFind('web02') | Should -Not -BeNullOrEmpty
        $again = Invoke-Runbook 'Test-VzDesiredState.ps1' @('-Path', $desired)
        $again.ExitCode | Should -Be 0
        $again.Output | Should -BeNullOrEmpty
    }
}

Describe 'Runbook examples/Optimize-VzStoppedVmDisk.ps1' -Tag Integration {
    # Needs the VM and disk cmdlets; until both are in the module this block reports as skipped, not passed.
    BeforeAll {
        $script:haveCmdlets = @(Get-Command Get-VzVm, New-VzVm, Remove-VzVm, Optimize-VzDisk -Module Virtuozzo -ErrorAction Ignore).Count -eq 4
        if ($haveCmdlets) {
            $scope = New-VzTestScope -Name runbook-compact
            $vm = New-VzVm compact1 -MemorySize 128MB -DiskSize 64MB
            $disk = @($vm.Disks)[0].Path
            # Write 8 MiB of data, then zero it: the file keeps the clusters until it is compacted.
            & qemu-io -f qcow2 -c 'write -P 0xab 0 8M' $disk | Out-Null
            & qemu-io -f qcow2 -c 'write -z 0 8M' $disk | Out-Null
        }
    }
    AfterAll {
        if ($haveCmdlets) {
            Get-VzVm compact1 -ErrorAction Ignore | Remove-VzVm -Confirm:$false -Force
            Remove-VzTestScope $scope
        }
    }

    It 'compacts the disks of stopped VMs and reports what it saved' {
        $rows = @(& (Join-Path $examples 'Optimize-VzStoppedVmDisk.ps1'))
        $rows.Count | Should -Be 1
        $rows[0].Vm | Should -Be 'compact1'
        $rows[0].AfterMB | Should -BeLessThan $rows[0].BeforeMB
        & qemu-img check -q $disk
        $LASTEXITCODE | Should -Be 0
    }
}

Describe 'Runbook examples/Get-VzHostInventory.ps1' -Tag Integration {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Harness/SshTestHost.psm1') -Force
        $scope = New-VzTestScope -Name runbook-inventory
        $sshBase = Join-Path $scope.Base 'ssh'
        $hosts = @(Start-VzSshTestHost -Directory $sshBase -ModuleRoot (Split-Path (Get-Module Virtuozzo).ModuleBase) -Count 2)
    }
    AfterAll {
        Stop-VzSshTestHost $hosts
        $left = @(Get-VzSshTestProcess -Directory $sshBase)
        Remove-VzTestScope $scope
        if ($left) { throw "The SSH test hosts left processes behind: $($left -join '; ')" }
    }

    It 'writes one row per host, and a row with the error for a host that does not answer' {
        $csv = Join-Path $scope.Base 'inventory.csv'
        $optionsJson = $hosts[0].SshOptions | ConvertTo-Json -Compress
        # Run in-process with the same arguments an administrator gives (hashtables do not cross pwsh -File).
        $rows = & (Join-Path $examples 'Get-VzHostInventory.ps1') -HostName (@($hosts.HostName) + '127.0.0.9') -Port $hosts[0].Port `
            -KeyFilePath $hosts[0].KeyFile -Options ($optionsJson | ConvertFrom-Json -AsHashtable) -ThrottleLimit 1 -Path $csv
        $csvRows = Import-Csv $csv
        $csvRows.Host | Should -Be @('127.0.0.1', '127.0.0.2', '127.0.0.9')
        ($csvRows | Where-Object Host -eq '127.0.0.1').DataRoot | Should -Be $scope.Data
        ($csvRows | Where-Object Host -eq '127.0.0.2').Cpus | Should -Be ([string](Get-VzHost).CpuCount)
        ($csvRows | Where-Object Host -eq '127.0.0.9').Error | Should -Not -BeNullOrEmpty
        @($rows).Count | Should -Be 3
    }
}

Describe 'Runbook examples/New-VzContainersFromList.ps1' -Tag Integration {
    BeforeAll { $script:scope = New-VzTestScope -Name provision }
    AfterAll {
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'creates and starts ten containers from a YAML list, and changes nothing on a second run' {
        $list = Join-Path $script:scope.Base 'ten.yaml'
        $entries = 1..10 | ForEach-Object {
            "- name: ten{0:d2}`n  type: Container`n  memory: {{ size: {1} }}`n  container: {{ template: busybox }}" -f $_, (64MB + $_ * 1MB)
        }
        Set-Content $list ("schemaVersion: 1`nves:`n" + ($entries -join "`n") + "`n")
        $r = Invoke-Runbook 'New-VzContainersFromList.ps1' @('-Path', $list)
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $cts = @(Get-VzContainer -Name 'ten*')
        $cts.Count | Should -Be 10
        $cts.State | Sort-Object -Unique | Should -Be 'Running'
        (Get-VzContainer ten07).MemorySize | Should -Be (64MB + 7MB)
        $again = Invoke-Runbook 'New-VzContainersFromList.ps1' @('-Path', $list, '-Verbose')
        $again.ExitCode | Should -Be 0
        ($again.Output -join "`n") | Should -Match 'Unchanged: 10 VE'
    }
}

Describe 'Runbook examples/Invoke-VzHostDrain.ps1' -Tag Integration {
    BeforeAll {
        $script:scope = New-VzTestScope -Name drain
        $null = New-VzContainer drain-a -Template busybox -MemorySize 64MB | Start-VzContainer
        $null = New-VzContainer drain-b -Template busybox -MemorySize 64MB | Start-VzContainer
        $null = New-VzContainer drain-off -Template busybox -MemorySize 64MB
        # A VM that boots nothing still has memory to save and restore.
        $null = New-VzVm drain-vm -MemorySize 64MB -DiskSize 1MB | Start-VzVm
        $script:state = Join-Path $script:scope.Base 'drain.json'
    }
    AfterAll {
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'stops the running containers, saves the running VM, and records them' {
        $r = Invoke-Runbook 'Invoke-VzHostDrain.ps1' @('-Drain', '-StateFile', $script:state, '-Timeout', '10')
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        (Get-VzContainer -Name 'drain-*').State | Sort-Object -Unique | Should -Be 'Stopped'
        (Get-VzVm drain-vm).State | Should -Not -Be 'Running'
        $saved = Get-Content -Raw $script:state | ConvertFrom-Json
        @($saved.Containers).Count | Should -Be 2
        @($saved.Vms).Count | Should -Be 1
    }

    It 'refuses a second drain while one is recorded' {
        (Invoke-Runbook 'Invoke-VzHostDrain.ps1' @('-Drain', '-StateFile', $script:state)).ExitCode | Should -Not -Be 0
    }

    It 'brings back exactly what ran, and leaves the stopped one stopped' {
        $r = Invoke-Runbook 'Invoke-VzHostDrain.ps1' @('-Restore', '-StateFile', $script:state)
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        (Get-VzContainer drain-a).State | Should -Be 'Running'
        (Get-VzContainer drain-b).State | Should -Be 'Running'
        (Get-VzContainer drain-off).State | Should -Be 'Stopped'
        (Get-VzVm drain-vm).State | Should -Be 'Running'
        Test-Path $script:state | Should -BeFalse
    }
}
