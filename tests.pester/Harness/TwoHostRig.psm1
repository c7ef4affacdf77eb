<#
  The two-host rig: hosts A and B on one machine, for the migration tests and benchmark. Each host is a network
  namespace with its own sshd (own config, host key, log), data root, run folder, cgroup parent and host settings file;
  its sessions run in a mount namespace with a sysfs of its own network namespace (so /sys/class/net shows that host's
  bridge and taps, as on a real host) over the machine's real cgroup hierarchies.

      (Addresses for the default -Net 10; -Net 12 moves them to 198.19.12.0/24 and 198.19.13.0/24.)
      198.19.10.0/24  the wire: bridge 'vzmbr' in A (198.19.10.1) and in B (198.19.10.2) joined by a veth pair, so a
                      guest keeps its layer-2 segment when it moves; the observer namespace (198.19.10.100) hangs on
                      B's bridge and pings guests across it. Hosts reach each other's sshd over it.
      198.19.11.0/30  this machine <-> A (198.19.11.2), and 198.19.11.4/30 this machine <-> B (198.19.11.6): how
                      the tests reach each host's sshd (Invoke-Command -HostName, as an administrator would).

  Host names: an ssh client config (VZ_SSH_CONFIG, given to every session) names the hosts 'a' and 'b', with one
  client key and a known_hosts file holding exactly the two host keys, so host keys are checked for real. Names of
  namespaces and links in this machine's namespace carry the run id (vzt<6 hex>a|b|o, vzt<6 hex><2 digits>: the
  harness's prefix, so a concurrent run elsewhere takes them for foreign); the bridge lives inside the namespaces. Both hosts share the kernel and the file system; nothing in the
  product reads the other host's data root (the destination side runs only in its own host's sessions).

      $rig = New-VzTwoHostRig -ModuleRoot $root/out/Modules
      Invoke-VzRigHost $rig A { Get-VzVm }
      Remove-VzTwoHostRig $rig          # kills sshd and every session, deletes the namespaces and folders
#>
Set-StrictMode -Version 3.0

$script:ForwardedVariables = 'VZ_TEST_RUN', 'VZ_TEST_BASE', 'DOTNET_ROOT'

function Invoke-VzRigNative([string] $Command, [string[]] $Arguments) {
    $out = & $Command @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed ($LASTEXITCODE): $out" }
}

