#Requires -Modules Pester
<#
  Network adapters (Add/Get/Set/Remove-VzNetworkAdapter) against real bridges, veths, taps, a TCG test guest with its
  guest agent and real containers. Every network is Private and every "host on the network" is a network namespace
  this file makes (held by a sleep it kills), joined to the network's bridge by a veth: traffic never leaves them.
  Addresses: 198.19.30.0/24-198.19.34.0/24 only; bridges and veths carry the run id (Get-VzTestLinkName 90-98).
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Root = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
    $script:Scope = New-VzTestScope -Name nics
    $script:Table = 'vz_' + ($env:VZ_CGROUP_PARENT -replace '[^A-Za-z0-9_]', '_')
    $script:Holders = [Collections.Generic.List[int]]::new()
    $script:Links = [Collections.Generic.List[string]]::new()

    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        while ($sw.Elapsed.TotalSeconds -lt $Seconds) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 500 }
        [bool](& $Condition)
    }
    function script:New-NetworkHost([int] $LinkIndex, [string] $Bridge, [string] $Address) {
        # A host on the network: a namespace of its own whose eth0 is a veth whose other end is a port of the bridge.
        $holder = Start-Process -FilePath unshare -ArgumentList '-n', 'sleep', '1800' -PassThru
        $script:Holders.Add($holder.Id)
        $ns = $holder.Id
        for ($i = 0; $i -lt 50 -and ((& readlink /proc/$ns/ns/net) -eq (& readlink /proc/self/ns/net)); $i++) { Start-Sleep -Milliseconds 20 }
        $hostEnd = Get-VzTestLinkName $LinkIndex
        $peer = Get-VzTestLinkName ($LinkIndex + 1)
        & ip link add $hostEnd type veth peer name $peer netns $ns
        $script:Links.Add($hostEnd)
        & nsenter -t $ns -n ip link set lo up
        & nsenter -t $ns -n ip link set $peer name eth0
        & nsenter -t $ns -n ip addr add $Address dev eth0
        & nsenter -t $ns -n ip link set eth0 up
        & ip link set $hostEnd master $Bridge up
        $ns
    }
    function script:Test-Ping([int] $FromPid, [string] $To, [int] $Tries = 1) {
        for ($i = 0; $i -lt $Tries; $i++) {
            & nsenter -t $FromPid -n busybox ping -c 1 -W 2 $To *> $null
            if ($LASTEXITCODE -eq 0) { return $true }
        }
        $false
    }
    function script:Invoke-Qmp([object] $Vm, [string] $Command, [string] $Arguments) {
        # Holding the VM's qmp.lock keeps the engine's own monitor sessions out meanwhile (QEMU serves one client).
        $rt = Join-Path $env:VZ_RUN_ROOT ($Vm.Id.ToString('N').Substring(0, 12))
        $qmpArgs = @((Join-Path $rt 'qmp.lock'), 'python3', (Join-Path $PSScriptRoot 'Helpers/Qmp.py'), (Join-Path $rt 'qmp.sock'), $Command)
        if ($Arguments) { $qmpArgs += $Arguments }
        $out = & flock @qmpArgs
        $LASTEXITCODE | Should -Be 0 -Because "QMP $Command answers"
        $out | ConvertFrom-Json -Depth 20
    }
    function script:Get-PciIds([object] $Vm) {
        # qdev ids of every PCI device, also those behind root ports (query-pci nests them under pci_bridge).
        $ids = [Collections.Generic.List[string]]::new()
        function Walk($devices) {
            foreach ($d in $devices) {
                if ($d.qdev_id) { $ids.Add($d.qdev_id) }
                if ($d.pci_bridge -and $d.pci_bridge.devices) { Walk $d.pci_bridge.devices }
            }
        }
        foreach ($bus in (Invoke-Qmp $Vm 'query-pci')) { Walk $bus.devices }
        $ids
    }
    function script:Get-GuestNic([string] $Vm, [string] $Mac) {
        Get-VzVmGuestNetwork $Vm -Timeout 120 | Where-Object { $_.MacAddress -and $_.MacAddress.ToUpperInvariant() -eq $Mac.ToUpperInvariant() }
    }
    function script:Get-HostLinks([guid] $Id) {
        # Every host interface the engine names after this VE: first-NIC veth/tap and added adapters' taps and veths.
        $hex = $Id.ToString('N')
        @(Get-ChildItem /sys/class/net | ForEach-Object Name | Where-Object {
                $_ -eq "vz$($hex.Substring(0, 11))" -or $_ -eq "vzt$($hex.Substring(0, 12))" -or $_ -match "^vz[xyq]$($hex.Substring(0, 10))\d\d$" })
    }

    if ((id -u) -eq '0') {
        $script:Bridges = @{ a = Get-VzTestLinkName 90; b = Get-VzTestLinkName 91; c = Get-VzTestLinkName 92 }
        New-VzNetwork nica -Type Private -Bridge $script:Bridges.a | Out-Null
        New-VzNetwork nicb -Type Private -Bridge $script:Bridges.b | Out-Null
        New-VzNetwork nicc -Type Private -Bridge $script:Bridges.c | Out-Null
        $script:HostA = New-NetworkHost 93 $script:Bridges.a 198.19.30.1/24
        $script:HostB = New-NetworkHost 95 $script:Bridges.b 198.19.31.1/24
        $script:HostC = New-NetworkHost 97 $script:Bridges.c 198.19.32.1/24
    }
}

