<#
  PowerShell remoting over SSH, for real: private sshd instances on loopback addresses (key-only, the pwsh SSH
  subsystem), started and stopped here. The remote sessions import the module of the tree under test and use this
  file's data root. Each remote scenario is one It block:
      $r = Invoke-VzSshTest $hosts[0] { Import-Module Virtuozzo; Get-VzContainer ct1 }
#>
BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestRecords.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/SshTestHost.psm1') -Force
    $scope = New-VzTestScope -Name remoting
    $moduleRoot = Split-Path (Get-Module Virtuozzo).ModuleBase
    $sshBase = Join-Path $scope.Base 'ssh'
    $hosts = @(Start-VzSshTestHost -Directory $sshBase -ModuleRoot $moduleRoot -Count 2)
    $null = New-VzTestVeRecord web01, web02
}

AfterAll {
    Stop-VzSshTestHost $hosts
    $left = @(Get-VzSshTestProcess -Directory $sshBase)
    Remove-VzTestScope $scope
    if ($left) { throw "The SSH test hosts left processes behind: $($left -join '; ')" }
}

Describe 'Remoting over SSH' -Tag Integration {
    It 'runs the module of the tree under test against this run''s data root' {
        $r = Invoke-VzSshTest $hosts[0] { Import-Module Virtuozzo; [pscustomobject]@{ Base = (& realpath (Get-Module Virtuozzo).ModuleBase); Root = $env:VZ_ROOT } }
        $r.Base | Should -Be (& realpath (Get-Module Virtuozzo).ModuleBase) -Because 'the remote session loads the laid-out module of this tree'
        $r.Root | Should -Be $scope.Data
    }

    It 'returns Get-VzHost as a deserialized HostInfo that shows in the same views' {
        $local = Get-VzHost
        $remote = Invoke-VzSshTest $hosts[0] { Import-Module Virtuozzo; Get-VzHost }
        $remote.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Host.HostInfo'
        $remote.PSComputerName | Should -Be '127.0.0.1'
        $remote.DataRoot | Should -Be $scope.Data
        $remote.CpuCount | Should -Be $local.CpuCount
        $remote.MemoryTotal | Should -Be $local.MemoryTotal

        $l = Get-VzViewText $local; $r = Get-VzViewText $remote
        $r.TableColumns | Should -Be $l.TableColumns
        $r.TableColumns | Should -Contain 'Mem(GB)' -Because 'the module view, not the default property list, formats it'
        $r.ListLabels | Should -Be $l.ListLabels
        $r.ListLabels | Should -Contain 'Accelerator'
        ($remote | Format-List | Out-String) | Should -Match 'Accelerator\s+:\s+(KVM|TCG|none)'
    }

    It 'keeps nested data as objects (SerializationDepth)' {
        $remote = Invoke-VzSshTest $hosts[0] { Import-Module Virtuozzo; Get-VzHost }
        @($remote.ContainerRuntimes).Count | Should -Be @((Get-VzHost).ContainerRuntimes).Count
        foreach ($rt in @($remote.ContainerRuntimes)) {
            $rt.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Host.OciRuntimeInfo'
            $rt.Name | Should -BeIn 'crun', 'runc'
        }
        @($remote.CgroupControllers).Count | Should -BeGreaterThan 0
        @($remote.CgroupControllers)[0].MountPath | Should -Match '^/sys/fs/cgroup'
        $remote.MemoryTotalGB | Should -BeGreaterThan 0 -Because 'the unit alias works on the deserialized type too'
    }

    It 'returns the memory plan and KSM status with the same views' {
        $remote = Invoke-VzSshTest $hosts[0] { Import-Module Virtuozzo; Get-VzMemoryPlan; Get-VzMemoryPlan -Summary; Get-VzKsm }
        $entries = @($remote | Where-Object { $_.PSObject.TypeNames[0] -eq 'Deserialized.Virtuozzo.Engine.Memory.MemoryPlanEntry' })
        @($entries.Name | Sort-Object) | Should -Be @('web01', 'web02')
        $entries[0].MemoryMB | Should -Be 256 -Because 'the unit alias works on the deserialized entry'
        $summary = $remote | Where-Object { $_.PSObject.TypeNames[0] -eq 'Deserialized.Virtuozzo.Engine.Memory.MemoryPlan' }
        @($summary.Entries).Count | Should -Be 2 -Because 'SerializationDepth keeps the entries as objects'
        @($summary.Entries)[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Memory.MemoryPlanEntry'
        $ksm = $remote | Where-Object { $_.PSObject.TypeNames[0] -eq 'Deserialized.Virtuozzo.Engine.Ksm.KsmStatus' }
        $ksm | Should -Not -BeNullOrEmpty
        foreach ($pair in @(@((Get-VzMemoryPlan)[0], $entries[0]), @((Get-VzMemoryPlan -Summary), $summary), @((Get-VzKsm), $ksm))) {
            $l = Get-VzViewText $pair[0]; $r = Get-VzViewText $pair[1]
            $r.TableColumns | Should -Be $l.TableColumns
            $r.ListLabels | Should -Be $l.ListLabels
        }
    }

    It 'keeps the typed error id' {
        $err = $null
        Invoke-VzSshTest $hosts[0] { Import-Module Virtuozzo; Export-VzConfig nosuch } -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -Not -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'VzVeNotFound,Virtuozzo.Commands.ExportVzConfigCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'rebinds objects that came back, by Id, in a second remote call' {
        $file = Join-Path $scope.Base 'remote.yaml'
        Set-Content $file "schemaVersion: 1`nves:`n- name: web02`n  type: Container`n  description: remote`n"
        $results = Invoke-VzSshTest $hosts[0] -ArgumentList $file { param($f) Import-Module Virtuozzo; Import-VzConfig $f }
        $results.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Store.VeConfigImportResult'
        ($results | Format-Table | Out-String) | Should -Match 'web02\s+Container\s+Updated'
        $yaml = $results | ForEach-Object {
            Invoke-VzSshTest $hosts[0] -ArgumentList $_.Id { param($id) Import-Module Virtuozzo; Export-VzConfig -Id $id }
        }
        $yaml | Should -Match 'name: web02'
        $yaml | Should -Match 'description: remote'
    }

    It 'fans out to several hosts with -HostName a,b' {
        $all = Invoke-Command -HostName $hosts.HostName -Port $hosts[0].Port -UserName root -KeyFilePath $hosts[0].KeyFile `
            -Options $hosts[0].SshOptions { Import-Module Virtuozzo; Get-VzHost }
        @($all).Count | Should -Be 2
        @($all.PSComputerName | Sort-Object) | Should -Be @('127.0.0.1', '127.0.0.2')
        @($all | ForEach-Object { $_.PSObject.TypeNames[0] } | Sort-Object -Unique) | Should -Be @('Deserialized.Virtuozzo.Engine.Host.HostInfo')
    }

    It 'fans out through sessions with -ThrottleLimit (the documented pattern), skipping an unreachable host' {
        # The pattern of about_Virtuozzo: sessions to every host that answers, then one throttled Invoke-Command.
        $failed = $null
        $sessions = @(New-PSSession -HostName (@($hosts.HostName) + '127.0.0.9') -Port $hosts[0].Port -UserName root -KeyFilePath $hosts[0].KeyFile `
            -Options $hosts[0].SshOptions -ErrorAction SilentlyContinue -ErrorVariable failed)
        try {
            $sessions.Count | Should -Be 2
            @($failed).Count | Should -BeGreaterThan 0 -Because '127.0.0.9 has no sshd'
            $all = Invoke-Command -Session $sessions -ThrottleLimit 1 { Import-Module Virtuozzo; Get-VzHost }
            @($all.PSComputerName | Sort-Object) | Should -Be @('127.0.0.1', '127.0.0.2')
            ($all | Sort-Object PSComputerName | Format-Table | Out-String -Width 300) | Should -Match '(?s)127\.0\.0\.1.*127\.0\.0\.2'
        }
        finally { $sessions | Remove-PSSession }
    }

    It 'works in an interactive-style session (New-PSSession, then the cmdlets)' {
        $s = New-PSSession -HostName $hosts[1].HostName -Port $hosts[1].Port -UserName root -KeyFilePath $hosts[1].KeyFile -Options $hosts[1].SshOptions
        try {
            Invoke-Command -Session $s { Import-Module Virtuozzo }
            $names = Invoke-Command -Session $s { (Export-VzConfig | Out-String) }
            $names | Should -Match 'name: web01'
            (Invoke-Command -Session $s { (Get-VzHost).DataRoot }) | Should -Be $scope.Data
        }
        finally { Remove-PSSession $s }
    }
}

