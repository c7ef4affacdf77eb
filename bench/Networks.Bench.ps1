<#
.SYNOPSIS
    Firewall benchmarks: a VE's 200-rule set replaced by another 200-rule set in one nft transaction, again and again,
    while a flood of packets that both rule sets forbid runs against it (how long each replacement takes, and how many
    forbidden packets reach the VE: the target is 0). Peer, measured in the same run: the same 200 rules loaded one
    `nft add rule` at a time, as a tool without transactions would. Prints a markdown section.
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [int] $Rules = 200,
    [int] $Swaps = 10
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $Root 'out/Modules/Virtuozzo/Virtuozzo.psd1') -Force

$tag = [guid]::NewGuid().ToString('N').Substring(0, 6)
$base = Join-Path ([IO.Path]::GetTempPath()) "vz-bench-$tag"
$env:VZ_ROOT = Join-Path $base 'data'; $env:VZ_RUN_ROOT = Join-Path $base 'run'
$env:VZ_HOST_CONFIG = Join-Path $base 'host.yaml'; $env:VZ_CGROUP_PARENT = "vzbench-$tag"
$null = New-Item -ItemType Directory $env:VZ_ROOT, $env:VZ_RUN_ROOT -Force
$table = "vz_vzbench_$tag"
$bridge = "vzbn$tag"

