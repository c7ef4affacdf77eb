#Requires -Modules Pester
<#
  Virtual networks and per-VE firewalls against real bridges, veths, dnsmasq, nftables and traffic between real
  containers. Addresses: 198.19.20.0/24-198.19.49.0/24 only. Every bridge and veth is named after the run
  (Get-VzTestLinkName); the nft tables are the run's own (named after its cgroup parent); the "external hosts" are
  anonymous network namespaces held by a sleep this file starts and kills. All of it is removed at the end.
#>
BeforeDiscovery {
    $script:IsRoot = (id -u) -eq '0'
}

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Scope = New-VzTestScope -Name networks
    $script:Table = 'vz_' + ($env:VZ_CGROUP_PARENT -replace '[^A-Za-z0-9_]', '_')
    $script:Holders = [Collections.Generic.List[int]]::new()
    $script:Links = [Collections.Generic.List[string]]::new()

    function New-ExternalHost([int] $LinkIndex, [string] $Address) {
        # An "external host": a network namespace of its own, reached through a veth whose host end stays on the host.
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
        & ip link set $hostEnd up
        [pscustomobject]@{ Pid = $ns; Uplink = $hostEnd }
    }
    function Invoke-InNetns([int] $NsPid, [string[]] $Command) {
        $out = & nsenter -t $NsPid -n @Command 2>&1 | Out-String
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $out }
    }
    function Test-Ping([int] $FromPid, [string] $To, [int] $Tries = 1) {
        for ($i = 0; $i -lt $Tries; $i++) { if ((Invoke-InNetns $FromPid @('busybox', 'ping', '-c', '1', '-W', '2', $To)).ExitCode -eq 0) { return $true } }
        $false
    }
    function Test-Tcp([int] $FromPid, [string] $To, [int] $Port, [int] $Tries = 1) {
        # Allowed pairs get a few tries: on a loaded machine a responder can be slow to accept. A forbidden pair
        # gets one, and its verdict is checked against the nft counters as well.
        for ($i = 0; $i -lt $Tries; $i++) {
            $r = Invoke-InNetns $FromPid @('busybox', 'timeout', '4', 'busybox', 'nc', '-w', '2', $To, "$Port")
            if ($r.Output -match 'hello') { return $true }
            if ($i + 1 -lt $Tries) { Start-Sleep -Seconds 1 }
        }
        $false
    }
    function Start-Responder([string] $Container, [int[]] $Port) {
        # A TCP responder inside the container (it dies with the container): answers "hello" to every connection.
        # Started again until the container's netns shows it listening: on a loaded machine the first may be lost.
        $ctPid = (Get-VzContainer $Container).InitPid
        foreach ($p in $Port) {
            for ($i = 0; $i -lt 5; $i++) {
                $null = Invoke-VzContainerCommand $Container -Shell "setsid nc -ll -p $p -e echo hello </dev/null >/dev/null 2>&1 &"
                Start-Sleep -Milliseconds 300
                if ((& nsenter -t $ctPid -n busybox netstat -ltn) -match ":$p\s") { break }
            }
        }
    }
    function Get-ChainCounter([string] $Chain, [string] $Comment = 'default') {
        $json = & nft -j list chain inet $script:Table $Chain | ConvertFrom-Json
        $sum = 0
        foreach ($rule in $json.nftables.rule | Where-Object comment -eq $Comment) {
            foreach ($e in $rule.expr) { if ($e.counter) { $sum += $e.counter.packets } }
        }
        $sum
    }
    function Get-CtPid([string] $Name) { (Get-VzContainer $Name).InitPid }
    $script:Captures = [Collections.Generic.List[object]]::new()
    function Start-Capture([int] $NsPid, [string] $Interface = 'eth0') {
        # tcpdump inside a network namespace (only the netns: the file lands on the host), everything on the
        # interface, handed over and written packet by packet (--immediate-mode -U: a SIGINT loses none still in
        # the kernel's ring), running as root (-Z root: the file is in a root-only folder).
        $file = Join-Path $script:Scope.Base "cap-$NsPid-$([guid]::NewGuid().ToString('N').Substring(0, 8)).pcap"
        $log = "$file.log"
        $p = Start-Process -FilePath nsenter -ArgumentList '-t', "$NsPid", '-n', 'tcpdump', '-i', $Interface, '-n', '--immediate-mode', '-U', '-Z', 'root', '-w', $file `
            -RedirectStandardError $log -PassThru
        $c = [pscustomobject]@{ Process = $p; File = $file; Log = $log }
        $script:Captures.Add($c)
        $sw = [Diagnostics.Stopwatch]::StartNew()
        while ($sw.ElapsedMilliseconds -lt 10000 -and -not ((Get-Content $log -Raw -ErrorAction SilentlyContinue) -match 'listening on')) { Start-Sleep -Milliseconds 50 }
        (Get-Content $log -Raw) | Should -Match 'listening on' -Because 'the capture must run before the traffic starts'
        $c
    }
    function Stop-Capture($Capture) {
        # SIGINT: tcpdump flushes and closes the file.
        if (-not $Capture.Process.HasExited) { & kill -INT $Capture.Process.Id; $null = $Capture.Process.WaitForExit(5000) }
        if (-not $Capture.Process.HasExited) { $Capture.Process.Kill() }
    }
    function Get-CapturedCount($Capture, [string] $Filter) {
        @(& tcpdump -r $Capture.File -n $Filter 2>$null).Count
    }
    function Remove-Capture($Capture) {
        Stop-Capture $Capture
        Remove-Item $Capture.File, $Capture.Log -Force -ErrorAction SilentlyContinue
        $null = $script:Captures.Remove($Capture)
    }
}

AfterAll {
    foreach ($c in @($script:Captures)) { Remove-Capture $c }
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Get-VzNetwork -ErrorAction SilentlyContinue | Remove-VzNetwork -Confirm:$false -ErrorAction SilentlyContinue
    foreach ($l in $script:Links) { & ip link del $l 2>$null }
    foreach ($h in $script:Holders) { Stop-Process -Id $h -Force -ErrorAction SilentlyContinue }
    & nft delete table inet $script:Table 2>$null
    & nft delete table bridge $script:Table 2>$null
    Remove-VzTestScope $script:Scope
}

Describe 'Bad network and firewall input' -Tag Networks, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:bad = New-VzContainer badin -Template busybox -IpAddress 198.19.40.2/24 -Bridge (Get-VzTestLinkName 40)
        Set-VzFirewall badin -Enabled -DefaultInbound Drop
        Add-VzFirewallRule badin keep -Direction Inbound -Action Accept -Protocol Tcp -LocalPort 22
        $script:RulesetBefore = (& nft -s list table inet $script:Table) -join "`n"
    }
    AfterAll { Remove-VzContainer badin -Force -ErrorAction SilentlyContinue }

    It 'refuses <Case> with <ErrorId> and changes nothing' -ForEach @(
        @{ Case = 'a bad CIDR'; ErrorId = 'VzInvalidFirewallAddress'; Call = { Add-VzFirewallRule badin r1 -Direction Inbound -Action Accept -RemoteAddress 198.19.40.0/33 -ErrorAction Stop } }
        @{ Case = 'port 70000'; ErrorId = 'VzInvalidFirewallPort'; Call = { Add-VzFirewallRule badin r1 -Direction Inbound -Action Accept -Protocol Tcp -LocalPort 70000 -ErrorAction Stop } }
        @{ Case = 'an unknown protocol'; ErrorId = 'VzInvalidFirewallProtocol'; Call = { Add-VzFirewallRule badin r1 -Direction Inbound -Action Accept -Protocol tpc -ErrorAction Stop } }
        @{ Case = 'a rule name clash'; ErrorId = 'VzFirewallRuleExists'; Call = { Add-VzFirewallRule badin keep -Direction Inbound -Action Drop -ErrorAction Stop } }
        @{ Case = 'a rule list with a bad port'; ErrorId = 'VzInvalidFirewallPort'; Call = {
                $rules = @([Virtuozzo.Engine.Network.Firewall.FirewallRule]@{ Name = 'ok'; Protocol = 'tcp'; LocalPorts = @('80') },
                    [Virtuozzo.Engine.Network.Firewall.FirewallRule]@{ Name = 'bad'; Protocol = 'tcp'; LocalPorts = @('70000') })
                Set-VzFirewall badin -Rule $rules -ErrorAction Stop } }
    ) {
        $err = $null
        try { & $Call } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId,Virtuozzo.Commands.*"
        $err.CategoryInfo.Category | Should -BeIn 'InvalidArgument', 'ResourceExists'
        (Get-VzFirewallRule badin).Name | Should -Be 'keep'
        ((& nft -s list table inet $script:Table) -join "`n") | Should -Be $script:RulesetBefore -Because 'no partial nft state'
    }

    It 'refuses a network name with shell characters (VzInvalidNetworkName) and makes no bridge' {
        $err = $null
        try { New-VzNetwork 'x;touch /tmp/pwned' -Type Private -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzInvalidNetworkName,Virtuozzo.Commands.NewVzNetworkCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-VzNetwork | Should -BeNullOrEmpty
        Test-Path '/tmp/pwned' | Should -BeFalse
    }

    It 'refuses a network name clash (VzNetworkExists, ResourceExists) and keeps the first network' {
        New-VzNetwork clash -Type Private -Bridge (Get-VzTestLinkName 41) | Out-Null
        $err = $null
        try { New-VzNetwork clash -Type Private -Bridge (Get-VzTestLinkName 42) -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzNetworkExists,Virtuozzo.Commands.NewVzNetworkCommand'
        $err.CategoryInfo.Category | Should -Be 'ResourceExists'
        Test-Path "/sys/class/net/$(Get-VzTestLinkName 42)" | Should -BeFalse
        (Get-VzNetwork clash).Bridge | Should -Be (Get-VzTestLinkName 41)
        Remove-VzNetwork clash -Confirm:$false
        Test-Path "/sys/class/net/$(Get-VzTestLinkName 41)" | Should -BeFalse
    }

    It 'refuses options that do not belong to the type (a Private network with a host address)' {
        $err = $null
        try { New-VzNetwork p9 -Type Private -HostAddress 198.19.41.1/24 -Bridge (Get-VzTestLinkName 43) -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzNetworkOptionNotForType,Virtuozzo.Commands.NewVzNetworkCommand'
        Test-Path "/sys/class/net/$(Get-VzTestLinkName 43)" | Should -BeFalse
    }
}

Describe 'Virtual networks' -Tag Networks, Integration -Skip:(-not $IsRoot) {
    It 'runs dnsmasq for a HostOnly network with DHCP, leases an address to a container, and stops it with the network' {
        $br = Get-VzTestLinkName 20
        $n = New-VzNetwork dhcp1 -Type HostOnly -HostAddress 198.19.25.1/24 -Dhcp -DhcpRange 198.19.25.100-198.19.25.110 -Bridge $br
        $n.IsUp | Should -BeTrue
        $n.DhcpProcessId | Should -BeGreaterThan 0
        (Get-Content /proc/$($n.DhcpProcessId)/comm) | Should -Be 'dnsmasq'
        (& ip -o -4 addr show dev $br) | Should -Match '198\.19\.25\.1/24'
        New-VzContainer dh1 -Template busybox -IpAddress 198.19.25.50/24 -Bridge $br | Start-VzContainer
        try {
            $r = Invoke-VzContainerCommand dh1 -Shell 'udhcpc -n -q -t 5 -i eth0 -s /bin/true 2>&1'
            $r.StdOut | Should -Match 'lease of 198\.19\.25\.1(0\d|10) obtained'
            (Get-VzNetwork dhcp1).VeNames | Should -Be @('dh1')
            { Remove-VzNetwork dhcp1 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VzNetworkInUse,Virtuozzo.Commands.RemoveVzNetworkCommand'
        }
        finally { Remove-VzContainer dh1 -Force }
        Remove-VzNetwork dhcp1 -Confirm:$false
        Test-Path /proc/$($n.DhcpProcessId) | Should -BeFalse
        Test-Path "/sys/class/net/$br" | Should -BeFalse
    }

    It 'masquerades a HostOnly network with -Nat: a container reaches an external host that has no route back' {
        $ext = New-ExternalHost 22 '198.19.26.2/24'
        & ip addr add 198.19.26.1/24 dev $ext.Uplink
        & sysctl -qw "net.ipv4.conf.$($ext.Uplink).forwarding=1"
        New-VzNetwork nat1 -Type HostOnly -HostAddress 198.19.27.1/24 -Nat -Bridge (Get-VzTestLinkName 24) | Out-Null
        New-VzContainer nat1ct -Template busybox -IpAddress 198.19.27.2/24 -Gateway 198.19.27.1 -Bridge (Get-VzTestLinkName 24) | Start-VzContainer
        try {
            Test-Ping (Get-CtPid nat1ct) 198.19.26.2 | Should -BeTrue -Because 'the external host answers the host''s masqueraded address'
            ((& nft list chain inet $script:Table postrouting) -join "`n") | Should -Match 'ip saddr 198\.19\.27\.0/24 .* masquerade'
            Set-VzNetwork nat1 -Nat $false
            Test-Ping (Get-CtPid nat1ct) 198.19.26.2 | Should -BeFalse -Because 'without NAT the external host has no route back'
        }
        finally { Remove-VzContainer nat1ct -Force; Remove-VzNetwork nat1 -Confirm:$false }
    }

    It 'brings a stored network back at the first start of a VE on it (after its bridge was lost)' {
        $br = Get-VzTestLinkName 26
        New-VzNetwork back1 -Type HostOnly -HostAddress 198.19.28.1/24 -Bridge $br | Out-Null
        & ip link del $br
        (Get-VzNetwork back1).IsUp | Should -BeFalse
        New-VzContainer back1ct -Template busybox -IpAddress 198.19.28.2/24 -Bridge $br | Start-VzContainer
        try {
            (Get-VzNetwork back1).IsUp | Should -BeTrue
            (& ping -c 1 -W 2 198.19.28.2) | Out-Null
            $LASTEXITCODE | Should -Be 0
        }
        finally { Remove-VzContainer back1ct -Force; Remove-VzNetwork back1 -Confirm:$false }
    }
}

Describe 'Isolation matrix: six containers on Private, HostOnly and Bridged networks with firewall rules' -Tag Networks, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:ext = New-ExternalHost 30 '198.19.22.2/24'
        New-VzNetwork priv1 -Type Private -Bridge (Get-VzTestLinkName 32) | Out-Null
        New-VzNetwork host1 -Type HostOnly -HostAddress 198.19.21.1/24 -Bridge (Get-VzTestLinkName 33) | Out-Null
        New-VzNetwork ext1 -Type Bridged -Uplink $script:ext.Uplink -Bridge (Get-VzTestLinkName 34) | Out-Null
        $specs = @(
            @('ma', '198.19.20.2/24', 'priv1'), @('mb', '198.19.20.3/24', 'priv1'), @('mc', '198.19.20.4/24', 'priv1'),
            @('md', '198.19.21.2/24', 'host1'), @('me', '198.19.21.3/24', 'host1'), @('mf', '198.19.22.5/24', 'ext1'))
        foreach ($s in $specs) {
            New-VzContainer $s[0] -Template busybox -MemorySize 64MB -IpAddress $s[1] -Bridge (Get-VzNetwork $s[2]).Bridge | Start-VzContainer
            Start-Responder $s[0] 7000, 7001
        }
        # ma: only mb, and only tcp/7000 and ping. md: only the host. mf: only the external host, on tcp/7000.
        Set-VzFirewall ma -Enabled -DefaultInbound Drop -DefaultOutbound Accept
        Add-VzFirewallRule ma from-mb-tcp -Direction Inbound -Action Accept -Protocol Tcp -LocalPort 7000 -RemoteAddress 198.19.20.3
        Add-VzFirewallRule ma from-mb-ping -Direction Inbound -Action Accept -Protocol Icmp -RemoteAddress 198.19.20.3
        Set-VzFirewall md -Enabled -DefaultInbound Drop
        Add-VzFirewallRule md from-host -Direction Inbound -Action Accept -RemoteAddress 198.19.21.1
        Set-VzFirewall mf -Enabled -DefaultInbound Drop
        Add-VzFirewallRule mf from-ext -Direction Inbound -Action Accept -Protocol Tcp -LocalPort 7000 -RemoteAddress 198.19.22.2
        Add-VzFirewallRule mf no-smtp -Direction Outbound -Action Reject -Protocol Tcp -RemotePort 7001
        $script:pids = @{}
        foreach ($s in $specs) { $script:pids[$s[0]] = Get-CtPid $s[0] }
        $script:pids['host'] = $PID
        $script:pids['ext'] = $script:ext.Pid
        $script:addr = @{ host = '198.19.21.1'; ext = '198.19.22.2' }
        foreach ($s in $specs) { $script:addr[$s[0]] = $s[1].Split('/')[0] }
    }
    AfterAll {
        Get-VzContainer ma, mb, mc, md, me, mf -ErrorAction SilentlyContinue | Remove-VzContainer -Force
        Get-VzNetwork priv1, host1, ext1 -ErrorAction SilentlyContinue | Remove-VzNetwork -Confirm:$false
    }

    It 'connects every allowed pair: <From> -> <To> (<Kind>)' -ForEach @(
        @{ From = 'mb'; To = '198.19.20.2'; Kind = 'ping' }, @{ From = 'mb'; To = '198.19.20.2'; Kind = 'tcp7000' }
        @{ From = 'mc'; To = '198.19.20.3'; Kind = 'ping' }, @{ From = 'mc'; To = '198.19.20.3'; Kind = 'tcp7000' }
        @{ From = 'ma'; To = '198.19.20.4'; Kind = 'tcp7000' }
        @{ From = 'host'; To = '198.19.21.2'; Kind = 'ping' }, @{ From = 'host'; To = '198.19.21.2'; Kind = 'tcp7001' }
        @{ From = 'me'; To = '198.19.21.1'; Kind = 'ping' }, @{ From = 'md'; To = '198.19.21.3'; Kind = 'tcp7000' }
        @{ From = 'ext'; To = '198.19.22.5'; Kind = 'tcp7000' }, @{ From = 'mf'; To = '198.19.22.2'; Kind = 'ping' }
    ) {
        $fromPid = $script:pids[$From]
        if ($Kind -eq 'ping') { Test-Ping $fromPid $To -Tries 3 | Should -BeTrue }
        else { Test-Tcp $fromPid $To ([int]$Kind.Substring(3)) -Tries 3 | Should -BeTrue }
    }

    It 'passes no packet of a forbidden pair: <From> -> <To> (<Kind>), counted by <Chain> and absent from a capture at <Receiver>' -ForEach @(
        # Receiver: the namespace the forbidden packets would arrive in, captured during the attempt. Control: an
        # allowed flow into the same receiver sent during the same capture, so an empty result is not a dead capture.
        @{ From = 'mc'; To = '198.19.20.2'; Kind = 'ping'; Ve = 'ma'; Chain = 'in'; Receiver = 'ma'; Control = @('mb', 'ping') }
        @{ From = 'mc'; To = '198.19.20.2'; Kind = 'tcp7000'; Ve = 'ma'; Chain = 'in'; Receiver = 'ma'; Control = @('mb', 'ping') }
        @{ From = 'mb'; To = '198.19.20.2'; Kind = 'tcp7001'; Ve = 'ma'; Chain = 'in'; Receiver = 'ma'; Control = @('mb', 'tcp7000') }
        @{ From = 'me'; To = '198.19.21.2'; Kind = 'ping'; Ve = 'md'; Chain = 'in'; Receiver = 'md'; Control = @('host', 'ping') }
        @{ From = 'me'; To = '198.19.21.2'; Kind = 'tcp7000'; Ve = 'md'; Chain = 'in'; Receiver = 'md'; Control = @('host', 'ping') }
        @{ From = 'ext'; To = '198.19.22.5'; Kind = 'tcp7001'; Ve = 'mf'; Chain = 'in'; Receiver = 'mf'; Control = @('ext', 'tcp7000') }
        @{ From = 'mf'; To = '198.19.22.2'; Kind = 'tcp7001'; Ve = 'mf'; Chain = 'out'; Receiver = 'ext'; Control = @('mf', 'ping') }
    ) {
        $fw = Get-VzFirewall $Ve
        # (PowerShell names are case-insensitive: $nftChain, not $chain, or it would overwrite $Chain.)
        $nftChain = if ($Chain -eq 'in') { $fw.InboundChain } else { $fw.OutboundChain }
        $comment = if ($Chain -eq 'out') { 'no-smtp' } else { 'default' }
        $cap = Start-Capture $script:pids[$Receiver]
        $before = Get-ChainCounter $nftChain $comment
        $fromPid = $script:pids[$From]
        if ($Kind -eq 'ping') { Test-Ping $fromPid $To | Should -BeFalse }
        else { Test-Tcp $fromPid $To ([int]$Kind.Substring(3)) | Should -BeFalse }
        $after = Get-ChainCounter $nftChain $comment
        $controlFrom, $controlKind = $Control
        if ($controlKind -eq 'ping') { Test-Ping $script:pids[$controlFrom] $To -Tries 3 | Should -BeTrue }
        else { Test-Tcp $script:pids[$controlFrom] $To ([int]$controlKind.Substring(3)) -Tries 3 | Should -BeTrue }
        Stop-Capture $cap
        if ($after -le $before) { Write-Host ((& nft list chain inet $script:Table $nftChain) -join "`n") }
        $after | Should -BeGreaterThan $before -Because 'the packets were seen and refused by the VE''s chain, not lost elsewhere'
        $flow = { param($f, $k) "src host $($script:addr[$f]) and dst host $To and " + $(if ($k -eq 'ping') { 'icmp' } else { "tcp dst port $($k.Substring(3))" }) }
        Get-CapturedCount $cap (& $flow $From $Kind) | Should -Be 0 -Because 'the capture agrees with the counter: nothing of the forbidden flow arrived'
        Get-CapturedCount $cap (& $flow $controlFrom $controlKind) | Should -BeGreaterThan 0 -Because 'the same capture saw the allowed control flow'
        Remove-Capture $cap
    }

    It 'keeps the private network private: the host takes nothing from it, even with a route pointing at it' {
        & nsenter -t $script:pids['mb'] -n ip route add default dev eth0
        $fence = "private:$(Get-VzTestLinkName 32)"
        $before = Get-ChainCounter input $fence
        Test-Ping $script:pids['mb'] 198.19.21.1 | Should -BeFalse -Because 'the host answers nothing on a private bridge'
        (Get-ChainCounter input $fence) | Should -BeGreaterThan $before
        (& ping -c 1 -W 1 198.19.20.3 2>&1) | Out-Null
        $LASTEXITCODE | Should -Not -Be 0
        & nsenter -t $script:pids['mb'] -n ip route del default dev eth0
    }

    It 'stops a firewalled VE sending from an address or MAC that is not its own (anti-spoofing)' {
        $ma = $script:pids['ma']
        & nsenter -t $ma -n ip addr add 198.19.20.9/24 dev eth0
        & nsenter -t $ma -n busybox ping -c 1 -W 1 -I 198.19.20.9 198.19.20.3 | Out-Null
        $LASTEXITCODE | Should -Not -Be 0 -Because 'ma may send only from 198.19.20.2'
        $spoof = ((& nft -j list chain bridge $script:Table prerouting | ConvertFrom-Json).nftables.rule |
            ForEach-Object { $_.expr } | Where-Object { $_.counter } | Measure-Object -Sum { $_.counter.packets }).Sum
        $spoof | Should -BeGreaterThan 0
        & nsenter -t $ma -n ip addr del 198.19.20.9/24 dev eth0
    }

    It 'cuts an established TCP connection within 1 s of revoking the allow' {
        # A one-connection sink in ma writing what it receives to a file; the client keeps its connection open.
        $null = Invoke-VzContainerCommand ma -Shell 'sleep 600 | setsid nc -l -p 7002 > /tmp/recv 2>/dev/null &'
        Add-VzFirewallRule ma sink -Direction Inbound -Action Accept -Protocol Tcp -LocalPort 7002 -RemoteAddress 198.19.20.3
        Start-Sleep -Milliseconds 300
        $psi = [Diagnostics.ProcessStartInfo]::new('nsenter', "-t $($script:pids['mb']) -n busybox nc 198.19.20.2 7002")
        $psi.RedirectStandardInput = $true
        $client = [Diagnostics.Process]::Start($psi)
        try {
            $recv = "/proc/$($script:pids['ma'])/root/tmp/recv"
            $client.StandardInput.WriteLine('before-revoke'); $client.StandardInput.Flush()
            $sw = [Diagnostics.Stopwatch]::StartNew()
            while ($sw.ElapsedMilliseconds -lt 5000 -and -not ((Get-Content $recv -Raw -ErrorAction SilentlyContinue) -match 'before-revoke')) { Start-Sleep -Milliseconds 20 }
            (Get-Content $recv -Raw) | Should -Match 'before-revoke'
            $sw.Restart()
            Remove-VzFirewallRule ma sink -Confirm:$false
            $revokeMs = $sw.ElapsedMilliseconds
            $client.StandardInput.WriteLine('after-revoke'); $client.StandardInput.Flush()
            Start-Sleep -Milliseconds 1000
            (Get-Content $recv -Raw) | Should -Not -Match 'after-revoke'
            Write-Host "Revoke: Remove-VzFirewallRule returned in $revokeMs ms; nothing the client sent afterwards arrived within 1 s."
            $revokeMs | Should -BeLessThan 1000
        }
        finally { if (-not $client.HasExited) { $client.Kill() }; $client.Dispose() }
    }

    It 'leaves the previous rules in force when nft refuses a change (fail closed)' {
        $before = (& nft -s list table inet $script:Table) -join "`n"
        # A rule that passes validation but that nft cannot load: an interface name of a bridged VE made too long
        # is not possible through the cmdlets, so break nft itself for one call: a PATH with a failing 'nft'.
        $fake = Join-Path $script:Scope.Base 'fakebin'
        $null = New-Item -ItemType Directory $fake -Force
        Set-Content (Join-Path $fake 'nft') "#!/bin/sh`necho 'Error: simulated failure' >&2`nexit 1" 
        & chmod +x (Join-Path $fake 'nft')
        $oldPath = $env:PATH
        $env:PATH = "${fake}:$oldPath"
        try {
            $err = $null
            try { Add-VzFirewallRule ma wide-open -Direction Inbound -Action Accept -ErrorAction Stop } catch { $err = $_ }
        }
        finally { $env:PATH = $oldPath }
        $err.FullyQualifiedErrorId | Should -Be 'VzExternalToolFailed,Virtuozzo.Commands.AddVzFirewallRuleCommand'
        (Get-VzFirewallRule ma).Name | Should -Not -Contain 'wide-open'
        ((& nft -s list table inet $script:Table) -join "`n") | Should -Be $before
        Test-Ping $script:pids['mc'] 198.19.20.2 | Should -BeFalse -Because 'ma is still filtered'
    }
}

Describe 'A host-routed VE answers an external host on the uplink''s subnet (PSBM-44285)' -Tag Networks, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:ext2 = New-ExternalHost 50 '198.19.35.2/24'
        & ip addr add 198.19.35.1/24 dev $script:ext2.Uplink
        New-VzContainer routed1 -Template busybox -MemorySize 64MB -NetworkMode Routed -IpAddress 198.19.35.10/32 | Start-VzContainer
        Start-Responder routed1 7000
    }
    AfterAll { Remove-VzContainer routed1 -Force -ErrorAction SilentlyContinue }

    It 'answers ping and TCP from the external host, which knows nothing but its own /24' {
        Test-Ping $script:ext2.Pid 198.19.35.10 -Tries 3 | Should -BeTrue
        Test-Tcp $script:ext2.Pid 198.19.35.10 7000 -Tries 3 | Should -BeTrue
        (& nsenter -t $script:ext2.Pid -n ip neigh show 198.19.35.10) | Should -Match ([regex]::Escape((Get-Content "/sys/class/net/$($script:ext2.Uplink)/address")))
    }

    It 'withdraws the proxy ARP entry when the VE stops' {
        (& ip neigh show proxy 198.19.35.10) | Should -Match $script:ext2.Uplink
        Stop-VzContainer routed1 -Kill
        (& ip neigh show proxy 198.19.35.10) | Should -BeNullOrEmpty
        Test-Ping $script:ext2.Pid 198.19.35.10 | Should -BeFalse
    }
}