function New-VzTwoHostRig {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string] $ModuleRoot,
        [string] $Directory = (Join-Path $env:VZ_TEST_BASE "rig-$([guid]::NewGuid().ToString('N').Substring(0, 6))"),
        [string] $RunId = $env:VZ_TEST_RUN,
        # The wire's /24 is 198.19.<Net>.0 and the access links' 198.19.<Net+1>.0 (the tests 10, the bench 12), so a
        # test run and a bench run can have a rig each at the same time.
        [ValidateRange(10, 18)][int] $Net = 10
    )
    $w = "198.19.$Net"; $acc = "198.19.$($Net + 1)"
    $sfx = $RunId.Substring($RunId.Length - 6)
    $Directory = [IO.Path]::GetFullPath($Directory)
    $null = New-Item -ItemType Directory -Force $Directory
    $rig = [pscustomobject]@{
        PSTypeName = 'Virtuozzo.Tests.TwoHostRig'
        Directory = $Directory; Suffix = $sfx; Hosts = [ordered]@{}
        # vzt + the run's 6 hex: the harness of a concurrent run in another work tree takes these for foreign, not leaks.
        Observer = "vzt${sfx}o"; Namespaces = @("vzt${sfx}a", "vzt${sfx}b", "vzt${sfx}o"); RootLinks = @("vzt${sfx}00", "vzt${sfx}01", "vzt${sfx}02", "vzt${sfx}03")
        Bridge = 'vzmbr'; Subnet = $w; ObserverAddress = "$w.100"; GuestAddress = "$w.50"
        SshConfig = Join-Path $Directory 'ssh_config'; KnownHosts = Join-Path $Directory 'known_hosts'; KeyFile = Join-Path $Directory 'client_ed25519'
        Processes = [Collections.Generic.List[Diagnostics.Process]]::new()
    }
    try {
        if (-not (Test-Path /run/sshd)) { $null = New-Item -ItemType Directory /run/sshd }
        Invoke-VzRigNative ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-C', 'vz-rig', '-f', $rig.KeyFile)
        $xdg = Join-Path $Directory 'xdg'
        $null = New-Item -ItemType Directory -Force (Join-Path $xdg 'powershell')
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $xdg 'powershell/Modules') -Target ([IO.Path]::GetFullPath($ModuleRoot))

        # Namespaces, bridges, the wire, the observer, the access links.
        foreach ($ns in $rig.Namespaces) { Invoke-VzRigNative ip @('netns', 'add', $ns); Invoke-VzRigNative ip @('-n', $ns, 'link', 'set', 'lo', 'up') }
        $i = 0
        foreach ($h in 'A', 'B') {
            $i++
            $ns = "vzt$sfx$($h.ToLowerInvariant())"
            Invoke-VzRigNative ip @('-n', $ns, 'link', 'add', $rig.Bridge, 'type', 'bridge')
            # A fixed MAC: by default a bridge takes its ports' lowest, so a VM's tap leaving or joining can change it
            # and the other host's ARP entry then points nowhere for up to a minute (seen as ssh timeouts between hosts).
            Invoke-VzRigNative ip @('-n', $ns, 'link', 'set', $rig.Bridge, 'address', ('02:19:{0:x2}:00:00:{1:x2}' -f $Net, $i))
            Invoke-VzRigNative ip @('-n', $ns, 'addr', 'add', "$w.$i/24", 'dev', $rig.Bridge)
            Invoke-VzRigNative ip @('-n', $ns, 'link', 'set', $rig.Bridge, 'up')
            $root = "vzt$sfx$('{0:d2}' -f ($i - 1))"
            $o = ($i - 1) * 4
            $peer = "vzt$sfx$('{0:d2}' -f ($i + 9))"
            Invoke-VzRigNative ip @('link', 'add', $root, 'type', 'veth', 'peer', 'name', $peer)
            Invoke-VzRigNative ip @('link', 'set', $peer, 'netns', $ns)
            Invoke-VzRigNative ip @('addr', 'add', "$acc.$($o + 1)/30", 'dev', $root)
            Invoke-VzRigNative ip @('link', 'set', $root, 'up')
            Invoke-VzRigNative ip @('-n', $ns, 'addr', 'add', "$acc.$($o + 2)/30", 'dev', $peer)
            Invoke-VzRigNative ip @('-n', $ns, 'link', 'set', $peer, 'up')
            $base = Join-Path $Directory $h.ToLowerInvariant()
            $rig.Hosts[$h] = [pscustomobject]@{
                Name = $h.ToLowerInvariant(); Namespace = $ns; WireAddress = "$w.$i"; AccessAddress = "$acc.$($o + 2)"
                DataRoot = Join-Path $base 'data'; RunRoot = Join-Path $base 'run'; HostConfig = Join-Path $base 'host.yaml'
                CgroupParent = "$($env:VZ_CGROUP_PARENT)/$($h.ToLowerInvariant())"; Directory = $base; Sshd = $null
            }
            $null = New-Item -ItemType Directory -Force $rig.Hosts[$h].DataRoot, $rig.Hosts[$h].RunRoot
        }
        $nsA = $rig.Hosts.A.Namespace; $nsB = $rig.Hosts.B.Namespace
        Invoke-VzRigNative ip @('link', 'add', "vzt${sfx}02", 'type', 'veth', 'peer', 'name', "vzt${sfx}12")
        Invoke-VzRigNative ip @('link', 'set', "vzt${sfx}02", 'netns', $nsA)
        Invoke-VzRigNative ip @('link', 'set', "vzt${sfx}12", 'netns', $nsB)
        Invoke-VzRigNative ip @('-n', $nsA, 'link', 'set', "vzt${sfx}02", 'master', $rig.Bridge, 'up')
        Invoke-VzRigNative ip @('-n', $nsB, 'link', 'set', "vzt${sfx}12", 'master', $rig.Bridge, 'up')
        Invoke-VzRigNative ip @('link', 'add', "vzt${sfx}03", 'type', 'veth', 'peer', 'name', "vzt${sfx}13")
        Invoke-VzRigNative ip @('link', 'set', "vzt${sfx}03", 'netns', $rig.Observer)
        Invoke-VzRigNative ip @('link', 'set', "vzt${sfx}13", 'netns', $nsB)
        Invoke-VzRigNative ip @('-n', $nsB, 'link', 'set', "vzt${sfx}13", 'master', $rig.Bridge, 'up')
        Invoke-VzRigNative ip @('-n', $rig.Observer, 'addr', 'add', "$($rig.ObserverAddress)/24", 'dev', "vzt${sfx}03")
        Invoke-VzRigNative ip @('-n', $rig.Observer, 'link', 'set', "vzt${sfx}03", 'up')

        # sshd per host, its environment naming that host's roots.
        $pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
        $known = foreach ($h in $rig.Hosts.Values) {
            $dir = $h.Directory
            $hostKey = Join-Path $dir 'host_ed25519'
            Invoke-VzRigNative ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-f', $hostKey)
            $envPairs = @("XDG_DATA_HOME=$xdg", "VZ_ROOT=$($h.DataRoot)", "VZ_RUN_ROOT=$($h.RunRoot)", "VZ_CGROUP_PARENT=$($h.CgroupParent)",
                "VZ_HOST_CONFIG=$($h.HostConfig)", "VZ_SSH_CONFIG=$($rig.SshConfig)", "VZ_RIG_HOST=$($h.Name)") +
                @($script:ForwardedVariables | ForEach-Object { $v = [Environment]::GetEnvironmentVariable($_); if ($v) { "$_=$v" } })
            $config = Join-Path $dir 'sshd_config'
            @(
                'ListenAddress 0.0.0.0', 'Port 22', "HostKey $hostKey", "PidFile $(Join-Path $dir 'sshd.pid')"
                "AuthorizedKeysFile $($rig.KeyFile).pub", 'PermitRootLogin prohibit-password', 'PubkeyAuthentication yes'
                'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'X11Forwarding no'
                # The migration stream and the NBD mirror ride on forwarded unix sockets (-L). sshd grants a unix socket
                # forward only where local TCP forwarding is allowed too; remote forwarding stays off.
                'AllowTcpForwarding local', 'AllowStreamLocalForwarding local', 'PrintMotd no', 'LogLevel VERBOSE', 'MaxStartups 50'
                "SetEnv $($envPairs -join ' ')", "Subsystem powershell $pwsh -sshs -NoLogo -NoProfile"
            ) | Set-Content $config
            Invoke-VzRigNative /usr/sbin/sshd @('-t', '-f', $config)
            # A mount namespace whose /sys is this network namespace's sysfs, with the real cgroup trees bound back in.
            $cg = Join-Path $dir 'cg'
            $null = New-Item -ItemType Directory -Force $cg
            $script = "set -e; mount --rbind /sys/fs/cgroup '$cg'; mount -t sysfs sysfs /sys; mount --rbind '$cg' /sys/fs/cgroup; umount -l '$cg'; exec /usr/sbin/sshd -D -f '$config' -E '$(Join-Path $dir 'sshd.log')'"
            $psi = [Diagnostics.ProcessStartInfo]::new('nsenter')
            foreach ($a in "--net=/run/netns/$($h.Namespace)", '--', 'unshare', '--mount', '--propagation', 'slave', '--', '/bin/sh', '-c', $script) { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
            $h.Sshd = [Diagnostics.Process]::Start($psi)
            $rig.Processes.Add($h.Sshd)
            $pub = (Get-Content "$hostKey.pub" -Raw).Trim() -replace '\s+\S+$', ''
            "$($h.WireAddress) $pub"
            "$($h.AccessAddress) $pub"
        }
        $known | Set-Content $rig.KnownHosts
        @(
            'Host a', "    HostName $w.1", 'Host b', "    HostName $w.2"
            # The same host B under a key alias nobody trusted: the host-key check must refuse it.
            'Host b-untrusted', "    HostName $w.2", '    HostKeyAlias b-untrusted'
            'Host *', '    User root', '    Port 22', "    IdentityFile $($rig.KeyFile)", '    IdentitiesOnly yes'
            "    UserKnownHostsFile $($rig.KnownHosts)", '    StrictHostKeyChecking yes', '    LogLevel ERROR'
        ) | Set-Content $rig.SshConfig
        foreach ($h in $rig.Hosts.Values) { Wait-VzRigSsh $h 20 }
        $rig
    }
    catch {
        Remove-VzTwoHostRig $rig
        throw
    }
}

