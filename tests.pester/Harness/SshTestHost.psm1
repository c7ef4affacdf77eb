<#
  SSH remoting test hosts: private sshd instances on loopback addresses, key-only, with the pwsh SSH subsystem, whose
  sessions see the module of the tree under test and the test run's data root. Nothing here touches the host's own
  sshd: each instance has its own config, host key, authorized key, pid and log under a folder the caller owns,
  and Stop-VzSshTestHost kills the listener and every session process it forked, then removes the folder.

    $hosts = Start-VzSshTestHost -Count 2 -Directory $base -ModuleRoot $root/out/Modules
    Invoke-Command -HostName $hosts.HostName -Port $hosts[0].Port -UserName root -KeyFilePath $hosts[0].KeyFile `
        -Options $hosts[0].SshOptions { Import-Module Virtuozzo; Get-VzHost }
    Stop-VzSshTestHost $hosts

  Every instance of one call listens on the same port, each on its own address (127.0.0.1, 127.0.0.2, ...: all of
  127/8 is loopback on Linux), so one Invoke-Command -HostName a,b -Port p fans out to all of them. (Over SSH,
  Invoke-Command has no -ThrottleLimit with -HostName in pwsh 7.6; throttled fan-out goes through New-PSSession and
  Invoke-Command -Session -ThrottleLimit, as about_Virtuozzo shows.)
#>
Set-StrictMode -Version 3.0

# Variables the remote session gets (sshd SetEnv), so it uses the run's data root, run folder and cgroup parent.
$script:ForwardedVariables = 'VZ_ROOT', 'VZ_RUN_ROOT', 'VZ_CGROUP_PARENT', 'VZ_HOST_CONFIG', 'VZ_TEST_RUN', 'VZ_TEST_BASE', 'DOTNET_ROOT'

function Get-VzFreeLoopbackPort {
    # A port free on every address we are about to use: bind each, keep the first port that works on all.
    param([string[]] $Address)
    for ($try = 0; $try -lt 20; $try++) {
        $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Parse($Address[0]), 0)
        $probe.Start(); $port = ([Net.IPEndPoint]$probe.LocalEndpoint).Port; $probe.Stop()
        $ok = $true
        foreach ($a in $Address | Select-Object -Skip 1) {
            $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Parse($a), $port)
            try { $l.Start(); $l.Stop() } catch { $ok = $false }
        }
        if ($ok) { return $port }
    }
    throw "No free loopback port found on $($Address -join ', ')."
}

function Get-VzPwshExecutable {
    $candidate = Join-Path $PSHOME 'pwsh'
    if (Test-Path $candidate) { return $candidate }
    (Get-Command pwsh -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
}

function Invoke-VzSshNative([string] $Command, [string[]] $Arguments) {
    $out = & $Command @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed ($LASTEXITCODE): $out" }
}

function Start-VzSshTestHost {
    <#
      Starts -Count sshd instances on 127.0.0.1, 127.0.0.2, ... (one port), waits until each accepts connections,
      and returns one object per instance: HostName, Port, UserName, KeyFile, SshOptions, Process, Directory.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string] $Directory,
        # Folder holding the laid-out module (…/out/Modules): it becomes the remote user's own module path, which
        # pwsh searches before the AllUsers path, so 'Import-Module Virtuozzo' loads the tree under test.
        [Parameter(Mandatory)][string] $ModuleRoot,
        [ValidateRange(1, 8)][int] $Count = 1,
        [TimeSpan] $StartTimeout = [TimeSpan]::FromSeconds(15)
    )
    $sshd = '/usr/sbin/sshd'
    if (-not (Test-Path $sshd)) { throw 'sshd is not installed (Debian package openssh-server; build.ps1 -Task Bootstrap installs it).' }
    $Directory = [IO.Path]::GetFullPath($Directory)
    $null = New-Item -ItemType Directory -Force -Path $Directory
    # sshd refuses to start without its privilege separation folder; create it only if missing, remove it later.
    $createdPrivsep = $false
    if (-not (Test-Path /run/sshd)) { $null = New-Item -ItemType Directory /run/sshd; $createdPrivsep = $true }

    # One client key per run; the public half is the only key any instance accepts.
    $key = Join-Path $Directory 'client_ed25519'
    Invoke-VzSshNative ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-C', 'vz-remoting-test', '-f', $key)
    $authorized = Join-Path $Directory 'authorized_keys'
    Copy-Item "$key.pub" $authorized

    # The remote user's module path (XDG_DATA_HOME/powershell/Modules) is a link to the tree's laid-out modules.
    $xdg = Join-Path $Directory 'xdg'
    $null = New-Item -ItemType Directory -Force (Join-Path $xdg 'powershell')
    $null = New-Item -ItemType SymbolicLink -Path (Join-Path $xdg 'powershell/Modules') -Target ([IO.Path]::GetFullPath($ModuleRoot))

    $addresses = @(1..$Count | ForEach-Object { "127.0.0.$_" })
    $port = Get-VzFreeLoopbackPort $addresses
    $pwsh = Get-VzPwshExecutable
    $envPairs = @("XDG_DATA_HOME=$xdg") + @($script:ForwardedVariables | ForEach-Object {
        $v = [Environment]::GetEnvironmentVariable($_)
        if ($v) { if ($v -match '\s') { throw "$_ contains white space, which sshd SetEnv cannot carry: '$v'." }; "$_=$v" }
    })

    $instances = foreach ($address in $addresses) {
        $dir = Join-Path $Directory "sshd-$address"
        $null = New-Item -ItemType Directory -Force $dir
        $hostKey = Join-Path $dir 'host_ed25519'
        Invoke-VzSshNative ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-f', $hostKey)
        $config = Join-Path $dir 'sshd_config'
        @(
            "ListenAddress $address"
            "Port $port"
            "HostKey $hostKey"
            "PidFile $(Join-Path $dir 'sshd.pid')"
            "AuthorizedKeysFile $authorized"
            'PermitRootLogin prohibit-password'
            'PubkeyAuthentication yes'
            'PasswordAuthentication no'
            'KbdInteractiveAuthentication no'
            'UsePAM no'
            # The folders above sit under /tmp (world-writable, sticky): StrictModes would refuse the key file.
            'StrictModes no'
            'X11Forwarding no'
            'AllowTcpForwarding no'
            'PrintMotd no'
            'LogLevel VERBOSE'
            "SetEnv $($envPairs -join ' ')"
            "Subsystem powershell $pwsh -sshs -NoLogo -NoProfile"
        ) | Set-Content $config
        Invoke-VzSshNative $sshd @('-t', '-f', $config)
        $log = Join-Path $dir 'sshd.log'
        $psi = [Diagnostics.ProcessStartInfo]::new($sshd)
        foreach ($a in '-D', '-f', $config, '-E', $log) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $process = [Diagnostics.Process]::Start($psi)
        [pscustomobject]@{
            PSTypeName = 'Virtuozzo.Tests.SshTestHost'
            HostName = $address; Port = $port; UserName = 'root'; KeyFile = $key
            SshOptions = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
            Process = $process; Directory = $dir; Config = $config; Log = $log; Root = $Directory
            CreatedPrivsep = $createdPrivsep
        }
    }
    foreach ($i in $instances) { Wait-VzSshListening $i $StartTimeout }
    $instances
}

function Wait-VzSshListening {
    param($Instance, [TimeSpan] $Timeout)
    $deadline = [DateTime]::UtcNow + $Timeout
    while ([DateTime]::UtcNow -lt $deadline) {
        if ($Instance.Process.HasExited) {
            throw "sshd on $($Instance.HostName):$($Instance.Port) exited with code $($Instance.Process.ExitCode): $(Get-Content $Instance.Log -Raw -ErrorAction SilentlyContinue)"
        }
        $client = [Net.Sockets.TcpClient]::new()
        try { $client.Connect($Instance.HostName, $Instance.Port); return } catch { Start-Sleep -Milliseconds 100 } finally { $client.Dispose() }
    }
    throw "sshd on $($Instance.HostName):$($Instance.Port) did not accept connections within $Timeout."
}

function Get-VzProcessTree {
    # The pid and every descendant (sshd forks one process per connection, which runs the pwsh subsystem).
    param([int] $ProcessId)
    $children = @{}
    foreach ($d in Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$') {
        $stat = try { [IO.File]::ReadAllText("$($d.FullName)/stat") } catch { continue }
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        $ppid = [int]$fields[1]
        if (-not $children.ContainsKey($ppid)) { $children[$ppid] = [Collections.Generic.List[int]]::new() }
        $children[$ppid].Add([int]$d.Name)
    }
    $queue = [Collections.Generic.Queue[int]]::new(); $queue.Enqueue($ProcessId)
    while ($queue.Count) {
        $p = $queue.Dequeue(); $p
        if ($children.ContainsKey($p)) { foreach ($c in $children[$p]) { $queue.Enqueue($c) } }
    }
}

function Stop-VzSshTestHost {
    <# Kills each listener and the sessions it forked, waits for them, removes the folders. Safe to call twice. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)][AllowNull()] $Instance)
    begin { $roots = [Collections.Generic.HashSet[string]]::new(); $privsep = $false }
    process {
        foreach ($i in @($Instance | Where-Object { $_ })) {
            $tree = @(if (-not $i.Process.HasExited) { Get-VzProcessTree $i.Process.Id })
            # Children first, so none is re-parented to init before it is killed.
            foreach ($p in $tree | Select-Object -Skip 1) { $null = & kill -KILL $p 2>$null }
            if (-not $i.Process.HasExited) { $i.Process.Kill(); $null = $i.Process.WaitForExit(5000) }
            foreach ($p in $tree) { $deadline = [DateTime]::UtcNow.AddSeconds(5); while ((Test-Path "/proc/$p") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 } }
            $i.Process.Dispose()
            $null = $roots.Add($i.Root)
            if ($i.CreatedPrivsep) { $privsep = $true }
        }
    }
    end {
        foreach ($r in $roots) { Remove-Item $r -Recurse -Force -ErrorAction SilentlyContinue }
        if ($privsep -and (Test-Path /run/sshd) -and -not (Get-ChildItem /run/sshd -Force)) { Remove-Item /run/sshd -Force }
    }
}

function Get-VzSshTestProcess {
    <# Processes still running from these instances' folders (the leak check of the remoting tests). #>
    param([Parameter(Mandatory)][string] $Directory)
    foreach ($d in Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$') {
        $cmd = try { [IO.File]::ReadAllText("$($d.FullName)/cmdline").Replace([char]0, ' ') } catch { '' }
        if ($cmd.Contains($Directory)) { "$($d.Name) $cmd" }
    }
}

function Invoke-VzSshTest {
    <#
      Invoke-Command against test hosts with their key and options: one line per remote test.
        Invoke-VzSshTest $hosts { Import-Module Virtuozzo; Get-VzContainer }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] $Instance,
        [Parameter(Mandatory, Position = 1)][scriptblock] $ScriptBlock,
        [object[]] $ArgumentList = @()
    )
    $first = @($Instance)[0]
    Invoke-Command -HostName @($Instance.HostName) -Port $first.Port -UserName $first.UserName -KeyFilePath $first.KeyFile `
        -Options $first.SshOptions -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList
}

function Get-VzViewText {
    <#
      The column labels of an object's default table view and the labels of its list view: what must look the same
      for a deserialized object as for a live one. Remoting adds a PSComputerName column; it is left out here.
    #>
    param([Parameter(Mandatory)] $InputObject)
    $table = ($InputObject | Format-Table | Out-String -Width 400) -split "`n" | Where-Object { $_.Trim() } | Select-Object -First 1
    $labels = ($InputObject | Format-List | Out-String -Width 400) -split "`n" | Where-Object { $_ -match '^(\S[^:]*?)\s*:' } | ForEach-Object { $Matches[1] }
    # Header cells are styled with ANSI sequences when the host supports them; compare the text only.
    $columns = @(($table -replace '\e\[[0-9;]*m', '').Trim() -split '\s+' | Where-Object { $_ -ne 'PSComputerName' })
    [pscustomobject]@{ TableColumns = $columns; ListLabels = @($labels | ForEach-Object { $_ -replace '\e\[[0-9;]*m', '' } | Where-Object { $_ -ne 'PSComputerName' }) }
}

Export-ModuleMember -Function Start-VzSshTestHost, Stop-VzSshTestHost, Get-VzSshTestProcess, Invoke-VzSshTest, Get-VzViewText