Describe 'A host-routed VE with an IPv6 address answers an external host through the NDP proxy' -Tag Networks, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        # Addresses: fd00:19:40::/64 (this file's IPv6 range). The external host knows only its own /64.
        $script:ext6 = New-ExternalHost 70 'fd00:19:40::2/64'
        & ip addr add fd00:19:40::1/64 dev $script:ext6.Uplink nodad
        New-VzContainer routed6 -Template busybox -MemorySize 64MB -NetworkMode Routed -IpAddress fd00:19:40::10/128 | Start-VzContainer
        Start-Responder routed6 7000
        $script:uplinkMac = Get-Content "/sys/class/net/$($script:ext6.Uplink)/address"
        function Get-SpoofDrops([string] $Chain) {
            # The routed VE's anti-spoofing rule: "ip6 saddr != { its addresses, fe80::/10 } counter drop".
            $json = & nft -j list chain inet $script:Table $Chain | ConvertFrom-Json
            $sum = 0
            foreach ($rule in $json.nftables.rule) {
                $spoof = $rule.expr | Where-Object { $_.match.left.payload.protocol -eq 'ip6' -and $_.match.left.payload.field -eq 'saddr' -and $_.match.op -eq '!=' }
                if ($spoof) { foreach ($e in $rule.expr) { if ($e.counter) { $sum += $e.counter.packets } } }
            }
            $sum
        }
    }
    AfterAll { Remove-VzContainer routed6 -Force -ErrorAction SilentlyContinue }

    It 'answers ping and TCP over IPv6 from the external host, which resolves the VE to the uplink''s MAC' {
        (& ip -6 neigh show proxy fd00:19:40::10) | Should -Match $script:ext6.Uplink
        (Get-Content "/proc/sys/net/ipv6/conf/$($script:ext6.Uplink)/proxy_ndp") | Should -Be '1'
        Test-Ping $script:ext6.Pid fd00:19:40::10 -Tries 3 | Should -BeTrue
        Test-Tcp $script:ext6.Pid fd00:19:40::10 7000 -Tries 3 | Should -BeTrue
        (& nsenter -t $script:ext6.Pid -n ip -6 neigh show fd00:19:40::10) | Should -Match ([regex]::Escape($script:uplinkMac))
        # The VE reaches the external host too (its default route is the host end's link-local gateway).
        Test-Ping (Get-CtPid routed6) fd00:19:40::2 -Tries 3 | Should -BeTrue
    }

    It 'filters the proxied IPv6 traffic with the VE''s IPv6 rules, and drops what the VE sends from an address not its own' {
        Set-VzFirewall routed6 -Enabled -DefaultInbound Drop -DefaultOutbound Accept
        Add-VzFirewallRule routed6 from-ext6 -Direction Inbound -Action Accept -Protocol Tcp -LocalPort 7000 -RemoteAddress fd00:19:40::2/128
        try {
            $fw = Get-VzFirewall routed6
            Test-Tcp $script:ext6.Pid fd00:19:40::10 7000 -Tries 3 | Should -BeTrue -Because 'the IPv6 allow rule lets the external host in'
            $before = Get-ChainCounter $fw.InboundChain 'default'
            Test-Ping $script:ext6.Pid fd00:19:40::10 | Should -BeFalse -Because 'ping is not allowed in'
            (Get-ChainCounter $fw.InboundChain 'default') | Should -BeGreaterThan $before

            # Anti-spoofing: an address the VE gives itself is dropped at the host before it reaches the uplink.
            $ve = Get-CtPid routed6
            & nsenter -t $ve -n ip addr add fd00:19:40::99/128 dev eth0 nodad
            $cap = Start-Capture $script:ext6.Pid
            $spoofBefore = Get-SpoofDrops $fw.OutboundChain
            & nsenter -t $ve -n busybox ping -c 2 -W 1 -I fd00:19:40::99 fd00:19:40::2 | Out-Null
            $LASTEXITCODE | Should -Not -Be 0 -Because 'routed6 may send only from fd00:19:40::10'
            Test-Ping $ve fd00:19:40::2 -Tries 3 | Should -BeTrue -Because 'its own address still goes out'
            Stop-Capture $cap
            (Get-SpoofDrops $fw.OutboundChain) | Should -BeGreaterThan $spoofBefore
            Get-CapturedCount $cap 'ip6 src host fd00:19:40::99' | Should -Be 0 -Because 'no spoofed packet arrived at the external host'
            Get-CapturedCount $cap 'icmp6 and src host fd00:19:40::10' | Should -BeGreaterThan 0 -Because 'the capture saw the VE''s own ping'
            Remove-Capture $cap
            & nsenter -t $ve -n ip addr del fd00:19:40::99/128 dev eth0
        }
        finally { Set-VzFirewall routed6 -Enabled:$false; Remove-VzFirewallRule routed6 from-ext6 -Confirm:$false -ErrorAction SilentlyContinue }
    }

    It 'moves the NDP proxy entry when the address changes, and withdraws it when the VE stops' {
        Set-VzContainer routed6 -IpAddress fd00:19:40::11/128
        (& ip -6 neigh show proxy fd00:19:40::10) | Should -BeNullOrEmpty
        (& ip -6 neigh show proxy fd00:19:40::11) | Should -Match $script:ext6.Uplink
        Test-Ping $script:ext6.Pid fd00:19:40::11 -Tries 3 | Should -BeTrue
        Stop-VzContainer routed6 -Kill
        (& ip -6 neigh show proxy) -match 'fd00:19:40::' | Should -BeNullOrEmpty
        Test-Ping $script:ext6.Pid fd00:19:40::11 | Should -BeFalse
    }
}