function Wait-VzRigSsh($HostInfo, [int] $Seconds) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        if ($HostInfo.Sshd.HasExited) { throw "sshd of host $($HostInfo.Name) exited ($($HostInfo.Sshd.ExitCode)): $(Get-Content (Join-Path $HostInfo.Directory 'sshd.log') -Raw -ErrorAction SilentlyContinue)" }
        $c = [Net.Sockets.TcpClient]::new()
        try { $c.Connect($HostInfo.AccessAddress, 22); return } catch { Start-Sleep -Milliseconds 100 } finally { $c.Dispose() }
    }
    throw "sshd of host $($HostInfo.Name) did not listen within $Seconds s."
}

function Get-VzRigSshOption($Rig) {
    @{ UserKnownHostsFile = $Rig.KnownHosts; StrictHostKeyChecking = 'yes'; LogLevel = 'ERROR' }
}

function Invoke-VzRigHost {
    <#
      Runs a script block on host A or B through its sshd (PowerShell remoting over SSH, the module of the tree under
      test, that host's data root). Output comes back deserialized, as it would from a real host.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Rig, [Parameter(Mandatory, Position = 1)][ValidateSet('A', 'B')][string] $HostName,
        [Parameter(Mandatory, Position = 2)][scriptblock] $ScriptBlock, [object[]] $ArgumentList = @())
    $h = $Rig.Hosts[$HostName]
    $inner = [scriptblock]::Create("param([Parameter(ValueFromRemainingArguments)] `$RigArgs) Import-Module Virtuozzo; `$ErrorActionPreference = 'Stop'`n& {" + $ScriptBlock.ToString() + "`n} @RigArgs")
    Invoke-Command -HostName $h.AccessAddress -UserName root -KeyFilePath $Rig.KeyFile -Options (Get-VzRigSshOption $Rig) -ScriptBlock $inner -ArgumentList $ArgumentList
}

