#Requires -Modules Pester
<#
  Acceptance of system containers against real processes, cgroup files and network devices on this host.
  Every test uses its own data root, a bridge it makes (198.18.0.0/15 only) and removes, and leaves nothing behind.
#>
BeforeDiscovery {
    $script:IsRoot = (id -u) -eq '0'
}

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Scope = New-VzTestScope -Name containers
    $script:Bridge = Get-VzTestLinkName 0
    & ip link add name $script:Bridge type bridge
    & ip addr add 198.18.0.1/24 dev $script:Bridge
    & ip link set $script:Bridge up

    function Get-CgroupFile([Parameter(Mandatory)] $Container, [string] $Controller, [string] $File) {
        (Get-Content -Raw "/sys/fs/cgroup/$Controller/$env:VZ_CGROUP_PARENT/ct-$($Container.Id.ToString('N'))/$File").Trim()
    }
    function Assert-Ping([string] $Container, [string] $Address) {
        $r = Invoke-VzContainerCommand $Container ping -ArgumentList '-c', 3, '-w', 5, $Address
        if ($r.ExitCode -ne 0) {
            $diag = (Invoke-VzContainerCommand $Container -Shell 'ip addr; ip route; ip neigh').StdOut + (& bridge fdb show 2>&1 | Out-String) + (& ip -br link | Out-String)
            $r.ExitCode | Should -Be 0 -Because "$Container -> $Address`n$($r.StdOut)$($r.StdErr)`n$diag"
        }
    }
    function Test-CgroupExists([Parameter(Mandatory)] $Container) {
        Test-VzCgroupExists "$env:VZ_CGROUP_PARENT/ct-$($Container.Id.ToString('N'))" # v1 hierarchies and the unified tree
    }
}

AfterAll {
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    & ip link del $script:Bridge 2>$null
    Remove-VzTestScope $script:Scope
}