AfterAll {
    Get-VzVm -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Get-VzNetwork -ErrorAction SilentlyContinue | Remove-VzNetwork -Confirm:$false -ErrorAction SilentlyContinue
    foreach ($l in $script:Links) { & ip link del $l 2>$null }
    foreach ($h in $script:Holders) { Stop-Process -Id $h -Force -ErrorAction SilentlyContinue }
    & nft delete table inet $script:Table 2>$null
    & nft delete table bridge $script:Table 2>$null
    Remove-VzTestScope $script:Scope
}

Describe 'Bad adapter input' -Tag NetworkAdapters, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:ct = New-VzContainer nicbad -Template busybox -MemorySize 64MB
        $script:first = Add-VzNetworkAdapter nicbad -Network nica -Name eth1 -IpAddress 198.19.30.50/24 -PassThru
        $script:YamlBefore = Get-Content (Join-Path $script:ct.Path 've.yaml') -Raw
    }
    AfterAll { Remove-VzContainer nicbad -Force -ErrorAction SilentlyContinue }

    It 'refuses <Case> with <ErrorId> (<Category>) and changes nothing' -ForEach @(
        @{ Case = 'an unknown network'; ErrorId = 'VzNetworkNotFound'; Category = 'ObjectNotFound'; Call = { Add-VzNetworkAdapter nicbad -Network nosuchnet -ErrorAction Stop } }
        @{ Case = 'a duplicate adapter name'; ErrorId = 'VzNetworkAdapterExists'; Category = 'ResourceExists'; Call = { Add-VzNetworkAdapter nicbad -Network nicb -Name eth1 -ErrorAction Stop } }
        @{ Case = 'a MAC another adapter has'; ErrorId = 'VzMacAddressInUse'; Category = 'ResourceExists'; Call = { Add-VzNetworkAdapter nicbad -Network nicb -MacAddress $script:first.MacAddress.ToLower() -ErrorAction Stop } }
        @{ Case = 'a multicast MAC'; ErrorId = 'VzMulticastMacAddress'; Category = 'InvalidArgument'; Call = { Add-VzNetworkAdapter nicbad -Network nicb -MacAddress 01:00:5E:00:00:01 -ErrorAction Stop } }
        @{ Case = 'a malformed MAC'; ErrorId = 'VzInvalidMacAddress'; Category = 'InvalidArgument'; Call = { Add-VzNetworkAdapter nicbad -Network nicb -MacAddress 02:1C:42:00:00 -ErrorAction Stop } }
        @{ Case = 'a bad address'; ErrorId = 'VzInvalidIpAddress'; Category = 'InvalidArgument'; Call = { Add-VzNetworkAdapter nicbad -Network nicb -IpAddress 198.19.31.300/24 -ErrorAction Stop } }
        @{ Case = 'a name no interface can have'; ErrorId = 'VzInvalidInterfaceName'; Category = 'InvalidArgument'; Call = { Add-VzNetworkAdapter nicbad -Network nicb -Name 'much-too-long-name0' -ErrorAction Stop } }
        @{ Case = 'an adapter the VE lacks'; ErrorId = 'VzNetworkAdapterNotFound'; Category = 'ObjectNotFound'; Call = { Set-VzNetworkAdapter nicbad eth7 -Connected $false -ErrorAction Stop } }
        @{ Case = 'a network with shell characters'; ErrorId = 'VzInvalidNetworkName'; Category = 'InvalidArgument'; Call = { Add-VzNetworkAdapter nicbad -Network 'x;reboot' -ErrorAction Stop } }
    ) {
        $err = $null
        try { & $Call } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId,Virtuozzo.Commands.*"
        $err.CategoryInfo.Category | Should -Be $Category
        Get-Content (Join-Path $script:ct.Path 've.yaml') -Raw | Should -Be $script:YamlBefore
        Get-HostLinks $script:ct.Id | Should -BeNullOrEmpty
    }

    It 'gives a VM adapter no addresses (VzAdapterAddressNotForVm) and leaves the VM as it was' {
        $vm = New-VzVm nicbadvm -MemorySize 64MB
        $err = $null
        try { Add-VzNetworkAdapter nicbadvm -Network nica -IpAddress 198.19.30.9/24 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzAdapterAddressNotForVm,Virtuozzo.Commands.AddVzNetworkAdapterCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-VzNetworkAdapter nicbadvm | Should -BeNullOrEmpty
        Remove-VzVm nicbadvm -Force -Confirm:$false
    }

    It 'refuses to remove an adapter from a suspended container (VzVeStateTransitional) and leaves its veth in place' {
        Start-VzContainer nicbad | Out-Null
        $veth = (Get-VzNetworkAdapter nicbad eth1).HostInterface
        Test-Path "/sys/class/net/$veth" | Should -BeTrue
        Suspend-VzContainer nicbad
        try {
            $err = $null
            try { Remove-VzNetworkAdapter nicbad eth1 -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzVeStateTransitional,Virtuozzo.Commands.RemoveVzNetworkAdapterCommand'
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            (Get-VzNetworkAdapter nicbad eth1).Active | Should -BeTrue
            Test-Path "/sys/class/net/$veth" | Should -BeTrue
        } finally { Resume-VzContainer nicbad }
        Stop-VzContainer nicbad -Kill
        Get-HostLinks $script:ct.Id | Should -BeNullOrEmpty -Because 'the adapters'' veths go with the container'
    }

    It 'keeps a network in use by an adapter (VzNetworkInUse)' {
        $err = $null
        try { Remove-VzNetwork nica -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzNetworkInUse,Virtuozzo.Commands.RemoveVzNetworkCommand'
        (Get-VzNetwork nica).VeNames | Should -Contain 'nicbad'
    }
}

Describe 'A VM (TCG test guest) with several adapters' -Tag NetworkAdapters, Integration, Slow, Vms -Skip:(-not $IsRoot) {
    BeforeAll {
        $guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:vm = New-VzVm nicvm -MemorySize 256MB -CpuCount 1 -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
        # Piped from Get-VzVm: the VM binds through its Id.
        $script:a = Get-VzVm nicvm | Add-VzNetworkAdapter -Network nica -Name lan -PassThru
        $script:b = Add-VzNetworkAdapter nicvm -Network nicb -Name san -PassThru
        $script:vm = Start-VzVm nicvm -Wait -Timeout 300 -PassThru
    }
    AfterAll {
        Get-VzVm nicvm -ErrorAction SilentlyContinue | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Remove-VzVm nicvm -Force -Confirm:$false -ErrorAction SilentlyContinue
    }

    It 'has two adapters on two networks, each reachable from a host on its network' {
        $script:a.MacAddress | Should -Match '^02:1C:42(:[0-9A-F]{2}){3}$'
        $script:a.MacAddress | Should -Not -Be $script:b.MacAddress
        $nics = Get-VzNetworkAdapter nicvm
        $nics.Name | Should -Be @('lan', 'san')
        $nics | ForEach-Object { $_.Active | Should -BeTrue }
        (Split-Path -Leaf (& readlink "/sys/class/net/$($nics[0].HostInterface)/master")) | Should -Be $script:Bridges.a
        (Split-Path -Leaf (& readlink "/sys/class/net/$($nics[1].HostInterface)/master")) | Should -Be $script:Bridges.b
        Wait-Until { ($script:lanIf = Get-GuestNic nicvm $script:a.MacAddress) -and ($script:sanIf = Get-GuestNic nicvm $script:b.MacAddress) } 120 | Should -BeTrue
        Set-VzVmGuestNetwork nicvm -InterfaceName $script:lanIf.Name -IPAddress 198.19.30.10/24 -Timeout 120
        Set-VzVmGuestNetwork nicvm -InterfaceName $script:sanIf.Name -IPAddress 198.19.31.10/24 -Timeout 120
        Test-Ping $script:HostA 198.19.30.10 -Tries 10 | Should -BeTrue
        Test-Ping $script:HostB 198.19.31.10 -Tries 10 | Should -BeTrue
        Test-Ping $script:HostA 198.19.31.10 | Should -BeFalse -Because 'the networks are apart'
    }

    It 'stops traffic with the link down and restores it with the link up (QMP set_link)' {
        Set-VzNetworkAdapter nicvm lan -Connected $false
        (Get-VzNetworkAdapter nicvm lan).Connected | Should -BeFalse
        Test-Ping $script:HostA 198.19.30.10 -Tries 2 | Should -BeFalse
        Test-Ping $script:HostB 198.19.31.10 -Tries 5 | Should -BeTrue -Because 'only lan lost its link'
        Set-VzNetworkAdapter nicvm lan -Connected $true
        Test-Ping $script:HostA 198.19.30.10 -Tries 10 | Should -BeTrue
    }

    It 'hot-adds an adapter the guest sees (guest-network-get-interfaces) and that passes traffic' {
        $pciBefore = Get-PciIds $script:vm
        $c = Add-VzNetworkAdapter nicvm -Network nicc -PassThru
        $c.Name | Should -Be 'eth1' -Because 'the first free ethN'
        $c.Active | Should -BeTrue
        Test-Path "/sys/class/net/$($c.HostInterface)" | Should -BeTrue
        Get-PciIds $script:vm | Should -Contain 'nic3'
        $pciBefore | Should -Not -Contain 'nic3'
        $script:c = $c
        $seen = Wait-Until { ($script:cIf = Get-GuestNic nicvm $script:c.MacAddress) } 180
        $why = if ($seen) { '' } else { (Invoke-VzVmCommand nicvm sh -ArgumentList '-c', 'ip -o link; dmesg | grep -i -E "pci|virtio" | tail -15' -Timeout 60).StdOut }
        $seen | Should -BeTrue -Because "the guest found the hot-plugged virtio-net device $why"
        Set-VzVmGuestNetwork nicvm -InterfaceName $script:cIf.Name -IPAddress 198.19.32.10/24 -Timeout 120
        Test-Ping $script:HostC 198.19.32.10 -Tries 10 | Should -BeTrue
    }

    It 'hot-removes it: no QEMU device, no tap, and the guest lost the interface' {
        $script:c | Should -Not -BeNullOrEmpty -Because 'the adapter was added'
        Remove-VzNetworkAdapter nicvm eth1 -Confirm:$false
        Get-PciIds $script:vm | Should -Not -Contain 'nic3'
        (Invoke-Qmp $script:vm 'qom-list' '{"path":"/machine/peripheral"}').name | Should -Not -Contain 'nic3'
        Test-Path "/sys/class/net/$($script:c.HostInterface)" | Should -BeFalse
        Get-GuestNic nicvm $script:c.MacAddress | Should -BeNullOrEmpty
        Test-Ping $script:HostC 198.19.32.10 | Should -BeFalse
        (Get-VzNetworkAdapter nicvm).Name | Should -Be @('lan', 'san')
        Test-Ping $script:HostA 198.19.30.10 -Tries 5 | Should -BeTrue -Because 'the other adapters keep working'
    }

    It 'hot-removes a cold-plugged adapter too (it sits on a PCIe port of its own)' {
        Remove-VzNetworkAdapter nicvm san -Confirm:$false
        Get-PciIds $script:vm | Should -Not -Contain 'nic2'
        Test-Path "/sys/class/net/$($script:b.HostInterface)" | Should -BeFalse
        Test-Ping $script:HostB 198.19.31.10 -Tries 2 | Should -BeFalse
    }

    It 'leaves no tap once the VM stops' {
        Stop-VzVm nicvm -Kill
        Get-HostLinks $script:vm.Id | Should -BeNullOrEmpty
    }
}

Describe 'A running container with an added adapter' -Tag NetworkAdapters, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        New-VzContainer nicct -Template busybox -MemorySize 64MB -IpAddress 198.19.30.20/24 -Bridge $script:Bridges.a | Start-VzContainer
    }
    AfterAll { Remove-VzContainer nicct -Force -ErrorAction SilentlyContinue }

    It 'moves a veth into the namespace, named, addressed and reachable' {
        $eth0 = Get-VzNetworkAdapter nicct eth0
        $eth0.Primary | Should -BeTrue
        $eth0.Network | Should -Be 'nica' -Because 'the first adapter is the one -IpAddress/-Bridge made'
        $n = Get-VzContainer nicct | Add-VzNetworkAdapter -Network nicb -Name data1 -IpAddress 198.19.31.20/24 -PassThru
        $n.Active | Should -BeTrue
        $ctPid = (Get-VzContainer nicct).InitPid
        $inside = & nsenter -t $ctPid -n ip -o link show data1
        $inside | Should -Match ([regex]::Escape($n.MacAddress.ToLower()))
        (& nsenter -t $ctPid -n ip -o -4 addr show data1) | Should -Match '198\.19\.31\.20/24'
        Test-Ping $script:HostB 198.19.31.20 -Tries 5 | Should -BeTrue
        Test-Ping $script:HostA 198.19.30.20 -Tries 5 | Should -BeTrue -Because 'eth0 still works'
    }

    It 'counts the added adapter''s traffic in Measure-VzContainer (sums) and in the Prometheus endpoint (interface label)' {
        # A flood from the host on nicb reaches only data1: before adapters counted, eth0 alone showed nothing of it.
        $before = Measure-VzContainer nicct -Interval 0.2
        & nsenter -t $script:HostB -n ping -q -f -c 300 -w 60 198.19.31.20 *> $null
        $LASTEXITCODE | Should -Be 0
        $after = Measure-VzContainer nicct -Interval 0.2
        ($after.NetworkReceivePackets - $before.NetworkReceivePackets) | Should -BeGreaterOrEqual 300
        ($after.NetworkTransmitPackets - $before.NetworkTransmitPackets) | Should -BeGreaterOrEqual 290
        # The totals are the adapters' own counters added up (Get-VzNetworkAdapter reads each host end).
        $sum = (Get-VzNetworkAdapter nicct | Measure-Object ReceiveBytes -Sum).Sum
        $sum | Should -BeGreaterOrEqual (300 * 84)
        [math]::Abs($sum - $after.NetworkReceiveBytes) | Should -BeLessOrEqual 500 -Because 'only stray ARP/ND may fall between the two reads'

        $port = $(
            $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(); $l.LocalEndpoint.Port; $l.Stop())
        Set-VzHost -MetricsEnabled $true -MetricsAddress "127.0.0.1:$port" -Confirm:$false
        try {
            $null = Start-VzHostService -Background -Confirm:$false
            Wait-Until { try { (Invoke-WebRequest "http://127.0.0.1:$port/metrics" -TimeoutSec 5).Content -match 'interface="data1"' } catch { $false } } 60 | Should -BeTrue
            $text = (Invoke-WebRequest "http://127.0.0.1:$port/metrics").Content
            $id = (Get-VzContainer nicct).Id
            foreach ($nic in 'eth0', 'data1') {
                $text | Should -Match "(?m)^vz_ve_network_receive_packets_total\{name=`"nicct`",id=`"$id`",kind=`"container`",interface=`"$nic`"\} [0-9]+$"
            }
            [long]([regex]::Match($text, "(?m)^vz_ve_network_receive_packets_total\{[^}]*interface=`"data1`"\} ([0-9]+)$").Groups[1].Value) | Should -BeGreaterOrEqual 300
            $out = $text | & promtool check metrics 2>&1
            $LASTEXITCODE | Should -Be 0 -Because "$out"
        }
        finally {
            Stop-VzHostService -Timeout 120 -Confirm:$false
            Set-VzHost -MetricsEnabled $false -Confirm:$false
        }
    }

    It 'changes addresses live and pulls and plugs the cable' {
        Set-VzNetworkAdapter nicct data1 -IpAddress 198.19.31.21/24
        Test-Ping $script:HostB 198.19.31.21 -Tries 5 | Should -BeTrue
        Test-Ping $script:HostB 198.19.31.20 | Should -BeFalse
        Set-VzNetworkAdapter nicct data1 -Connected $false
        Test-Ping $script:HostB 198.19.31.21 -Tries 2 | Should -BeFalse
        Set-VzNetworkAdapter nicct data1 -Connected $true
        Test-Ping $script:HostB 198.19.31.21 -Tries 10 | Should -BeTrue
    }

    It 'brings the adapter back at the next start' {
        Stop-VzContainer nicct -Kill
        Start-VzContainer nicct
        (Get-VzNetworkAdapter nicct data1).Active | Should -BeTrue
        Test-Ping $script:HostB 198.19.31.21 -Tries 10 | Should -BeTrue
    }

    It 'removes it: the veth is gone on the host and inside' {
        $n = Get-VzNetworkAdapter nicct data1
        Get-VzNetworkAdapter nicct data1 | Remove-VzNetworkAdapter -Confirm:$false
        Test-Path "/sys/class/net/$($n.HostInterface)" | Should -BeFalse
        & nsenter -t (Get-VzContainer nicct).InitPid -n ip link show data1 2>$null
        $LASTEXITCODE | Should -Not -Be 0
        Test-Ping $script:HostB 198.19.31.21 | Should -BeFalse
        (Get-VzNetworkAdapter nicct).Name | Should -Be @('eth0')
    }
}

