#Requires -Modules Pester
<#
  Waits that keep their promise (issue 9): Ctrl+C reaches every child process and wait, -Timeout bounds a stop, and
  a VM whose guest agent never connected is reported at once. The VMs here boot no guest (an empty disk: the
  firmware finds nothing to boot), so nothing in them ever answers a shutdown request or opens the agent channel.
  Ctrl+C is a real SIGINT to an interactive pwsh on a pseudo-terminal (Helpers/SendCtrlC.py).
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Scope = New-VzTestScope -Name vmwaits
    $script:Module = (Get-Module Virtuozzo).Path
    $script:CtrlC = Join-Path $PSScriptRoot 'Helpers/SendCtrlC.py'

    # Types $Command into an interactive pwsh (this data root and cgroup parent), presses Ctrl+C once a process whose
    # command line holds $ReadyWhen runs (plus $Delay s), and returns how long the prompt took to come back.
    function script:Invoke-CtrlC([string] $Command, [string] $ReadyWhen, [double] $Delay = 0.5) {
        $setup = "`$env:VZ_ROOT = '$env:VZ_ROOT'; `$env:VZ_RUN_ROOT = '$env:VZ_RUN_ROOT'; `$env:VZ_HOST_CONFIG = '$env:VZ_HOST_CONFIG'; " +
                 "`$env:VZ_CGROUP_PARENT = '$env:VZ_CGROUP_PARENT'; Import-Module '$script:Module'; "
        $json = & python3 $script:CtrlC "cmdline:$ReadyWhen" 120 $Delay 30 -- (Get-VzPwshPath) ($setup + $Command)
        $json | ConvertFrom-Json
    }
    function script:Get-ProcessesOf([string] $Text) {
        @(Get-ChildItem /proc -Directory | Where-Object Name -match '^\d+$' | ForEach-Object {
            $cmd = (Get-Content "$($_.FullName)/cmdline" -Raw -ErrorAction SilentlyContinue) -replace "`0", ' '
            $stat = Get-Content "$($_.FullName)/stat" -ErrorAction SilentlyContinue
            if ($cmd -and $cmd.Contains($Text) -and ($stat -replace '^.*\) (\S).*$', '$1') -notin 'Z', 'X') { "$($_.Name) $cmd" }
        })
    }
}
AfterAll {
    Get-VzVm -ErrorAction SilentlyContinue | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'Ctrl+C' -Tag Integration, Slow, Vms -Skip:(-not $IsRoot) {
    It 'stops Copy-VzVm of a 1.5 GB disk within 2 s: qemu-img ended, no partial copy' {
        $vm = New-VzVm big1 -MemorySize 64MB -DiskSize 2GB -Network None
        & qemu-io -f qcow2 -c 'write -P 0x5a 0 1536M' $vm.Disks[0].Path | Out-Null
        $LASTEXITCODE | Should -Be 0
        $r = Invoke-CtrlC 'Copy-VzVm big1 big2' -ReadyWhen $vm.Disks[0].Path
        $r.ready | Should -BeTrue -Because 'qemu-img convert ran'
        $r.returned | Should -BeTrue -Because $r.output
        $r.seconds_after_sigint | Should -BeLessThan 2 -Because $r.output
        Get-ProcessesOf $vm.Disks[0].Path | Should -BeNullOrEmpty -Because 'qemu-img was killed with the cmdlet'
        @(Get-VzVm).Name | Should -Be @('big1')
        @(Get-ChildItem (Join-Path $env:VZ_ROOT 'private') -Directory).Count | Should -Be 1 -Because 'the half-made copy was removed'
        Remove-VzVm big1 -Force -Confirm:$false
    }

    It 'stops Start-VzVm -Wait on a VM whose agent never comes within 2 s, and the start is undone' {
        $vm = New-VzVm noagent1 -MemorySize 64MB -DiskSize 1MB -Network None
        $r = Invoke-CtrlC 'Start-VzVm noagent1 -Wait -Timeout 120' -ReadyWhen $vm.Id -Delay 2
        $r.ready | Should -BeTrue -Because 'QEMU started'
        $r.returned | Should -BeTrue -Because $r.output
        $r.seconds_after_sigint | Should -BeLessThan 2 -Because $r.output
        Get-ProcessesOf $vm.Id | Should -BeNullOrEmpty -Because 'the QEMU this start launched is gone'
        (Get-VzVm noagent1).State | Should -Be 'Stopped'
        (Get-VzVm noagent1).StateReason | Should -BeNullOrEmpty
        Remove-VzVm noagent1 -Force -Confirm:$false
    }
}

Describe 'Waits on a VM with no guest OS' -Tag Integration, Vms -Skip:(-not $IsRoot) {
    BeforeAll { $null = New-VzVm noos -MemorySize 64MB -DiskSize 1MB -Network None | Start-VzVm }
    AfterAll { Get-VzVm noos -ErrorAction SilentlyContinue | Stop-VzVm -Kill -PassThru | Remove-VzVm -Force -Confirm:$false }

    It 'fails Get-VzVmGuestInfo within 3 s when the agent never connected' {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $err = $null
        try { Get-VzVmGuestInfo noos -ErrorAction Stop } catch { $err = $_ }
        $watch.Stop()
        $err.FullyQualifiedErrorId | Should -Be 'VzGuestAgentNotConnected,Virtuozzo.Commands.GetVzVmGuestInfoCommand'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.ErrorDetails.RecommendedAction | Should -Match 'qemu-guest-agent'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 3
        $err = $null
        try { Get-VzVmGuestNetwork noos -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzGuestAgentNotConnected,Virtuozzo.Commands.GetVzVmGuestNetworkCommand'
    }

    It 'keeps Stop-VzVm -Timeout 5 within 6 s, recommends -Kill, and a second stop does not wait its full default' {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $err = $null
        try { Stop-VzVm noos -Timeout 5 -ErrorAction Stop } catch { $err = $_ }
        $watch.Stop()
        $err.FullyQualifiedErrorId | Should -Be 'VzVmStopTimeout,Virtuozzo.Commands.StopVzVmCommand'
        $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err.ErrorDetails.RecommendedAction | Should -Match '-Kill'
        $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 4.5 -Because 'the guest gets the time it was promised'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 6
        # The guest ignored that request; asking again with the 60 s default must not hold the shell for a minute.
        $watch.Restart()
        $err = $null
        try { Stop-VzVm noos -ErrorAction Stop } catch { $err = $_ }
        $watch.Stop()
        $err.FullyQualifiedErrorId | Should -Be 'VzVmStopTimeout,Virtuozzo.Commands.StopVzVmCommand'
        $err.Exception.Message | Should -Match 'ignored'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        (Get-VzVm noos).State | Should -Be 'Running'
        $watch.Restart()
        (Stop-VzVm noos -Kill -PassThru).State | Should -Be 'Stopped'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 6
    }
}