Describe 'A VM (TCG test guest) on a HostOnly network with DHCP, behind its firewall' -Tag Networks, Integration, Slow, Vms -Skip:(-not $IsRoot) {
    BeforeAll {
        $root = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
        $script:guest = & (Join-Path $root 'tools/testguest/Get-VzTestGuest.ps1') -Root $root
        $script:vmBridge = Get-VzTestLinkName 60
        New-VzNetwork vmnet -Type HostOnly -HostAddress 198.19.37.1/24 -Dhcp -DhcpRange 198.19.37.100-198.19.37.110 -Bridge $script:vmBridge | Out-Null
        New-VzContainer vmpeer -Template busybox -MemorySize 64MB -IpAddress 198.19.37.5/24 -Bridge $script:vmBridge | Start-VzContainer
        New-VzVm fwvm -MemorySize 256MB -CpuCount 1 -DiskSize 16MB -Network $script:vmBridge `
            -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments |
            Start-VzVm -Wait -Timeout 300 | Out-Null
        Set-VzFirewall fwvm -Enabled -DefaultInbound Drop
        Add-VzFirewallRule fwvm from-host -Direction Inbound -Action Accept -RemoteAddress 198.19.37.1
    }
    AfterAll {
        Get-VzVm fwvm -ErrorAction SilentlyContinue | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Remove-VzVm fwvm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzContainer vmpeer -Force -ErrorAction SilentlyContinue
        Remove-VzNetwork vmnet -Confirm:$false -ErrorAction SilentlyContinue
    }

    It 'leases an address from the network''s dnsmasq, answers the host, and drops a container its rules leave out' {
        $ip = $null
        $sw = [Diagnostics.Stopwatch]::StartNew()
        while (-not $ip -and $sw.Elapsed.TotalSeconds -lt 120) {
            $out = (Invoke-VzVmCommand fwvm sh -ArgumentList '-c', 'ifconfig eth0 2>/dev/null || ip -4 addr show eth0').StdOut
            if ($out -match '(198\.19\.37\.1\d\d)') { $ip = $Matches[1] } else { Start-Sleep -Seconds 2 }
        }
        $ip | Should -Match '^198\.19\.37\.1(0\d|10)$' -Because 'the guest''s udhcpc got a lease from dnsmasq on the network'
        Test-Ping $PID $ip -Tries 5 | Should -BeTrue
        $chain = (Get-VzFirewall fwvm).InboundChain
        $before = Get-ChainCounter $chain 'default'
        Test-Ping (Get-CtPid vmpeer) $ip | Should -BeFalse
        (Get-ChainCounter $chain 'default') | Should -BeGreaterThan $before -Because 'the VM''s chain (found by its MAC) dropped them'
    }
}
