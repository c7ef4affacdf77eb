# Memory hotplug in a guest that does NOT online hotplugged memory by itself (its kernel lacks
# memhp_default_state=online_movable, like most non-RHEL guests without a udev rule): the engine onlines the new
# blocks through the guest agent. The issue's numbers: 1 GiB to 3 GiB visible in MemTotal within 10 s, balloon first;
# 3 GiB to 1.5 GiB by the balloon within 30 s; the order asserted from the service's event journal.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 30) {
        $end = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $end) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 200 }
        return [bool](& $Condition)
    }
}

Describe 'Hotplugged memory onlined by the guest agent' -Tag Integration, Slow, Vms, Memory {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name memhp
        $script:kargs = ($script:guest.KernelArguments -replace '\s*memhp_default_state=\S+', '').Trim()
        $script:vm = New-VzVm memhp1 -MemorySize 1GB -MemHotplug -Network None -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:kargs |
            Start-VzVm -Wait -Timeout 180 -PassThru
        function script:Get-GuestMeminfoKb([string] $Field) {
            [long](((Invoke-VzVmCommand memhp1 cat /proc/meminfo).StdOut -split "`n" | Where-Object { $_ -like "${Field}:*" }) -replace '\D', '')
        }
        function script:Get-Events {
            Get-Content (Join-Path $env:VZ_RUN_ROOT 'hostservice/events.jsonl') -ErrorAction SilentlyContinue | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object target -eq 'memhp1'
        }
    }
    AfterAll {
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'boots a guest that leaves hotplugged memory offline by itself' {
        (Invoke-VzVmCommand memhp1 cat /proc/cmdline).StdOut | Should -Not -Match 'memhp_default_state'
        # The kernel's own default (CONFIG_MHP_DEFAULT_ONLINE_TYPE) is "offline" in Debian's kernel.
        (Invoke-VzVmCommand memhp1 cat /sys/devices/system/memory/auto_online_blocks).StdOut.Trim() | Should -Be 'offline'
    }

    It 'grows 1 GiB to 3 GiB, balloon first, and the guest''s MemTotal shows it within 10 s' {
        $before = Get-GuestMeminfoKb MemTotal
        $started = Get-Date
        $r = Set-VzVm memhp1 -MemorySize 3GB -PassThru
        $r.MemorySize | Should -Be 3GB
        Wait-Until { (Get-GuestMeminfoKb MemTotal) -ge $before + (2GB - 64MB) / 1KB } -Seconds 10 | Should -BeTrue
        ((Get-Date) - $started).TotalSeconds | Should -BeLessThan 20 -Because 'the whole resize, agent onlining included, is bounded'
        $kinds = @(Get-Events | Select-Object -Last 4).kind
        $kinds | Should -Be @('ResizeBalloonFirst', 'ResizeDimmAdded', 'ResizeOnlined', 'ResizeBalloon')
        (Get-Events | Where-Object kind -eq 'ResizeOnlined' | Select-Object -Last 1).message | Should -Match 'onlined by the guest agent'
    }

    It 'shrinks 3 GiB to 1.5 GiB through the balloon within 30 s, unplugging nothing' {
        $r = Set-VzVm memhp1 -MemorySize 1536MB -PassThru
        $r.MemorySize | Should -Be 1536MB
        # deflate-on-oom keeps ballooned pages in MemTotal, as used: what the guest can use is MemAvailable.
        Wait-Until { (Get-GuestMeminfoKb MemAvailable) -le 1536MB / 1KB } -Seconds 30 | Should -BeTrue
        (Get-Events | Select-Object -Last 1).kind | Should -Be 'ResizeBalloon'
        $engine = [Virtuozzo.Engine.VzEngine]::new([Virtuozzo.Engine.Configuration.VzPaths]::Resolve($null), $null)
        $plugged = @($engine.Vms.QueryMemoryDevicesAsync($script:vm.Id, [Threading.CancellationToken]::None).GetAwaiter().GetResult())
        $recorded = @($engine.Store.TryGet($script:vm.Id).Config.Vm.Dimms)
        $plugged.Count | Should -Be $recorded.Count
        $recorded.Count | Should -BeGreaterThan 0
    }
}