function Invoke-VzRigNamespace {
    <# Runs a program inside one of the rig's namespaces (the observer's ping, a look at a host's links). #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][string] $Namespace, [Parameter(Mandatory)][string[]] $Command)
    & ip netns exec $Namespace @Command
}

function Get-VzRigLeftover {
    <#
      What a host of the rig still holds that a finished test must not leave: QEMU processes started from its run
      folder, VE folders in its data root, run folders, taps in its namespace, its cgroups.
    #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $HostName)
    $h = $Rig.Hosts[$HostName]
    foreach ($d in [IO.DirectoryInfo]::new('/proc').GetDirectories() | Where-Object { $_.Name -match '^\d+$' }) {
        $cmd = try { [IO.File]::ReadAllText("$($d.FullName)/cmdline").Replace([char]0, ' ') } catch { '' }
        if ($cmd -match '^qemu-system' -and $cmd.Contains($h.RunRoot)) { "process: $($d.Name) qemu" }
    }
    # Listed through the host's own mount namespace: a test may have mounted a small file system over its data root there.
    (& nsenter "--mount=/proc/$($h.Sshd.Id)/ns/mnt" -- ls -A (Join-Path $h.DataRoot 'private') 2>$null) | Where-Object { $_ } | ForEach-Object { "ve folder: $_" }
    # VE run folders are named by 12 hex digits of the id; the host probe's cache beside them is not a VE's.
    Get-ChildItem $h.RunRoot -Force -ErrorAction SilentlyContinue | Where-Object Name -Match '^[0-9a-f]{12}$' | ForEach-Object { "run folder: $($_.Name)" }
    (& ip -n $h.Namespace -o link show 2>$null) | ForEach-Object { ($_ -split ': ')[1] -replace '@.*$', '' } | Where-Object { $_ -match '^vzt[0-9a-f]{12}$' } | ForEach-Object { "tap: $_" }
    foreach ($m in Get-Content /proc/self/mountinfo | ForEach-Object { $l = $_ -split ' '; if ($l[-3] -in 'cgroup', 'cgroup2') { $l[4] } }) {
        Get-ChildItem (Join-Path $m $h.CgroupParent) -Directory -ErrorAction SilentlyContinue | ForEach-Object { "cgroup: $($_.FullName)" }
    }
}