Describe 'Remoting the container, VM and disk cmdlets' -Tag Integration {
    BeforeAll {
        $null = New-VzContainer rct1 -Template busybox -MemorySize 64MB | Start-VzContainer
        $null = New-VzVm rvm1 -MemorySize 128MB -DiskSize 16MB -Network User   # made, not started: nothing to boot
    }
    AfterAll {
        Get-VzContainer rct1 -ErrorAction SilentlyContinue | Remove-VzContainer -Force -Confirm:$false
        Get-VzVm rvm1 -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false
    }

    It 'returns a running container in the same views, and stops it through its Id in a second call' {
        $remote = Invoke-VzSshTest $hosts[0] { Import-Module Virtuozzo; Get-VzContainer rct1 }
        $remote.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Containers.ContainerInfo'
        $remote.State | Should -Be 'Running'
        $l = Get-VzViewText (Get-VzContainer rct1); $r = Get-VzViewText $remote
        $r.TableColumns | Should -Be $l.TableColumns
        $r.ListLabels | Should -Be $l.ListLabels
        # The pattern of issue 6: objects from one remote call drive the next one by Id.
        $stopped = $remote | ForEach-Object {
            Invoke-VzSshTest $hosts[0] -ArgumentList $_.Id { param($id) Import-Module Virtuozzo; Stop-VzContainer -Id $id -PassThru }
        }
        $stopped.State | Should -Be 'Stopped'
        (Get-VzContainer rct1).State | Should -Be 'Stopped'
    }

    It 'returns a VM with its disks as objects, and the disk through Get-VzDisk' {
        $remote = Invoke-VzSshTest $hosts[0] { Import-Module Virtuozzo; Get-VzVm rvm1 }
        $remote.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Qemu.VmInfo'
        $remoteDisk = @($remote.Disks)[0]
        $remoteDisk.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Qemu.VmDiskInfo'
        $l = Get-VzViewText (Get-VzVm rvm1); $r = Get-VzViewText $remote
        $r.TableColumns | Should -Be $l.TableColumns
        $r.ListLabels | Should -Be $l.ListLabels

        $disk = Invoke-VzSshTest $hosts[1] -ArgumentList $remoteDisk.Path { param($p) Import-Module Virtuozzo; Get-VzDisk $p }
        $disk.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Disks.DiskInfo'
        $disk.VeName | Should -Be 'rvm1'
        $disk.VirtualSize | Should -Be 16MB
        $l = Get-VzViewText (Get-VzDisk $remoteDisk.Path); $r = Get-VzViewText $disk
        $r.TableColumns | Should -Be $l.TableColumns
        $r.ListLabels | Should -Be $l.ListLabels
    }
}
