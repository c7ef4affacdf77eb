#Requires -Modules Pester
<#
  CPU limits in percent and in MHz (prlctl --cpulimit N% / Nm) for containers and VMs: stored and shown as given, and
  enforced, verified by measurement: a busy loop under a 25 % limit uses 20-30 % of one CPU over 5 s, counted by the
  VE's own cgroup (cpuacct.usage on v1, cpu.stat usage_usec on v2), not by wall-clock share of the machine.
  The machine is shared with other work: for the measurement the run's own cgroup parent gets the highest weight,
  so the loop is held back by its quota (what is tested) and not by other load.
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:Scope = New-VzTestScope -Name cpulimits
    $script:HostMhz = (Get-VzHost).CpuMhz

    # The CPU time (ns) a cgroup's tasks used, from whichever hierarchy this host has.
    function script:Get-CgroupCpuNs([string] $Relative) {
        foreach ($dir in '/sys/fs/cgroup/cpuacct', '/sys/fs/cgroup/cpu,cpuacct') {
            if (Test-Path "$dir$Relative/cpuacct.usage") { return [long](Get-Content "$dir$Relative/cpuacct.usage") }
        }
        $line = Get-Content "/sys/fs/cgroup$Relative/cpu.stat" | Where-Object { $_ -like 'usage_usec *' }
        return [long]($line -split ' ')[1] * 1000
    }
    # The quota (us per 100 ms) a cgroup carries: v1 cpu.cfs_quota_us or v2 cpu.max's first field (-1 for none).
    function script:Get-CgroupQuota([string] $Relative) {
        foreach ($dir in '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct') {
            if (Test-Path "$dir$Relative/cpu.cfs_quota_us") { return [long](Get-Content "$dir$Relative/cpu.cfs_quota_us") }
        }
        $q = ((Get-Content "/sys/fs/cgroup$Relative/cpu.max") -split ' ')[0]
        if ($q -eq 'max') { -1 } else { [long]$q }
    }
    # Share of one CPU the group used over $Seconds (0.25 = 25 %).
    function script:Measure-CgroupCpuShare([string] $Relative, [int] $Seconds = 5) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $before = Get-CgroupCpuNs $Relative
        Start-Sleep -Seconds $Seconds
        $after = Get-CgroupCpuNs $Relative
        $watch.Stop()
        ($after - $before) / ($watch.Elapsed.TotalMilliseconds * 1e6)
    }
    # Gives the run's cgroup parent the top weight for one measurement, then puts the old weight back.
    function script:Invoke-WithTopWeight([scriptblock] $Body) {
        $file = @("/sys/fs/cgroup/cpu/$env:VZ_CGROUP_PARENT/cpu.shares", "/sys/fs/cgroup/cpu,cpuacct/$env:VZ_CGROUP_PARENT/cpu.shares",
            "/sys/fs/cgroup/$env:VZ_CGROUP_PARENT/cpu.weight") | Where-Object { Test-Path $_ } | Select-Object -First 1
        $old = if ($file) { (Get-Content $file).Trim() }
        try {
            if ($file) { Set-Content $file $(if ($file -like '*cpu.weight') { '10000' } else { '262144' }) }
            & $Body
        }
        finally { if ($file) { Set-Content $file $old } }
    }
}
AfterAll {
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'CPU limits in percent and MHz, stored and shown as given' -Tag Unit {
    It 'reports the host''s nominal CPU frequency from the kernel' {
        $script:HostMhz | Should -BeGreaterThan 0
        $maxFreq = '/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq'
        $expected = if (Test-Path $maxFreq) { [double](Get-Content $maxFreq) / 1000 }
        else { [double]((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'cpu MHz*' } | Select-Object -First 1) -split ':')[1].Trim() }
        $script:HostMhz | Should -Be $expected
    }

    It 'takes -CpuLimitMhz, -CpuLimit and -CpuUnits on New- and Set- for VMs, and shows the limit in the unit given' {
        $vm = New-VzVm cpuvm1 -MemorySize 128MB -CpuLimitMhz 650 -CpuUnits 250
        ($vm.CpuLimitMhz, $vm.CpuLimit, $vm.CpuUnits) | Should -Be @(650, $null, 250)
        (Get-VzVm cpuvm1 | Format-List | Out-String -Width 200) | Should -Match 'limit 650 MHz'
        $vm = Set-VzVm cpuvm1 -CpuLimit 40 -PassThru
        ($vm.CpuLimitMhz, $vm.CpuLimit) | Should -Be @($null, 40)
        $vm = Set-VzVm cpuvm1 -CpuLimitMhz 0 -PassThru
        ($vm.CpuLimitMhz, $vm.CpuLimit) | Should -Be @($null, $null)
        $vm = New-VzVm cpuvm2 -MemorySize 128MB -CpuLimit 30
        $vm.CpuLimit | Should -Be 30
    }

    It 'takes -CpuLimitMhz on containers and keeps it in MHz; a pipeline round trip changes nothing' {
        $ct = New-VzContainer cpuct1 -CpuLimitMhz 700 -CpuUnits 300
        ($ct.CpuLimitMhz, $ct.CpuLimit, $ct.CpuUnits) | Should -Be @(700, 0, 300)
        (Get-VzContainer cpuct1 | Format-Table | Out-String -Width 200) | Should -Match '700 MHz'
        Get-VzContainer cpuct1 | Set-VzContainer
        (Get-VzContainer cpuct1).CpuLimitMhz | Should -Be 700
        Get-VzVm cpuvm1 | Set-VzVm -CpuLimitMhz 900
        Get-VzVm cpuvm1 | Set-VzVm
        (Get-VzVm cpuvm1).CpuLimitMhz | Should -Be 900
    }

    It 'refuses a limit in both units, or above the host''s CPUs, with a typed error, changing nothing' {
        $err = $null
        try { Set-VzVm cpuvm1 -CpuLimit 20 -CpuLimitMhz 500 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzConflictingCpuLimit,Virtuozzo.Commands.SetVzVmCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $tooMuch = [int][Math]::Ceiling($script:HostMhz * [Environment]::ProcessorCount) + 100
        $err = $null
        try { Set-VzContainer cpuct1 -CpuLimitMhz $tooMuch -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzInvalidCpuLimit,Virtuozzo.Commands.SetVzContainerCommand'
        $err.Exception.Message | Should -Match "$tooMuch MHz"
        $err = $null
        try { New-VzVm cpuvm3 -MemorySize 128MB -CpuLimitMhz $tooMuch -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzInvalidCpuLimit,Virtuozzo.Commands.NewVzVmCommand'
        Get-VzVm cpuvm3 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-VzContainer cpuct1).CpuLimitMhz | Should -Be 700
        (Get-VzVm cpuvm1).CpuLimitMhz | Should -Be 900
    }

    It 'keeps the MHz limit through Export-VzConfig and Import-VzConfig' {
        $file = Join-Path $script:Scope.Base 'cpu.yaml'
        Export-VzConfig cpuct1, cpuvm1 -Path $file
        (Get-Content -Raw $file) | Should -Match 'limitMhz: 700'
        Set-VzContainer cpuct1 -CpuLimit 10
        Import-VzConfig -Path $file
        (Get-VzContainer cpuct1).CpuLimitMhz | Should -Be 700
        Get-VzVm cpuvm1, cpuvm2 | Remove-VzVm -Force -Confirm:$false
        Remove-VzContainer cpuct1 -Force
    }
}

Describe 'A 25 % limit, measured' -Tag Integration, Slow -Skip:(-not $IsRoot) {
    It 'holds a container''s busy loop to 20-30 % of one CPU, and a MHz limit becomes the quota of the host frequency' {
        $ct = New-VzContainer cpuct2 -Template busybox -MemorySize 64MB -CpuLimit 25 | Start-VzContainer -PassThru
        $rel = "/$env:VZ_CGROUP_PARENT/ct-$($ct.Id.ToString('N'))"
        Get-CgroupQuota $rel | Should -Be 25000
        # Two loops (together they would use two CPUs) held in the foreground of one exec for 30 s, in a thread job,
        # so they run for the whole measurement whatever the runtime does with an exec's background children.
        $loops = Start-ThreadJob {
            Import-Module Virtuozzo
            Invoke-VzContainerCommand cpuct2 sh -ArgumentList '-c', 'timeout 30 sh -c "while :; do :; done" & timeout 30 sh -c "while :; do :; done"; wait' -Timeout 120
        }
        $end = (Get-Date).AddSeconds(60)
        while ((Get-Date) -lt $end -and (Invoke-VzContainerCommand cpuct2 ps).StdOut -notmatch 'while') { Start-Sleep -Milliseconds 200 }
        $share = Invoke-WithTopWeight { Measure-CgroupCpuShare $rel 5 }
        $null = $loops | Wait-Job -Timeout 120 | Receive-Job
        $loops | Remove-Job -Force
        Write-Host ("container with -CpuLimit 25: {0:P1} of one CPU over 5 s (load {1})" -f $share, (Get-Content /proc/loadavg))
        $share | Should -BeGreaterOrEqual 0.20
        $share | Should -BeLessOrEqual 0.30

        Set-VzContainer cpuct2 -CpuLimitMhz 1000
        Get-CgroupQuota $rel | Should -Be ([long][Math]::Ceiling(1000 * 100000 / $script:HostMhz))
        (Get-VzContainer cpuct2).CpuLimitMhz | Should -Be 1000
        Stop-VzContainer cpuct2 -Kill
        Remove-VzContainer cpuct2 -Force
    }

    It 'holds a VM''s busy guest to 20-30 % of one CPU' {
        $guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $vm = New-VzVm cpuvm4 -MemorySize 256MB -CpuCount 1 -CpuLimit 25 -Network User `
            -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments |
            Start-VzVm -Wait -Timeout 300 -PassThru
        $rel = "/$env:VZ_CGROUP_PARENT/vm-$($vm.Id.ToString('N'))"
        Get-CgroupQuota $rel | Should -Be 25000
        $null = Invoke-VzVmCommand cpuvm4 sh -ArgumentList '-c', '(while :; do :; done) </dev/null >/dev/null 2>&1 &' -Timeout 120
        $share = Invoke-WithTopWeight { Measure-CgroupCpuShare $rel 5 }
        Write-Host ("VM with -CpuLimit 25: {0:P1} of one CPU over 5 s (load {1})" -f $share, (Get-Content /proc/loadavg))
        $share | Should -BeGreaterOrEqual 0.20
        $share | Should -BeLessOrEqual 0.30

        Set-VzVm cpuvm4 -CpuLimitMhz 500
        Get-CgroupQuota $rel | Should -Be ([long][Math]::Ceiling(500 * 100000 / $script:HostMhz))
        Stop-VzVm cpuvm4 -Kill
        Remove-VzVm cpuvm4 -Force -Confirm:$false
    }
}