function Set-VzRigWire {
    <#
      The wire between the hosts' bridges: -Down cuts it (both ends of the veth, as a pulled cable; TCP connections
      across it stall, nothing resets them), -Up restores it. -RateMbit shapes what A sends over it (tbf; 0 removes
      the shaping): the fault tests slow a move so a cut lands at a chosen point of the copy.
    #>
    param([Parameter(Mandatory)] $Rig, [switch] $Down, [switch] $Up, [int] $RateMbit = -1)
    $ends = @(@($Rig.Hosts.A.Namespace, "vzt$($Rig.Suffix)02"), @($Rig.Hosts.B.Namespace, "vzt$($Rig.Suffix)12"))
    foreach ($e in $ends) {
        if ($Down) { Invoke-VzRigNative ip @('-n', $e[0], 'link', 'set', $e[1], 'down') }
        if ($Up) { Invoke-VzRigNative ip @('-n', $e[0], 'link', 'set', $e[1], 'up') }
    }
    if ($RateMbit -ge 0) {
        foreach ($e in $ends) {
            $null = & ip netns exec $e[0] tc qdisc del dev $e[1] root 2>$null
            if ($RateMbit -gt 0) { Invoke-VzRigNative ip @('netns', 'exec', $e[0], 'tc', 'qdisc', 'add', 'dev', $e[1], 'root', 'tbf', 'rate', "${RateMbit}mbit", 'burst', '256kb', 'latency', '100ms') }
        }
    }
}