function Get-Median([double[]] $v) { $s = $v | Sort-Object; if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
function Get-UdpReceived([int] $NsPid) {
    # What reached the VE's own stack: UDP datagrams delivered plus those to a closed port, in its network namespace.
    $lines = @(& nsenter -t $NsPid -n cat /proc/net/snmp | Where-Object { $_ -like 'Udp:*' })
    $names = $lines[0] -split ' '; $values = $lines[1] -split ' '
    [long]$values[[array]::IndexOf($names, 'InDatagrams')] + [long]$values[[array]::IndexOf($names, 'NoPorts')] + [long]$values[[array]::IndexOf($names, 'InErrors')]
}
function New-RuleSet([int] $FirstPort) {
    foreach ($i in 0..($Rules - 1)) {
        [Virtuozzo.Engine.Network.Firewall.FirewallRule]@{
            Name = "udp-$($FirstPort + $i)"; Direction = 'Inbound'; Action = 'Accept'; Protocol = 'udp'
            LocalPorts = [Collections.Generic.List[string]]@("$($FirstPort + $i)"); RemoteAddresses = [Collections.Generic.List[string]]@('198.19.45.0/24')
        }
    }
}

try {
    New-VzNetwork "bench$tag" -Type Private -Bridge $bridge | Out-Null
    $target = New-VzContainer fwtarget -MemorySize 64MB -IpAddress 198.19.45.2/24 -Bridge $bridge | Start-VzContainer -PassThru
    $flooder = New-VzContainer fwflood -MemorySize 64MB -IpAddress 198.19.45.3/24 -Bridge $bridge | Start-VzContainer -PassThru
    Set-VzFirewall fwtarget -Enabled -DefaultInbound Drop -DefaultOutbound Accept
    # Two different 200-rule sets (UDP ports 20000-20199 and 20100-20299); neither allows ICMP, which the flood uses.
    $setA = @(New-RuleSet 20000); $setB = @(New-RuleSet 20100)
    $null = Set-VzFirewall fwtarget -Rule $setA -PassThru

    $udpBefore = Get-UdpReceived $target.InitPid
    $dropBefore = (Get-VzFirewall fwtarget).InboundDefaultPackets
    # The flood: a UDP blaster (pwsh, in the flooder's network namespace) to port 29999, which both rule sets forbid.
    $floodSeconds = 2 * $Swaps + 4 # each replacement takes about 2 s of cmdlet time on a loaded machine
    $blaster = @"
`$u = [Net.Sockets.UdpClient]::new(); `$u.Connect('198.19.45.2', 29999); `$b = [byte[]]::new(16); `$n = 0
`$end = [DateTime]::UtcNow.AddSeconds($floodSeconds)
while ([DateTime]::UtcNow -lt `$end) { for (`$i = 0; `$i -lt 200; `$i++) { `$null = `$u.Send(`$b, 16); `$n++ } }
[Console]::Out.WriteLine('sent ' + `$n)
"@
    $pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($blaster))
    $flood = Start-Process nsenter -ArgumentList '-t', $flooder.InitPid, '-n', $pwsh, '-NoProfile', '-EncodedCommand', $encoded `
        -RedirectStandardOutput (Join-Path $base 'flood.txt') -PassThru
    # Replacements start once the blaster sends (pwsh takes a moment to start on a loaded machine).
    $sw = [Diagnostics.Stopwatch]::StartNew()
    while ($sw.Elapsed.TotalSeconds -lt 60 -and (Get-VzFirewall fwtarget).InboundDefaultPackets -eq $dropBefore) { Start-Sleep -Milliseconds 100 }
    $nftMs = [Collections.Generic.List[double]]::new()
    $cmdletMs = [Collections.Generic.List[double]]::new()
    foreach ($i in 1..$Swaps) {
        if ($flood.HasExited) { break }
        $next = if ($i % 2) { $setB } else { $setA }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r = Set-VzFirewall fwtarget -Rule $next -PassThru
        $cmdletMs.Add($sw.Elapsed.TotalMilliseconds)
        $nftMs.Add($r.ApplyMilliseconds)
    }
    $flood.WaitForExit()
    if ($nftMs.Count -eq 0) { throw "The flood ended before any replacement: $(Get-Content (Join-Path $base 'flood.txt') -Raw)" }
    $summary = Get-Content (Join-Path $base 'flood.txt') -Raw
    $sent = if ($summary -match 'sent (\d+)') { [long]$Matches[1] } else { 0 }
    $reached = (Get-UdpReceived $target.InitPid) - $udpBefore
    $dropped = (Get-VzFirewall fwtarget).InboundDefaultPackets
    $rate = [math]::Round($sent / $floodSeconds)

    # The peer: the same 200 rules as 200 separate nft invocations into a scratch table of this run.
    $peerTable = "vz_vzbench_peer_$tag"
    & nft add table inet $peerTable
    & nft add chain inet $peerTable c
    $sw = [Diagnostics.Stopwatch]::StartNew()
    foreach ($i in 0..($Rules - 1)) { & nft add rule inet $peerTable c ip saddr 198.19.45.0/24 udp dport (20000 + $i) counter return }
    $peerMs = $sw.Elapsed.TotalMilliseconds
    & nft delete table inet $peerTable

    $medianNft = [math]::Round((Get-Median $nftMs), 1)
    $maxNft = [math]::Round(($nftMs | Measure-Object -Maximum).Maximum, 1)
    $medianCmdlet = [math]::Round((Get-Median $cmdletMs), 1)
    $load = ((Get-Content /proc/loadavg) -split ' ')[0]
    @"
## Networks: replacing a VE's 200-rule firewall in one transaction under a flood

One busybox container with its firewall on (default inbound Drop) on a Private network, and a second one on the
same bridge flooding it with 16-byte UDP datagrams to port 29999 for ${floodSeconds} s, which both rule sets forbid. Meanwhile ``Set-VzFirewall -Rule`` replaced the VE's $Rules UDP rules by another $Rules $($nftMs.Count)
times, alternating two sets (ports 20000-20199 and 20100-20299). Each replacement renders the module's whole
ruleset and loads it with one ``nft -f`` transaction. Load average at the end: $load on 2 cores.

| measure | value |
| --- | --- |
| nft transaction per replacement (median / max of $($nftMs.Count), all during the flood) | **$medianNft ms** / $maxNft ms (target: at most 100 ms) |
| Set-VzFirewall per replacement, whole cmdlet (median) | $medianCmdlet ms |
| peer: the same $Rules rules as $Rules separate ``nft add rule`` calls | $([math]::Round($peerMs)) ms ($([math]::Round($peerMs / [math]::Max($medianNft, 0.1)))x the transaction) |
| forbidden packets sent during the flood | $sent (about $rate per s) |
| forbidden packets that reached the VE (its namespace's UDP InDatagrams + NoPorts + InErrors) | **$reached** (target: 0) |
| packets the VE's default-drop counter saw (counters restart with each replacement) | $dropped since the last one |

$(if ($reached -eq 0 -and $maxNft -le 100) { 'Both targets hold: no open window during a replacement, and each transaction stays under 100 ms.' } elseif ($reached -eq 0) { "No forbidden packet passed; the slowest transaction took $maxNft ms (over the 100 ms target on this loaded machine)." } else { "$reached forbidden packets passed: the target does NOT hold." })
"@
}
finally {
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Get-VzNetwork -ErrorAction SilentlyContinue | Remove-VzNetwork -Confirm:$false -ErrorAction SilentlyContinue
    & nft delete table inet $table 2>$null
    & nft delete table bridge $table 2>$null
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}