Describe 'Adapters in settings files (Export/Import-VzConfig) and in libvirt XML' -Tag NetworkAdapters, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:cfg = New-VzContainer nicimp -Template busybox -MemorySize 64MB
        $script:e1 = Add-VzNetworkAdapter nicimp -Network nica -Name eth1 -IpAddress 198.19.30.40/24 -PassThru
        $script:e2 = Add-VzNetworkAdapter nicimp -Network nicb -Name eth2 -Connected $false -PassThru
        New-VzContainer nicimpo -Template busybox -MemorySize 64MB | Out-Null
        $script:other = Add-VzNetworkAdapter nicimpo -Network nicc -PassThru
        $script:file = Join-Path $script:Scope.Base 'nicimp.yaml'
        Export-VzConfig nicimp -Path $script:file
        $script:exported = Get-Content $script:file -Raw
        function script:Get-Yaml { Get-Content (Join-Path $script:cfg.Path 've.yaml') -Raw }
    }
    AfterAll {
        foreach ($n in 'nicimp', 'nicimp2', 'nicimpo') { Remove-VzContainer $n -Force -ErrorAction SilentlyContinue }
        Remove-VzVm nicxml -Force -Confirm:$false -ErrorAction SilentlyContinue
    }

    It 'brings a running container''s adapters back to the file: removed one re-added live, changed one reset, extra one removed' {
        $script:exported | Should -Match 'networkAdapters:'
        Start-VzContainer nicimp
        Remove-VzNetworkAdapter nicimp eth2 -Confirm:$false
        Set-VzNetworkAdapter nicimp eth1 -IpAddress 198.19.30.41/24
        $extra = Add-VzNetworkAdapter nicimp -Network nicc -Name eth3 -PassThru
        $r = Import-VzConfig $script:file -Confirm:$false
        $r.Action | Should -Be 'Update'
        ($r.Changes -join "`n") | Should -Match 'networkAdapters\.eth3\.network: nicc -> \(none\)'
        $now = Get-VzNetworkAdapter nicimp | Where-Object { -not $_.Primary }
        @($now.Name) | Should -Be @('eth1', 'eth2')
        ($now | Where-Object Name -eq eth2).MacAddress | Should -Be $script:e2.MacAddress
        ($now | Where-Object Name -eq eth2).Connected | Should -BeFalse
        ($now | Where-Object Name -eq eth2).Active | Should -BeTrue -Because 'a running container gets the adapter at once'
        ($now | Where-Object Name -eq eth1).IpAddress | Should -Be @('198.19.30.40/24')
        $ctPid = (Get-VzContainer nicimp).InitPid
        & nsenter -t $ctPid -n ip link show eth3 2>$null
        $LASTEXITCODE | Should -Not -Be 0 -Because "eth3 ($($extra.MacAddress)) is not in the file"
        (& nsenter -t $ctPid -n ip -o -4 addr show eth1) | Should -Match '198\.19\.30\.40/24'
        (& nsenter -t $ctPid -n ip -o link show eth2) | Should -Match ([regex]::Escape($script:e2.MacAddress.ToLower()))
        Test-Ping $script:HostA 198.19.30.40 -Tries 5 | Should -BeTrue
        (Import-VzConfig $script:file -Confirm:$false).Action | Should -Be 'Unchanged'
        Stop-VzContainer nicimp -Kill
    }

    It 'refuses <Case> in a file with <ErrorId> (<Category>), names the file, and changes nothing' -ForEach @(
        @{ Case = 'an unknown network'; ErrorId = 'VzNetworkNotFound'; Category = 'ObjectNotFound'; Text = { $script:exported -replace 'network: nicb', 'network: nosuchnet' } }
        @{ Case = 'a MAC another VE has'; ErrorId = 'VzMacAddressInUse'; Category = 'ResourceExists'; Text = { $script:exported.Replace($script:e2.MacAddress, $script:other.MacAddress) } }
        @{ Case = 'a multicast MAC'; ErrorId = 'VzMulticastMacAddress'; Category = 'InvalidArgument'; Text = { $script:exported.Replace($script:e2.MacAddress, '01:00:5E:00:00:01') } }
        @{ Case = 'an address on a VM''s adapter'; ErrorId = 'VzAdapterAddressNotForVm'; Category = 'InvalidArgument'
           Text = { "schemaVersion: 1`nves:`n- name: nicimpvm`n  type: VirtualMachine`n  networkAdapters:`n  - name: eth1`n    network: nica`n    ipAddresses: [198.19.30.9/24]`n" } }
    ) {
        $bad = Join-Path $script:Scope.Base "bad-$ErrorId.yaml"
        & $Text | Set-Content $bad
        $before = Get-Yaml
        $vesBefore = @(Get-VzContainer).Count + @(Get-VzVm).Count
        $err = $null
        try { Import-VzConfig $bad -Confirm:$false -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be "$ErrorId,Virtuozzo.Commands.ImportVzConfigCommand"
        $err.CategoryInfo.Category | Should -Be $Category
        $err.Exception.Message | Should -BeLike "$bad line *networkAdapters*"
        Get-Yaml | Should -Be $before
        (@(Get-VzContainer).Count + @(Get-VzVm).Count) | Should -Be $vesBefore
    }

    It 'creates a VE from the file with its adapters, once the MACs are left to be generated' {
        $copy = $script:exported -replace 'name: nicimp', 'name: nicimp2'
        $same = Join-Path $script:Scope.Base 'nicimp2-same.yaml'
        $copy | Set-Content $same
        { Import-VzConfig $same -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VzMacAddressInUse,Virtuozzo.Commands.ImportVzConfigCommand'
        Get-VzContainer nicimp2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $fresh = Join-Path $script:Scope.Base 'nicimp2.yaml'
        $copy -replace '(?m)^\s+macAddress: .*\r?\n', '' | Set-Content $fresh
        (Import-VzConfig $fresh -Confirm:$false).Action | Should -Be 'Create'
        $made = Get-VzNetworkAdapter nicimp2 | Where-Object { -not $_.Primary }
        @($made.Name) | Should -Be @('eth1', 'eth2')
        @($made.Network) | Should -Be @('nica', 'nicb')
        $made[0].MacAddress | Should -Not -Be $script:e1.MacAddress
        $made[1].Connected | Should -BeFalse
    }

    It 'exports a VM''s added adapters as libvirt <interface> elements that validate' {
        New-VzVm nicxml -MemorySize 64MB | Out-Null
        $lan = Add-VzNetworkAdapter nicxml -Network nica -Name lan -PassThru
        $san = Add-VzNetworkAdapter nicxml -Network nicb -Name san -Connected $false -PassThru
        $path = Join-Path $script:Scope.Base 'nicxml.xml'
        Export-VzVm nicxml -Format LibvirtXml -Path $path | Out-Null
        # New-VzVm's default is no first NIC: the two added adapters are the domain's only interfaces.
        $nics = @(([xml](Get-Content $path -Raw)).domain.devices.interface)
        @($nics | ForEach-Object { $_.mac.address }) | Should -Be @($lan.MacAddress, $san.MacAddress)
        @($nics | ForEach-Object { $_.source.bridge }) | Should -Be @($script:Bridges.a, $script:Bridges.b)
        $nics[0].link | Should -BeNullOrEmpty
        $nics[1].link.state | Should -Be 'down'
        $nics[0].alias.name | Should -Be 'ua-lan'
        $out = & virt-xml-validate $path domain 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
    }
}

Describe 'Adapters behind the firewall' -Tag NetworkAdapters, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        New-VzContainer nicfw -Template busybox -MemorySize 64MB | Out-Null
        $script:fwa = Add-VzNetworkAdapter nicfw -Network nica -Name eth1 -IpAddress 198.19.30.30/24 -PassThru
        $script:fwb = Add-VzNetworkAdapter nicfw -Network nicb -Name eth2 -IpAddress 198.19.31.30/24 -PassThru
        Set-VzFirewall nicfw -Enabled -DefaultInbound Accept
        Start-VzContainer nicfw
    }
    AfterAll { Remove-VzContainer nicfw -Force -ErrorAction SilentlyContinue }

    It 'lets every adapter send from its own MAC and addresses and drops a spoofed source' {
        $fw = Get-VzFirewall nicfw
        $fw.AllowedSources | Should -Contain $script:fwa.MacAddress.ToLower()
        $fw.AllowedSources | Should -Contain $script:fwb.MacAddress.ToLower()
        $fw.AllowedSources | Should -Contain '198.19.31.30'
        Test-Ping $script:HostA 198.19.30.30 -Tries 5 | Should -BeTrue
        Test-Ping $script:HostB 198.19.31.30 -Tries 5 | Should -BeTrue
        # A source address the VE does not own, sent out of eth2: the bridge table drops it.
        $ctPid = (Get-VzContainer nicfw).InitPid
        & nsenter -t $ctPid -n busybox ping -c 2 -W 2 -I 198.19.31.30 198.19.31.1 *> $null
        $LASTEXITCODE | Should -Be 0 -Because 'its own address passes'
        & nsenter -t $ctPid -n ip addr add 198.19.31.99/24 dev eth2
        & nsenter -t $ctPid -n busybox ping -c 2 -W 1 -I 198.19.31.99 198.19.31.1 *> $null
        $LASTEXITCODE | Should -Not -Be 0 -Because 'anti-spoofing covers the added adapter'
    }
}