function Mount-VzRigDataRoot {
    <#
      Puts a small file system of -SizeMB (ext4 on a loop device, its image in the rig's folder) over a host's data
      root, inside that host's mount namespace only, so its disk can be filled. Returns the image path for
      Dismount-VzRigDataRoot. The data root must hold no VE while it is covered.
    #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $HostName, [Parameter(Mandatory)][int] $SizeMB)
    $h = $Rig.Hosts[$HostName]
    $image = Join-Path $Rig.Directory "$($h.Name)-small-root.img"
    Invoke-VzRigNative truncate @('-s', "${SizeMB}M", $image)
    Invoke-VzRigNative mkfs.ext4 @('-q', '-F', '-m', '0', $image)
    Invoke-VzRigNative nsenter @("--mount=/proc/$($h.Sshd.Id)/ns/mnt", '--', 'mount', '-o', 'loop', $image, $h.DataRoot)
    $image
}

function Dismount-VzRigDataRoot {
    <# Unmounts the small file system again (its loop device goes with it) and deletes the image. #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $HostName, [Parameter(Mandatory)][string] $Image)
    $h = $Rig.Hosts[$HostName]
    Invoke-VzRigNative nsenter @("--mount=/proc/$($h.Sshd.Id)/ns/mnt", '--', 'umount', $h.DataRoot)
    Remove-Item $Image -Force
}

function Invoke-VzRigHostShell {
    <# Runs a shell command in a host's network and mount namespaces (what that host's own root shell would see). #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $HostName, [Parameter(Mandatory)][string] $Command)
    & nsenter "--mount=/proc/$($Rig.Hosts[$HostName].Sshd.Id)/ns/mnt" "--net=/run/netns/$($Rig.Hosts[$HostName].Namespace)" -- /bin/sh -c $Command
}

function Invoke-VzRigFaultedMove {
    <#
      A live move of a VM from one host of the rig to the other, as a job in its own session on the source, with a
      fault struck at a chosen point of the copy: -Trigger (given the session) waits for the point and returns how far
      the copy got (see Wait-VzRigMovePoint), -Fault strikes. The wire is shaped to -RateMbit meanwhile, so the copy
      lasts long enough to be struck where wanted. Returns the point, the job's final state, the error id it failed
      with and the seconds from the strike to the job's end (the roll-back).
    #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $From, [Parameter(Mandatory)][string] $Name,
        [Parameter(Mandatory)][scriptblock] $Trigger, [Parameter(Mandatory)][scriptblock] $Fault, [int] $RateMbit = 80, [int] $StallTimeout = 0)
    $to = if ($From -eq 'A') { 'b' } else { 'a' }
    Set-VzRigWire $Rig -RateMbit $RateMbit
    $s = New-PSSession -HostName $Rig.Hosts[$From].AccessAddress -UserName root -KeyFilePath $Rig.KeyFile -Options (Get-VzRigSshOption $Rig)
    try {
        Invoke-Command -Session $s -ArgumentList $Name, $to, $StallTimeout {
            param($n, $d, $st)
            Import-Module Virtuozzo
            $p = @{}; if ($st -gt 0) { $p.StallTimeout = $st }
            $script:job = Move-VzVm $n -DestinationHost $d -AsJob @p
        }
        $point = & $Trigger $s
        $struck = [Diagnostics.Stopwatch]::StartNew()
        & $Fault
        $end = Invoke-Command -Session $s {
            $null = $script:job | Wait-Job -Timeout 600; $e = $null
            $null = Receive-Job $script:job -ErrorVariable e -ErrorAction SilentlyContinue
            "$($script:job.State)"; "$(@($e)[0].FullyQualifiedErrorId)"
        }
        [pscustomobject]@{ Point = $point; State = $end[0]; ErrorId = $end[1]; RollbackSeconds = $struck.Elapsed.TotalSeconds }
    }
    finally {
        Remove-PSSession $s
        Set-VzRigWire $Rig -RateMbit 0
    }
}

function Wait-VzRigMovePoint {
    <#
      Waits until the move running as $script:job in -Session reached a point of its copy, read from QEMU's migration
      state as the job's progress reports it (query-migrate: the share of RAM copied; query-block-jobs: MiB of disk
      mirrored). Returns the percent (or MiB) seen; throws when the move ended first.
    #>
    param([Parameter(Mandatory)] $Session, [int] $RamPercent = -1, [int] $DiskMiB = -1, [int] $TimeoutSec = 300)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline) {
        $now = Invoke-Command -Session $Session {
            $p = $script:job.Progress; $n = $p.Count; "$($script:job.State)"; if ($n) { $p[$n - 1].StatusDescription } else { '' }
            if ($script:job.State -ne 'Running') { "$(@($script:job.Error)[0])" }
        }
        if ($now[0] -ne 'Running') { throw "The move ended ($($now[0])) before the point to strike at; last progress: $($now[1]); error: $($now[2])" }
        if ($RamPercent -ge 0 -and $now[1] -match '^Memory: (\d+) % copied' -and [int]$Matches[1] -ge $RamPercent) { return [int]$Matches[1] }
        if ($DiskMiB -ge 0 -and $now[1] -match '^Copying disks: (\d+) of' -and [int]$Matches[1] -ge $DiskMiB) { return [int]$Matches[1] }
        Start-Sleep -Milliseconds 20
    }
    throw "The move did not reach the point to strike at within $TimeoutSec s."
}

function Get-VzRigDiskFiller {
    <# The shell command that fills a host's data root file system to the last byte (fallocate, then dd for the rest). #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $HostName)
    $root = $Rig.Hosts[$HostName].DataRoot
    "a=`$(df --output=avail -B1 '$root' | tail -1); fallocate -l `$((a - 1048576)) '$root/filler'; dd if=/dev/zero of='$root/filler.tail' bs=64k status=none 2>/dev/null; sync; true"
}