Describe 'A busybox container from a clean host' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:ct1 = New-VzContainer ct1 -Template busybox -MemorySize 128MB -CpuLimit 50 -IpAddress 198.18.0.2/24 -Bridge $script:Bridge |
            Start-VzContainer -PassThru
    }
    AfterAll {
        Get-VzContainer ct1, ct1b -ErrorAction SilentlyContinue | Stop-VzContainer -Kill -PassThru -ErrorAction SilentlyContinue | Remove-VzContainer -Force
    }

    It 'returns a running container object' {
        $ct1.State | Should -Be Running
        $ct1.Name | Should -Be ct1
        $ct1.InitPid | Should -BeGreaterThan 1
        (Get-Content /proc/$($ct1.InitPid)/comm) | Should -Be 'init'
    }

    It 'puts the memory limit in the memcg' {
        Get-CgroupFile $ct1 memory memory.limit_in_bytes | Should -Be '134217728'
    }

    It 'limits the CPU to 50 % of one CPU' {
        $quota = [long](Get-CgroupFile $ct1 cpu cpu.cfs_quota_us)
        $period = [long](Get-CgroupFile $ct1 cpu cpu.cfs_period_us)
        $quota / $period | Should -Be 0.5
    }

    It 'has its own hostname' {
        (Invoke-VzContainerCommand ct1 hostname).StdOut.Trim() | Should -Be 'ct1'
    }

    It 'lists only its own processes in ps' {
        $r = Invoke-VzContainerCommand ct1 ps
        $r.ExitCode | Should -Be 0
        $pids = @($r.StdOut -split "`n" | Select-Object -Skip 1 | Where-Object { $_.Trim() } | ForEach-Object { [int](($_.Trim() -split '\s+')[0]) })
        $pids | Should -Contain 1
        $pids.Count | Should -BeLessOrEqual 3   # init, ps (and at most one helper)
        ($r.StdOut -split "`n" | Select-Object -Skip 1) -join "`n" | Should -Not -Match 'pwsh|process_api|sshd'
    }

    It 'OOM-kills a process that allocates past the limit; init survives and the count shows' {
        $r = Invoke-VzContainerCommand ct1 -Shell 'dd if=/dev/zero of=/dev/null bs=200M count=1'
        $r.ExitCode | Should -Not -Be 0
        $after = Get-VzContainer ct1
        $after.State | Should -Be Running
        $after.InitPid | Should -Be $ct1.InitPid
        $after.OomKills | Should -BeGreaterOrEqual 1
        (Invoke-VzContainerCommand ct1 true).ExitCode | Should -Be 0
    }

    It 'changes the live memory limit and the config in one step' {
        $r = Set-VzContainer ct1 -MemorySize 256MB -PassThru
        $r.MemorySize | Should -Be 256MB
        Get-CgroupFile $ct1 memory memory.limit_in_bytes | Should -Be '268435456'
        (Get-Content -Raw (Join-Path $ct1.Path 've.yaml')) | Should -Match 'size: 268435456'
    }

    It 'sets swap (memory+swap limit) and the guarantee (soft limit) live' {
        Set-VzContainer ct1 -SwapSize 64MB -MemGuarantee 50
        Get-CgroupFile $ct1 memory memory.memsw.limit_in_bytes | Should -Be ([string](256MB + 64MB))
        Get-CgroupFile $ct1 memory memory.soft_limit_in_bytes | Should -Be ([string](128MB))
        (Get-VzContainer ct1).MemGuaranteePercent | Should -Be 50
    }

    It 'changes a running container''s memory through Import-VzConfig live, as Set-VzContainer does' {
        $file = Join-Path $TestDrive 'ct1.yaml'
        Export-VzConfig ct1 -Path $file
        $text = Get-Content -Raw $file
        $text | Should -Match 'size: 268435456'
        $text -replace 'size: 268435456', 'size: 201326592' | Set-Content $file
        (Import-VzConfig $file).Action | Should -Be 'Update'
        Get-CgroupFile $ct1 memory memory.limit_in_bytes | Should -Be '201326592'
        (Get-VzContainer ct1).MemorySize | Should -Be 192MB
        Set-VzContainer ct1 -MemorySize 256MB
    }

    It 'sets the same settings from a CSV row of its own, and a round trip changes nothing' {
        $yaml = Join-Path $TestDrive 'ct1-before.yaml'
        Export-VzConfig ct1 -Path $yaml
        $csv = Join-Path $TestDrive 'ct1.csv'
        Get-VzContainer ct1 | Export-Csv $csv
        Import-Csv $csv | Set-VzContainer
        Compare-VzConfig $yaml | Should -BeNullOrEmpty
        Get-VzContainer ct1 | Set-VzContainer -MemorySize 300MB
        Get-CgroupFile $ct1 memory memory.limit_in_bytes | Should -Be ([string](300MB))
        Set-VzContainer ct1 -MemorySize 256MB
    }

    It 'changes CPU units, limit, mask and pids live' {
        Set-VzContainer ct1 -CpuUnits 2000 -CpuLimit 25 -CpuMask 0 -PidsLimit 100
        Get-CgroupFile $ct1 cpu cpu.shares | Should -Be '2048'
        Get-CgroupFile $ct1 cpu cpu.cfs_quota_us | Should -Be '25000'
        Get-CgroupFile $ct1 cpuset cpuset.cpus | Should -Be '0'
        Get-CgroupFile $ct1 pids pids.max | Should -Be '100'
        Set-VzContainer ct1 -CpuLimit 0 -CpuMask all -PidsLimit 0
        Get-CgroupFile $ct1 cpu cpu.cfs_quota_us | Should -Be '-1'
        Get-CgroupFile $ct1 pids pids.max | Should -Be 'max'
    }

    It 'changes the hostname and DNS servers live' {
        Set-VzContainer ct1 -Hostname web01.example.test -Nameserver 198.18.0.53
        (Invoke-VzContainerCommand ct1 hostname).StdOut.Trim() | Should -Be 'web01.example.test'
        (Invoke-VzContainerCommand ct1 cat /etc/resolv.conf).StdOut | Should -Match 'nameserver 198\.18\.0\.53'
        Set-VzContainer ct1 -Hostname ct1
    }

    It 'shows no host process' {
        $r = Invoke-VzContainerCommand ct1 -Shell "test -d /proc/$PID && echo visible || echo hidden; ls /proc | grep -c '^[0-9]'"
        $lines = $r.StdOut -split "`n"
        if ($PID -gt 10) { $lines[0] | Should -Be 'hidden' }
        [int]$lines[1] | Should -BeLessOrEqual 4
    }

    It 'cannot mount' {
        (Invoke-VzContainerCommand ct1 mount -ArgumentList '-t', tmpfs, none, /mnt).ExitCode | Should -Not -Be 0
    }

    It 'cannot write /proc/sys' {
        (Invoke-VzContainerCommand ct1 -Shell 'echo 1 > /proc/sys/vm/drop_caches').ExitCode | Should -Not -Be 0
        (Invoke-VzContainerCommand ct1 -Shell 'echo evil > /proc/sys/kernel/hostname').ExitCode | Should -Not -Be 0
    }

    It 'cannot open a host block device' {
        $r = Invoke-VzContainerCommand ct1 -Shell 'mknod /tmp/blk b 7 0 && dd if=/tmp/blk of=/dev/null bs=512 count=1'
        $r.ExitCode | Should -Not -Be 0
        (Invoke-VzContainerCommand ct1 -Shell 'find /dev -type b | wc -l').StdOut.Trim() | Should -Be '0'
    }

    It 'reaches the bridge address over eth0' {
        Assert-Ping ct1 198.18.0.1
        (& ping -c 1 -W 2 198.18.0.2) | Out-Null
        $LASTEXITCODE | Should -Be 0
    }

    It 'enters with a shell on the terminal and reports its exit code' {
        Enter-VzContainer ct1 -Shell /bin/true -WarningAction SilentlyContinue
        $LASTEXITCODE | Should -Be 0
        Enter-VzContainer ct1 -Shell /bin/false -WarningAction SilentlyContinue
        $LASTEXITCODE | Should -Be 1
    }

    It 'completes container and template names' {
        (TabExpansion2 'Start-VzContainer ct' 20).CompletionMatches.CompletionText | Should -Contain 'ct1'
        (TabExpansion2 'New-VzContainer x -Template bu' 30).CompletionMatches.CompletionText | Should -Contain 'busybox'
    }

    It 'suspends (processes frozen) and resumes (running again)' {
        $s = Suspend-VzContainer ct1 -PassThru
        $s.State | Should -Be Suspended
        Get-CgroupFile $ct1 freezer freezer.state | Should -Be 'FROZEN'
        { Invoke-VzContainerCommand ct1 true -ErrorAction Stop } | Should -Throw -ErrorId 'VzContainerSuspended,Virtuozzo.Commands.InvokeVzContainerCommandCommand'
        $r = Resume-VzContainer ct1 -PassThru
        $r.State | Should -Be Running
        Get-CgroupFile $ct1 freezer freezer.state | Should -Be 'THAWED'
        (Invoke-VzContainerCommand ct1 true).ExitCode | Should -Be 0
    }

    It 'streams output lines and sets LASTEXITCODE with -Stream' {
        $lines = Invoke-VzContainerCommand ct1 -Shell 'echo one; echo two; exit 3' -Stream
        $lines | Should -Be @('one', 'two')
        $LASTEXITCODE | Should -Be 3
    }

    It 'passes arguments as separate strings, not through a shell' {
        (Invoke-VzContainerCommand ct1 echo -ArgumentList 'a  b', '$HOME;x').StdOut | Should -Be "a  b `$HOME;x`n"
    }

    It 'takes -ArgumentList by name, and a misspelt parameter is a binding error, not an argument' {
        (Invoke-VzContainerCommand ct1 -Command uname -ArgumentList -r).StdOut.Trim() | Should -Be ((& uname -r) -join '')
        { Invoke-VzContainerCommand ct1 -Command uname -ArgumentLst -r -ErrorAction Stop } | Should -Throw -ErrorId 'NamedParameterNotFound,Virtuozzo.Commands.InvokeVzContainerCommandCommand'
    }

    It 'leaves a background process running after the command returns (vzctl exec semantics)' {
        $r = Invoke-VzContainerCommand ct1 -Shell 'nohup sleep 417 >/dev/null 2>&1 &'
        $r.ExitCode | Should -Be 0 -Because "nohup must exist in the container ($($r.StdErr))"
        # Output left open by the background process does not hold the command until its timeout (which would kill it).
        (Invoke-VzContainerCommand ct1 -Shell 'sleep 418 &' -Timeout 60).ExitCode | Should -Be 0
        Start-Sleep -Seconds 1
        $ps = (Invoke-VzContainerCommand ct1 ps).StdOut
        $ps | Should -Match 'sleep 417'
        $ps | Should -Match 'sleep 418'
        $null = Invoke-VzContainerCommand ct1 -Shell 'kill $(pidof sleep)'
    }

    It 'stops gracefully within the timeout and leaves no cgroup or veth' {
        $veth = 'vz' + $ct1.Id.ToString('N').Substring(0, 11)
        Test-Path "/sys/class/net/$veth" | Should -BeTrue
        $t = Measure-Command { $s = Stop-VzContainer ct1 -Timeout 20 -PassThru }
        $s.State | Should -Be Stopped
        $t.TotalSeconds | Should -BeLessThan 20
        $stat = Get-Content "/proc/$($ct1.InitPid)/stat" -ErrorAction SilentlyContinue
        if ($stat) { ($stat -replace '^.*\) (\S).*$', '$1') | Should -Be 'Z' -Because 'the init is gone, or a zombie until the host reaps it' }
        Test-CgroupExists $ct1 | Should -BeFalse
        Test-Path "/sys/class/net/$veth" | Should -BeFalse
    }

    It 'copies a stopped container with a new id, MAC and id range' {
        $c = Copy-VzContainer ct1 ct1b
        $c.Id | Should -Not -Be $ct1.Id
        $c.MacAddress | Should -Not -Be $ct1.MacAddress
        $c.UidBase | Should -Not -Be $ct1.UidBase
        $c.IpAddress | Should -BeNullOrEmpty
        $c.Hostname | Should -Be 'ct1b'
        (Get-Item (Join-Path $c.Path 'root/bin/busybox')).UnixStat.UserId | Should -Be $c.UidBase
        $s = Start-VzContainer ct1b -PassThru
        (Invoke-VzContainerCommand ct1b hostname).StdOut.Trim() | Should -Be 'ct1b'
        Stop-VzContainer ct1b -Kill
        Remove-VzContainer ct1b -Force
        Test-Path $c.Path | Should -BeFalse
    }

    It 'binds objects that came back deserialized (as over remoting) through Id and Name' {
        $file = Join-Path $env:VZ_ROOT 'ct1.clixml'
        Get-VzContainer ct1 | Export-Clixml $file
        $d = Import-Clixml $file
        $d.PSObject.TypeNames[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Containers.ContainerInfo'
        ($d | Set-VzContainer -Description 'from remoting' -PassThru).Description | Should -Be 'from remoting'
        Remove-Item $file
    }

    It 'renames, and the new name works everywhere' {
        Rename-VzContainer ct1 ct1-renamed
        { Get-VzContainer ct1 -ErrorAction Stop } | Should -Throw -ErrorId 'VzContainerNotFound,Virtuozzo.Commands.GetVzContainerCommand'
        (Get-VzContainer ct1-renamed).Id | Should -Be $ct1.Id
        Rename-VzContainer ct1-renamed ct1
    }

    It 'refuses to remove a running container without -Force; -Force kills it first and leaves nothing' {
        Start-VzContainer ct1
        { Remove-VzContainer ct1 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VzContainerRunning,Virtuozzo.Commands.RemoveVzContainerCommand'
        (Get-VzContainer ct1).State | Should -Be 'Running'
        Remove-VzContainer ct1 -Force
        Test-Path $ct1.Path | Should -BeFalse
        Test-CgroupExists $ct1 | Should -BeFalse
        Get-VzContainer | Should -BeNullOrEmpty
        Test-Path /run/netns | Out-Null
        @(Get-ChildItem /sys/class/net | Where-Object Name -like "vz$($ct1.Id.ToString('N').Substring(0, 6))*").Count | Should -Be 0
    }
}

Describe 'Two containers on one bridge' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:a = New-VzContainer neta -IpAddress 198.18.0.11/24 -Bridge $script:Bridge | Start-VzContainer -PassThru
        $script:b = New-VzContainer netb -IpAddress 198.18.0.12/24 -Bridge $script:Bridge | Start-VzContainer -PassThru
    }
    AfterAll {
        Get-VzContainer neta, netb -ErrorAction SilentlyContinue | Stop-VzContainer -Kill -PassThru | Remove-VzContainer -Force
    }

    It 'ping each other' {
        Assert-Ping neta 198.18.0.12
        Assert-Ping netb 198.18.0.11
    }

    It 'switch to host-routed and back live' {
        Set-VzContainer netb -NetworkMode Routed -IpAddress 198.18.2.7/32
        (& ip route show 198.18.2.7) | Should -Match ('vz' + $script:b.Id.ToString('N').Substring(0, 11))
        Assert-Ping netb 198.18.0.1
        Set-VzContainer netb -NetworkMode Bridged -IpAddress 198.18.0.12/24
        (& ip route show 198.18.2.7) | Should -BeNullOrEmpty
        Assert-Ping neta 198.18.0.12
    }

    It 'change addresses live' {
        Set-VzContainer netb -IpAddress 198.18.0.13/24
        Assert-Ping neta 198.18.0.13
        (Invoke-VzContainerCommand netb ip -ArgumentList -4, addr, show, eth0).StdOut | Should -Not -Match '198\.18\.0\.12/'
    }
}

