<#
  Tab completion, driven through TabExpansion2 in this (real) pwsh exactly as PSReadLine calls it on Tab.
  VEs are registry records made through the engine in a per-file data root; templates are folders under
  <data root>/template; snapshots are internal snapshots in a QCOW2 file that qemu-img makes in a VE's folder.
#>
BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestRecords.psm1') -Force
    $scope = New-VzTestScope -Name completion
    $null = New-VzTestVeRecord web01, web02, db01
    $script:vm = New-VzTestVeRecord vmweb1 -Type VirtualMachine
    foreach ($t in 'busybox', 'debian-12', '.partial-debian-13') { $null = New-Item -ItemType Directory (Join-Path $scope.Data "template/$t") -Force }

    # Functions that carry the completers the way cmdlets do ([ArgumentCompleter(typeof(...))]).
    function global:Test-VzCompleteCt { param([ArgumentCompleter([Virtuozzo.Commands.Completion.ContainerNameCompleter])][string[]] $Name) }
    function global:Test-VzCompleteVm { param([ArgumentCompleter([Virtuozzo.Commands.Completion.VmNameCompleter])][string[]] $Name) }
    function global:Test-VzCompleteTemplate { param([ArgumentCompleter([Virtuozzo.Commands.Completion.TemplateNameCompleter])][string] $Template) }
    function global:Test-VzCompleteDisk {
        param([ArgumentCompleter([Virtuozzo.Commands.Completion.VmNameCompleter])][string] $VmName,
              [ArgumentCompleter([Virtuozzo.Commands.Completion.VeDiskPathCompleter])][string] $Path)
    }
    function global:Test-VzCompleteSnapshot {
        param([ArgumentCompleter([Virtuozzo.Commands.Completion.VmNameCompleter])][string] $Name,
              [ArgumentCompleter([Virtuozzo.Commands.Completion.SnapshotNameCompleter])][string] $SnapshotName)
    }

    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }
}

AfterAll {
    Remove-Item function:global:Test-VzComplete* -ErrorAction SilentlyContinue
    Remove-VzTestScope $scope
}

Describe 'VE name completion' -Tag Unit {
    It 'offers containers and VMs on a cmdlet that takes both (Export-VzConfig -Name)' {
        (Get-Completion 'Export-VzConfig -Name ').CompletionText | Should -Be @('db01', 'vmweb1', 'web01', 'web02')
    }

    It 'completes VE names on Get-VzMemoryPlan' {
        (Get-Completion 'Get-VzMemoryPlan d').CompletionText | Should -Be @('db01')
    }

    It 'completes the typed prefix, case-insensitively, positionally too' {
        (Get-Completion 'Export-VzConfig WE').CompletionText | Should -Be @('web01', 'web02')
        (Get-Completion "Export-VzConfig -Name 'we").CompletionText | Should -Be @('web01', 'web02')
    }

    It 'offers only containers or only VMs where the parameter says so' {
        (Get-Completion 'Test-VzCompleteCt -Name ').CompletionText | Should -Be @('db01', 'web01', 'web02')
        (Get-Completion 'Test-VzCompleteVm -Name ').CompletionText | Should -Be @('vmweb1')
    }

    It 'shows the kind and id in the tooltip' {
        $m = Get-Completion 'Test-VzCompleteVm -Name vm'
        $m[0].ToolTip | Should -Match "^VM vmweb1 \($($vm.Id)\)"
    }

    It 'sees a VE created after the first completion' {
        $null = Get-Completion 'Test-VzCompleteCt -Name '
        $null = New-VzTestVeRecord web03
        (Get-Completion 'Test-VzCompleteCt -Name web').CompletionText | Should -Contain 'web03'
    }
}

Describe 'Completers attached to the cmdlets' -Tag Unit {
    BeforeDiscovery {
        Import-Module Virtuozzo -Force
        $vmCmdlets = @(Get-Command -Module Virtuozzo -Noun VzVm* | Where-Object { $_.Verb -ne 'New' -and $_.Parameters['Name'].ParameterType -in [string], [string[]] } |
            ForEach-Object { @{ Command = $_.Name } })
        $ctCmdlets = @(Get-Command -Module Virtuozzo -Noun VzContainer* | Where-Object { $_.Verb -ne 'New' -and $_.Parameters['Name'].ParameterType -in [string], [string[]] } |
            ForEach-Object { @{ Command = $_.Name } })
    }

    It 'completes VM names for <Command> -Name' -ForEach $vmCmdlets {
        (Get-Completion "$Command -Name vm").CompletionText | Should -Be @('vmweb1')
    }

    It 'completes container names for <Command> -Name' -ForEach $ctCmdlets {
        (Get-Completion "$Command -Name db").CompletionText | Should -Be @('db01')
    }

    It 'completes templates on New-VzContainer and disk paths on Add-VzVmDisk' {
        (Get-Completion 'New-VzContainer c1 -Template deb').CompletionText | Should -Be @('debian-12')
        $disk = Join-Path $vm.Directory 'attached.qcow2'
        & qemu-img create -q -f qcow2 $disk 1M
        try { (Get-Completion 'Add-VzVmDisk vmweb1 -Path att').CompletionText | Should -Be @($disk) }
        finally { Remove-Item $disk }
    }
}

Describe 'Template name completion' -Tag Unit {
    It 'offers the cached templates, not work folders' {
        (Get-Completion 'Test-VzCompleteTemplate -Template ').CompletionText | Should -Be @('busybox', 'debian-12')
        (Get-Completion 'Test-VzCompleteTemplate -Template deb').CompletionText | Should -Be @('debian-12')
    }
}

Describe 'Disk path and snapshot completion' -Tag Unit {
    BeforeAll {
        $disk = Join-Path $vm.Directory 'disk0.qcow2'
        & qemu-img create -q -f qcow2 $disk 16M
        $null = New-Item -ItemType File (Join-Path $vm.Directory 'notes.txt')
    }

    It 'offers the disks of the VE named on the command line' {
        (Get-Completion 'Test-VzCompleteDisk -VmName vmweb1 -Path ').CompletionText | Should -Be @($disk)
        (Get-Completion 'Test-VzCompleteDisk -VmName vmweb1 -Path disk').CompletionText | Should -Be @($disk)
    }

    It 'offers nothing when no VE is named' {
        (Get-Completion 'Test-VzCompleteDisk -Path disk').CompletionText | Should -Not -Contain $disk
    }

    It 'offers no snapshot names before a snapshot exists' {
        Get-Completion 'Test-VzCompleteSnapshot -Name vmweb1 -SnapshotName ' | Should -BeNullOrEmpty
    }

    It 'offers the internal snapshots of the VE''s QCOW2 disks' {
        & qemu-img snapshot -c before-upgrade $disk
        & qemu-img snapshot -c nightly $disk
        (Get-Completion 'Test-VzCompleteSnapshot -Name vmweb1 -SnapshotName ').CompletionText | Should -Be @('before-upgrade', 'nightly')
        (Get-Completion 'Test-VzCompleteSnapshot -Name vmweb1 -SnapshotName ni').CompletionText | Should -Be @('nightly')
    }
}