function Install-VzRigTemplate {
    <#
      Puts an OS template into a host's template folder, as an administrator installs one: built once per rig on this
      machine (whose network reaches the Debian mirror; the rig's hosts reach only each other) in a data root of its
      own by a child pwsh running New-VzTemplate, then copied with owners, modes and xattrs.
    #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $HostName, [Parameter(Mandatory)][string] $Name,
        [Parameter(Mandatory)][string] $ModuleRoot)
    $build = Join-Path $Rig.Directory 'template-build'
    $src = Join-Path $build "data/template/$Name"
    if (-not (Test-Path (Join-Path $src 'template.yaml'))) {
        $saved = @{}
        foreach ($k in 'VZ_ROOT', 'VZ_RUN_ROOT') { $saved[$k] = [Environment]::GetEnvironmentVariable($k) }
        $env:VZ_ROOT = Join-Path $build 'data'; $env:VZ_RUN_ROOT = Join-Path $build 'run'
        try {
            $pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
            $out = & $pwsh -NoProfile -Command "`$ErrorActionPreference = 'Stop'; Import-Module '$ModuleRoot/Virtuozzo/Virtuozzo.psd1'; `$null = New-VzTemplate '$Name'" 2>&1
            if ($LASTEXITCODE -ne 0) { throw "Building the template $Name failed: $out" }
        }
        finally { foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) } }
    }
    $dest = Join-Path $Rig.Hosts[$HostName].DataRoot 'template'
    $null = New-Item -ItemType Directory -Force $dest
    Invoke-VzRigNative cp @('-a', '--', $src, $dest)
}

function New-VzRigManifestTree {
    <#
      Makes the tree a container move must carry over unchanged, as the host's administrator would, in that host's own
      data root (-Path, e.g. a container's root/srv/m): numeric owners and modes (setuid, sticky), xattrs (user.* and
      trusted.*), POSIX access and default ACLs, a hard link, character and block device nodes, a fifo, a symlink and
      a sparse file.
    #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $HostName, [Parameter(Mandatory)][string] $Path)
    $out = Invoke-VzRigHostShell $Rig $HostName ("set -e; mkdir -p '$Path/dir'; cd '$Path'; echo hello > f; ln f hard; chown 1234:4321 f; chmod 640 f; " +
        "setfattr -n user.color -v blue f; setfattr -n trusted.mark -v 1 f; setfacl -m u:1500:rwx,g:1600:r dir; setfacl -d -m u:1500:rx dir; chmod +t dir; " +
        "mknod null c 1 3; mknod loop200 b 7 200; mkfifo fifo; ln -s f sym; echo x > suid; chmod 4755 suid; " +
        "truncate -s 64M sparse; echo tail | dd of=sparse bs=1 seek=33554432 conv=notrunc status=none") 2>&1
    if ($LASTEXITCODE -ne 0) { throw "Making the manifest tree failed: $out" }
}

$script:ManifestScript = @'
cd "$1" && find . | LC_ALL=C sort | while IFS= read -r f; do
  printf '%s|%s' "$f" "$(stat -c '%F|%u:%g|%a|%h|%s|%t:%T' "$f")"
  if [ -f "$f" ] && [ ! -L "$f" ]; then printf '|%s' "$(md5sum < "$f" | cut -c1-32)"; [ $(( $(stat -c %b "$f") * 512 )) -lt $(stat -c %s "$f") ] && printf '|sparse'; fi
  printf '
'; getfattr -h -d -m - -e hex "$f" 2>/dev/null | grep -v '^# file' | grep .
  getfacl -n -p "$f" 2>/dev/null | grep -v '^#' | grep . | sed 's/^/acl /'
done; find . -type f -links +1 -printf '%i %p
' | LC_ALL=C sort | awk '{a[$1]=a[$1]" "$2} END {for (i in a) print "hardlinks:" a[i]}' | LC_ALL=C sort
'@