Describe 'Host-routed addresses' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    It 'route a /32 to the container and answer it from the host side' {
        $r = New-VzContainer routed1 -IpAddress 198.18.1.5/32 -NetworkMode Routed | Start-VzContainer -PassThru
        try {
            $veth = 'vz' + $r.Id.ToString('N').Substring(0, 11)
            (& ip route show 198.18.1.5) | Should -Match $veth
            (Invoke-VzContainerCommand routed1 ip -ArgumentList -4, addr, show, eth0).StdOut | Should -Match '198\.18\.1\.5/32'
            # the bridge address is reachable through the host's routing and proxy ARP
            Assert-Ping routed1 198.18.0.1
        }
        finally { Stop-VzContainer routed1 -Kill; Remove-VzContainer routed1 -Force }
        (& ip route show 198.18.1.5) | Should -BeNullOrEmpty
    }
}

Describe 'Both runtimes pass the same lifecycle' -Tag Containers, Integration -Skip:(-not $IsRoot) -ForEach @(@{ Runtime = 'crun' }, @{ Runtime = 'runc' }) {
    BeforeAll { Set-VzHost -ContainerRuntime $Runtime -Confirm:$false }
    AfterAll { Set-VzHost -ContainerRuntime Auto -Confirm:$false }

    It '<Runtime>: create, start, exec, suspend, resume, stop, remove' {
        $name = "life-$Runtime"
        $c = New-VzContainer $name -MemorySize 64MB | Start-VzContainer -PassThru
        try {
            $c.State | Should -Be Running
            $c.Runtime | Should -Be $Runtime
            Get-CgroupFile $c memory memory.limit_in_bytes | Should -Be '67108864'
            (Invoke-VzContainerCommand $name hostname).StdOut.Trim() | Should -Be $name
            (Suspend-VzContainer $name -PassThru).State | Should -Be Suspended
            (Resume-VzContainer $name -PassThru).State | Should -Be Running
            (Stop-VzContainer $name -Timeout 20 -PassThru).State | Should -Be Stopped
            (Start-VzContainer $name -PassThru).State | Should -Be Running
            (Restart-VzContainer $name -PassThru).State | Should -Be Running
            Stop-VzContainer $name
        }
        finally {
            Get-VzContainer $name | Where-Object State -ne Stopped | Stop-VzContainer -Kill
            Remove-VzContainer $name -Force
        }
        Test-CgroupExists $c | Should -BeFalse
        Test-Path "$env:VZ_RUN_ROOT/oci/$Runtime/vz-$($c.Id.ToString('N'))" | Should -BeFalse
    }

    It '<Runtime>: a stop that outlasts -Timeout kills the init and says so' {
        $name = "slow-$Runtime"
        $c = New-VzContainer $name | Start-VzContainer -PassThru
        try {
            # busybox init's own shutdown takes about 2 s (TERM, wait, KILL), longer than the 1 s allowed here.
            $s = Stop-VzContainer $name -Timeout 1 -PassThru -WarningVariable w -WarningAction SilentlyContinue
            $s.State | Should -Be Stopped
            "$w" | Should -Match 'did not stop within 1 s'
            Test-CgroupExists $c | Should -BeFalse
        }
        finally { Remove-VzContainer $name -Force }
    }

    It '<Runtime>: a container whose init was killed outside the engine shows Stopped and starts again' {
        $name = "crash-$Runtime"
        $c = New-VzContainer $name | Start-VzContainer -PassThru
        try {
            & kill -9 $c.InitPid
            Start-Sleep -Milliseconds 200
            (Get-VzContainer $name).State | Should -Be Stopped
            (Start-VzContainer $name -PassThru).State | Should -Be Running
        }
        finally { Stop-VzContainer $name -Kill; Remove-VzContainer $name -Force }
    }
}

Describe 'Get-VzHost runtime trial' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    It 'reports that crun and runc can run a container here' {
        $h = Get-VzHost -Refresh
        foreach ($rt in 'crun', 'runc') {
            $info = $h.ContainerRuntimes | Where-Object Name -eq $rt
            $info.CanRun | Should -BeTrue -Because $info.Reason
        }
    }
}

Describe 'A start that fails' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    It 'is a typed error and leaves no cgroup, runtime state or run folder' {
        $c = New-VzContainer broken1
        try {
            Remove-Item (Join-Path $c.Path 'root/sbin/init') -Force
            { Start-VzContainer broken1 -ErrorAction Stop } | Should -Throw -ErrorId 'VzExternalToolFailed,Virtuozzo.Commands.StartVzContainerCommand'
            (Get-VzContainer broken1).State | Should -Be Stopped
            Test-CgroupExists $c | Should -BeFalse
            Test-Path (Join-Path $env:VZ_RUN_ROOT $c.Id.ToString('N').Substring(0, 12)) | Should -BeFalse
            @(Get-ChildItem (Join-Path $env:VZ_RUN_ROOT 'oci') -Recurse -Directory -Filter "vz-$($c.Id.ToString('N'))" -ErrorAction SilentlyContinue).Count | Should -Be 0
        }
        finally { Remove-VzContainer broken1 -Force }
    }
}