function Get-VzRigTreeManifest {
    <#
      One line per fact of a tree, read by a host in its own data root: path, type, owner, mode, link count, size,
      device numbers, content hash, whether sparse, every xattr (hex), the ACL entries, and the hard-link groups.
      Two trees are the same when their manifests are.
    #>
    param([Parameter(Mandatory)] $Rig, [Parameter(Mandatory)][ValidateSet('A', 'B')][string] $HostName, [Parameter(Mandatory)][string] $Path)
    $q = "'" + $script:ManifestScript.Replace("'", "'\''") + "'"
    @(Invoke-VzRigHostShell $Rig $HostName "sh -c $q manifest '$Path'")
}

function Remove-VzTwoHostRig {
    <# Kills each sshd and every process it started, deletes the namespaces (and with them every link) and the folder. #>
    [CmdletBinding()] param([Parameter(Mandatory)][AllowNull()] $Rig)
    if (-not $Rig) { return }
    # Every process whose command line or environment names the rig's folder: sshd, sessions, agents, QEMU.
    foreach ($d in [IO.DirectoryInfo]::new('/proc').GetDirectories() | Where-Object { $_.Name -match '^\d+$' -and [int]$_.Name -ne $PID }) {
        $cmd = try { [IO.File]::ReadAllText("$($d.FullName)/cmdline") } catch { '' }
        $envs = try { [IO.File]::ReadAllText("$($d.FullName)/environ") } catch { '' }
        if ($cmd.Contains($Rig.Directory) -or $envs.Contains("VZ_SSH_CONFIG=$($Rig.SshConfig)")) { $null = & kill -KILL $d.Name 2>$null }
    }
    foreach ($p in $Rig.Processes) { if (-not $p.HasExited) { $p.Kill($true); $null = $p.WaitForExit(5000) }; $p.Dispose() }
    Start-Sleep -Milliseconds 300
    foreach ($ns in $Rig.Namespaces) { if (Test-Path "/run/netns/$ns") { $null = & ip netns delete $ns 2>$null } }
    foreach ($l in $Rig.RootLinks) { if (Test-Path "/sys/class/net/$l") { $null = & ip link delete $l 2>$null } }
    foreach ($h in $Rig.Hosts.Values) {
        foreach ($m in Get-Content /proc/self/mountinfo | ForEach-Object { $l = $_ -split ' '; if ($l[-3] -in 'cgroup', 'cgroup2') { $l[4] } }) {
            $root = Join-Path $m $h.CgroupParent
            if (Test-Path $root) {
                Get-ChildItem $root -Directory -Recurse -ErrorAction SilentlyContinue | Sort-Object { $_.FullName.Length } -Descending | ForEach-Object { try { [IO.Directory]::Delete($_.FullName) } catch { } }
                try { [IO.Directory]::Delete($root) } catch { }
            }
        }
    }
    # The run's cgroup parent, when the rig's hosts were all that used it (rmdir fails on one in use, harmlessly).
    foreach ($m in Get-Content /proc/self/mountinfo | ForEach-Object { $l = $_ -split ' '; if ($l[-3] -in 'cgroup', 'cgroup2') { $l[4] } }) {
        try { [IO.Directory]::Delete((Join-Path $m $env:VZ_CGROUP_PARENT)) } catch { }
    }
    Remove-Item $Rig.Directory -Recurse -Force -ErrorAction SilentlyContinue
}

Export-ModuleMember -Function New-VzTwoHostRig, Remove-VzTwoHostRig, Invoke-VzRigHost, Invoke-VzRigNamespace, Get-VzRigLeftover, Get-VzRigSshOption,
    Set-VzRigWire, Mount-VzRigDataRoot, Dismount-VzRigDataRoot, Invoke-VzRigHostShell, Invoke-VzRigFaultedMove, Wait-VzRigMovePoint, Get-VzRigDiskFiller,
    New-VzRigManifestTree, Get-VzRigTreeManifest, Install-VzRigTemplate