Describe 'A data root container root cannot reach' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    It 'is a typed error before anything is made' {
        $closed = Join-Path $env:VZ_ROOT 'closed'
        $null = New-Item -ItemType Directory $closed
        & chmod 700 $closed
        $old = $env:VZ_ROOT
        $env:VZ_ROOT = Join-Path $closed 'data'
        try {
            { New-VzContainer hidden1 -ErrorAction Stop } | Should -Throw -ErrorId 'VzDataRootNotTraversable,Virtuozzo.Commands.NewVzContainerCommand'
            Get-VzContainer | Should -BeNullOrEmpty
        }
        finally { $env:VZ_ROOT = $old; Remove-Item $closed -Recurse -Force }
    }
}

Describe 'Image layout (sparse XFS image, loop-mounted)' -Tag Containers, Integration -Skip:(-not $IsRoot) {
    AfterAll {
        Get-VzContainer img1, img2 -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill
        Get-VzContainer img1, img2 -ErrorAction SilentlyContinue | Remove-VzContainer -Force
    }

    It 'has a hard disk limit that grows online' {
        $c = New-VzContainer img1 -Layout Image -DiskSize 320MB | Start-VzContainer -PassThru
        $c.Layout | Should -Be Image
        $c.DiskSize | Should -Be 320MB
        (Get-Item (Join-Path $c.Path 'root.img')).Length | Should -Be 320MB
        $full = Invoke-VzContainerCommand img1 -Shell 'dd if=/dev/zero of=/big bs=1M count=400 2>&1; rm -f /big'
        $full.StdOut | Should -Match 'No space left' -Because "exit $($full.ExitCode), stderr: $($full.StdErr), state: $((Get-VzContainer img1).State)"
        $before = [long]((Invoke-VzContainerCommand img1 -Shell "df -k / | tail -n 1 | awk '{print `$2}'").StdOut.Trim())
        Set-VzContainer img1 -DiskSize 600MB
        $after = [long]((Invoke-VzContainerCommand img1 -Shell "df -k / | tail -n 1 | awk '{print `$2}'").StdOut.Trim())
        $after | Should -BeGreaterThan ($before + 200MB / 1KB)
        (Get-Content -Raw (Join-Path $c.Path 've.yaml')) | Should -Match 'diskSize: 629145600'
    }

    It 'refuses to shrink' {
        { Set-VzContainer img1 -DiskSize 320MB -ErrorAction Stop } | Should -Throw -ErrorId 'VzDiskShrinkUnsupported,Virtuozzo.Commands.SetVzContainerCommand'
    }

    It 'copies, and leaves no mount or loop device after stop and remove' {
        Stop-VzContainer img1 -Kill
        $src = Get-VzContainer img1
        (Get-Content /proc/self/mountinfo) -match [regex]::Escape($src.Path) | Should -BeNullOrEmpty
        $d = Copy-VzContainer img1 img2 | Start-VzContainer -PassThru
        (Invoke-VzContainerCommand img2 hostname).StdOut.Trim() | Should -Be 'img2'
        Stop-VzContainer img2 -Kill
        Remove-VzContainer img1, img2 -Force
        (Get-Content /proc/self/mountinfo) -match [regex]::Escape($env:VZ_ROOT) | Should -BeNullOrEmpty
        # @(): a single line of output (another process's loop device) would be a string, and -match on it a boolean.
        @(& losetup -a) -match [regex]::Escape($env:VZ_ROOT) | Should -BeNullOrEmpty
    }
}
