#Requires -Modules Pester
<#
  Guest tools: a running VM's network and host name set through the guest agent and read back; container addresses
  changed live; user passwords with quotes, backslashes, line breaks and non-ASCII set in a busybox and a debian-12
  container and checked against /etc/shadow's hash; a Windows SID change answered NotSupported naming the guest OS.
  Addresses are from 198.19.60.0/24-198.19.62.0/24 and stay inside the VM or on a bridge this run owns.
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:Scope = New-VzTestScope -Name guesttools

    # glibc's crypt() of the password with the salt of the stored hash (perl's crypt; the password goes to perl on
    # stdin, so line breaks and quotes survive): what /etc/shadow must hold.
    function script:Get-ExpectedHash([string] $Plain, [string] $Hash) {
        $salt = ($Hash -split '\$')[2]
        $Plain | & perl -e 'binmode STDIN; local $/; my $p = <STDIN>; $p =~ s/\n\z//; print crypt($p, "\$6\$" . $ARGV[0] . "\$")' $salt
    }
    function script:Get-ShadowHash([string] $Container, [string] $User) {
        $line = ((Invoke-VzContainerCommand $Container cat /etc/shadow).StdOut -split "`n") | Where-Object { $_ -like "${User}:*" }
        ($line -split ':')[1]
    }
}
AfterAll {
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Stop-VzVm -Kill -ErrorAction SilentlyContinue
    Get-VzVm -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'Guest tools cmdlets without a guest' -Tag Unit {
    It 'checks guest network input before touching the VM, with typed errors' {
        $null = New-VzVm gtvm0 -MemorySize 128MB
        $err = $null
        try { Set-VzVmGuestNetwork gtvm0 -InterfaceName eth0 -IPAddress 198.19.60.10/24 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzVmNotRunning,Virtuozzo.Commands.SetVzVmGuestNetworkCommand'
        $err = $null
        try { Set-VzContainerUserPassword nosuchct -UserName root -Password (ConvertTo-SecureString 'x' -AsPlainText -Force) -ErrorAction Stop } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Remove-VzVm gtvm0 -Force -Confirm:$false
    }
}

Describe 'A VM''s network and host name through the guest agent' -Tag Integration, Slow, Vms -Skip:(-not $IsRoot) {
    BeforeAll {
        $guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        # i440fx (pc): its DVD drive is on the PIIX IDE controller, which the test guest's cloud kernel drives
        # (ata_piix); the kernel has no AHCI driver for q35's SATA.
        $null = New-VzVm gtvm1 -Machine pc -MemorySize 256MB -CpuCount 1 -Network User `
            -KernelPath $guest.KernelPath -InitrdPath $guest.InitrdPath -KernelArguments $guest.KernelArguments
        $null = Add-VzVmDvdDrive gtvm1   # an empty drive: the DVD tests put media in while the VM runs
        $script:vm = Start-VzVm gtvm1 -Wait -Timeout 300 -PassThru
        # What QEMU's user network handed out at boot (its DHCP server): what -Dhcp must bring back.
        $script:BootAddress = @((Get-VzVmGuestNetwork gtvm1 -Timeout 120 | Where-Object Name -eq eth0).IPAddresses | Where-Object { $_ -match '^\d+\.' })[0]
    }
    # gtvm1 stays up for the DVD tests below; they remove it.

    It 'sets a static address, gateway, DNS server and host name, and reads them back' {
        $nics = Set-VzVmGuestNetwork gtvm1 -InterfaceName eth0 -IPAddress 198.19.60.10/24 -Gateway 198.19.60.1 -Nameserver 198.19.60.53, 198.19.61.53 `
            -HostName gt60.example.test -Timeout 120 -PassThru
        $eth0 = $nics | Where-Object Name -eq eth0
        @($eth0.IPAddresses | Where-Object { $_ -like '198.*' -or $_ -like '10.*' }) | Should -Be @('198.19.60.10/24')
        $read = Get-VzVmGuestNetwork gtvm1 -Timeout 120 | Where-Object Name -eq eth0
        $read.Gateway | Should -Be '198.19.60.1'
        $read.Nameserver | Should -Be @('198.19.60.53', '198.19.61.53')
        (Get-VzVmGuestInfo gtvm1 -Timeout 120).HostName | Should -Be 'gt60.example.test'
        (Invoke-VzVmCommand gtvm1 cat /etc/hostname -Timeout 120).StdOut.Trim() | Should -Be 'gt60.example.test'
    }

    It 'goes back to DHCP, getting the address QEMU''s user network handed out at boot' {
        $script:BootAddress | Should -Not -BeNullOrEmpty
        $script:BootAddress | Should -Not -Be '198.19.60.10/24'
        Set-VzVmGuestNetwork gtvm1 eth0 -Dhcp -Timeout 120
        $eth0 = Get-VzVmGuestNetwork gtvm1 -Timeout 120 | Where-Object Name -eq eth0
        $eth0.IPAddresses | Should -Contain $script:BootAddress
        $eth0.IPAddresses | Should -Not -Contain '198.19.60.10/24'
    }

    It 'refuses bad input with typed errors, and a step the guest fails with VzGuestNetworkFailed' {
        $err = $null
        try { Set-VzVmGuestNetwork gtvm1 -InterfaceName eth0 -IPAddress 198.19.60.11 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzInvalidIpAddress,Virtuozzo.Commands.SetVzVmGuestNetworkCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err = $null
        try { Set-VzVmGuestNetwork gtvm1 -InterfaceName eth0 -IPAddress 198.19.60.11/24 -Dhcp -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzConflictingGuestAddress,Virtuozzo.Commands.SetVzVmGuestNetworkCommand'
        $err = $null
        try { Set-VzVmGuestNetwork gtvm1 -InterfaceName eth9 -IPAddress 198.19.60.11/24 -Timeout 120 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzGuestNetworkFailed,Virtuozzo.Commands.SetVzVmGuestNetworkCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.Exception.Message | Should -Match 'eth9'
    }

    It 'attaches the serial console in a real terminal (tmux): a command runs, a second client is refused, Ctrl+] leaves' -Skip:(-not (Get-Command tmux -ErrorAction SilentlyContinue)) {
        # A tmux server of this run's own (-L), started from this process, so the pane's pwsh sees this run's data root.
        $sock = "vzt-$($env:VZ_TEST_RUN)-console"
        $script = Join-Path $script:Scope.Base 'enter-console.ps1'
        $module = (Get-Module Virtuozzo).Path
        Set-Content -Path $script -Value @"
`$env:VZ_ROOT = '$env:VZ_ROOT'; `$env:VZ_RUN_ROOT = '$env:VZ_RUN_ROOT'; `$env:VZ_HOST_CONFIG = '$env:VZ_HOST_CONFIG'; `$env:VZ_CGROUP_PARENT = '$env:VZ_CGROUP_PARENT'
Import-Module '$module'
Enter-VzVm gtvm1
Write-Host 'back-at-pwsh'
Start-Sleep -Seconds 600
"@
        function Read-Pane { (& tmux -L $sock capture-pane -p -t console -S -200) -join "`n" }
        function Wait-Pane([string] $Pattern, [int] $Seconds = 120) {
            $end = (Get-Date).AddSeconds($Seconds)
            while ((Get-Date) -lt $end) { if ((Read-Pane) -match $Pattern) { return $true }; Start-Sleep -Milliseconds 500 }
            return $false
        }
        try {
            & tmux -L $sock new-session -d -s console -x 160 -y 40 "pwsh -NoProfile -File '$script'"
            Wait-Pane 'Connected to the serial console of .gtvm1.' | Should -BeTrue -Because (Read-Pane)
            & tmux -L $sock send-keys -t console Enter
            & tmux -L $sock send-keys -t console 'echo vz-$((6*7))-ok; uname -n' Enter
            Wait-Pane '(?m)^vz-42-ok' | Should -BeTrue -Because (Read-Pane)
            (Read-Pane) | Should -Match '(?m)^gt60\.example\.test'

            $err = $null
            try { Enter-VzVm gtvm1 -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzVmConsoleBusy,Virtuozzo.Commands.EnterVzVmCommand'
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'

            & tmux -L $sock send-keys -t console 'C-]'
            Wait-Pane 'back-at-pwsh' | Should -BeTrue -Because (Read-Pane)
            (Read-Pane) | Should -Match "Detached from the serial console of 'gtvm1'"
            # The guest runs on, and its console output also went to console.log.
            (Get-VzVm gtvm1).State | Should -Be 'Running'
            (Get-Content -Raw (Join-Path (Get-VzVm gtvm1).Directory 'console.log')) | Should -Match 'vz-42-ok'
        }
        finally {
            & tmux -L $sock kill-server 2>$null
            # kill-server leaves its socket file behind.
            Remove-Item (Join-Path $(if ($env:TMUX_TMPDIR) { $env:TMUX_TMPDIR } else { '/tmp' }) "tmux-$(id -u)/$sock") -ErrorAction SilentlyContinue
        }
    }

    It 'answers a Windows SID change with NotSupported naming the guest OS, changing nothing' {
        $err = $null
        try { Set-VzVm gtvm1 -ChangeSid -CpuUnits 555 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzChangeSidNotSupported,Virtuozzo.Commands.SetVzVmCommand'
        $err.CategoryInfo.Category | Should -Be 'NotImplemented'
        $err.Exception.Message | Should -Match 'runs Linux \d|runs .*Linux'
        $err.Exception.Message | Should -Match 'only on Windows'
        (Get-VzVm gtvm1).CpuUnits | Should -Be 1000
    }
}

Describe 'DVD media changed on a running VM' -Tag Integration, Slow, Vms -Skip:(-not $IsRoot) {
    AfterAll { Get-VzVm gtvm1 -ErrorAction SilentlyContinue | Stop-VzVm -Kill -PassThru -ErrorAction SilentlyContinue | Remove-VzVm -Force -Confirm:$false }
    BeforeAll {
        # Two small ISO images made here, each with a file that says which disc it is.
        foreach ($d in 'A', 'B') {
            $src = Join-Path $script:Scope.Base "disc$d"
            $null = New-Item -ItemType Directory -Path $src -Force
            Set-Content -Path (Join-Path $src 'hello.txt') -Value "from disc $d"
            & xorriso -as mkisofs -quiet -V "VZDISC$d" -o (Join-Path $script:Scope.Base "disc$d.iso") $src 2>&1 | Out-Null
            $LASTEXITCODE | Should -Be 0
        }
        # The guest's CD-ROM stack (IDE, sr, iso9660) is loaded on demand; then /dev/sr0 appears.
        $load = 'while read -r m; do insmod /lib/modules/$m.ko 2>/dev/null; done < /etc/modules.cdrom; i=0; while [ ! -b /dev/sr0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; ls -l /dev/sr0'
        $script:Loaded = Invoke-VzVmCommand gtvm1 sh -ArgumentList '-c', $load -Timeout 180
        function script:Read-Disc {
            # The guest notices a new disc when the drive is next opened; a mount right after the change may still see
            # the old (or no) medium, as on real hardware: a few tries a second apart.
            $read = 'i=0; until mount -t iso9660 -o ro /dev/sr0 /mnt 2>/tmp/mount.err; do i=$((i+1)); [ $i -ge 8 ] && { cat /tmp/mount.err >&2; exit 1; }; sleep 1; done; cat /mnt/hello.txt; r=$?; umount /mnt; exit $r'
            Invoke-VzVmCommand gtvm1 sh -ArgumentList '-c', $read -Timeout 180
        }
    }

    It 'shows the empty drive and the guest''s CD-ROM device' {
        $script:Loaded.ExitCode | Should -Be 0 -Because $script:Loaded.StdErr
        (Get-VzVm gtvm1).DvdDrives.Count | Should -Be 1
        (Get-VzVm gtvm1).DvdDrives[0].IsoPath | Should -BeNullOrEmpty
    }

    It 'inserts an ISO into the running VM, and the guest mounts it and reads its file' {
        $vm = Set-VzVmDvdDrive gtvm1 -Path (Join-Path $script:Scope.Base 'discA.iso') -PassThru
        $vm.DvdDrives[0].IsoPath | Should -Be (Join-Path $script:Scope.Base 'discA.iso')
        $r = Read-Disc
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut.Trim() | Should -Be 'from disc A'
    }

    It 'swaps the disc while the VM runs, and the guest reads the new one' {
        Set-VzVmDvdDrive gtvm1 -DriveId cd0 -Path (Join-Path $script:Scope.Base 'discB.iso')
        (Read-Disc).StdOut.Trim() | Should -Be 'from disc B'
    }

    It 'ejects: the guest finds no medium, and the drive shows empty' {
        Set-VzVmDvdDrive gtvm1 -Eject
        $r = Read-Disc
        $r.ExitCode | Should -Not -Be 0
        (Get-VzVm gtvm1).DvdDrives[0].IsoPath | Should -BeNullOrEmpty
    }

    It 'refuses a path that is not an ISO image or an optical drive, changing nothing' {
        $disk = Join-Path $script:Scope.Base 'notiso.qcow2'
        $null = New-VzDisk $disk -Size 16MB
        Set-VzVmDvdDrive gtvm1 -Path (Join-Path $script:Scope.Base 'discA.iso')
        foreach ($bad in $disk, (Join-Path $script:Scope.Base 'discA'), '/dev/null') {
            $err = $null
            try { Set-VzVmDvdDrive gtvm1 -Path $bad -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'VzDiskPathRefused,Virtuozzo.Commands.SetVzVmDvdDriveCommand'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
        $err.Exception.Message | Should -Match 'character device'
        (Get-VzVm gtvm1).DvdDrives[0].IsoPath | Should -Be (Join-Path $script:Scope.Base 'discA.iso')
        (Read-Disc).StdOut.Trim() | Should -Be 'from disc A'
        $err = $null
        try { Set-VzVmDvdDrive gtvm1 -DriveId cd7 -Eject -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzVmDvdDriveNotFound,Virtuozzo.Commands.SetVzVmDvdDriveCommand'
    }

    It 'passes a host optical drive through where the host has one' -Skip:(-not (Test-Path /dev/sr0)) {
        Set-VzVmDvdDrive gtvm1 -Path /dev/sr0
        (Get-VzVm gtvm1).DvdDrives[0].IsoPath | Should -Be '/dev/sr0'
        Set-VzVmDvdDrive gtvm1 -Eject
    }
}

Describe 'Container addresses live, and user passwords in containers' -Tag Integration, Slow, Containers -Skip:(-not $IsRoot) {
    BeforeAll {
        $script:Bridge = Get-VzTestLinkName 60
        & ip link add name $script:Bridge type bridge
        & ip addr add 198.19.61.1/24 dev $script:Bridge
        & ip link set $script:Bridge up
        $script:ct = New-VzContainer gtct1 -Template busybox -MemorySize 64MB -IpAddress 198.19.61.2/24 -Bridge $script:Bridge | Start-VzContainer -PassThru
        # Every hard character at once: double and single quotes, a backslash, a line break, spaces, non-ASCII.
        $script:Hard = "a `"quoted`" 'pass' \back\slash`nsecond line ü€ 密码"
    }
    AfterAll {
        Get-VzContainer gtct1, gtdeb1 -ErrorAction SilentlyContinue | Stop-VzContainer -Kill -PassThru -ErrorAction SilentlyContinue | Remove-VzContainer -Force
        & ip link del $script:Bridge 2>$null
    }

    It 'changes a running container''s addresses live' {
        (Invoke-VzContainerCommand gtct1 ip -ArgumentList 'addr', 'show', 'eth0').StdOut | Should -Match 'inet 198\.19\.61\.2/24'
        Set-VzContainer gtct1 -IpAddress 198.19.61.3/24, 198.19.62.3/24
        $addr = (Invoke-VzContainerCommand gtct1 ip -ArgumentList 'addr', 'show', 'eth0').StdOut
        $addr | Should -Match 'inet 198\.19\.61\.3/24'
        $addr | Should -Match 'inet 198\.19\.62\.3/24'
        $addr | Should -Not -Match '198\.19\.61\.2/'
        (Get-VzContainer gtct1).IpAddress | Should -Be @('198.19.61.3/24', '198.19.62.3/24')
        (Invoke-VzContainerCommand gtct1 ping -ArgumentList '-c', '1', '-W', '5', '198.19.61.1').ExitCode | Should -Be 0
    }

    It 'sets a password with quotes, backslashes, a line break and non-ASCII in a busybox container, never on a command line' {
        # Watch every process command line while the password is set: the plain text and its hash must appear in none.
        $seen = [Collections.Concurrent.ConcurrentBag[string]]::new()
        $watch = Start-ThreadJob -ArgumentList $seen {
            param($bag)
            $end = (Get-Date).AddSeconds(20)
            while ((Get-Date) -lt $end) {
                foreach ($f in Get-ChildItem /proc -Directory -Filter '[0-9]*' -ErrorAction SilentlyContinue) {
                    try { $bag.Add([IO.File]::ReadAllText("$($f.FullName)/cmdline")) } catch { }
                }
            }
        }
        $pw = ConvertTo-SecureString $script:Hard -AsPlainText -Force
        Set-VzContainerUserPassword gtct1 -UserName root -Password $pw -Verbose -Debug 4>&1 5>&1 | Out-String | Should -Not -Match 'quoted|second line'
        Stop-Job $watch; Remove-Job $watch -Force
        $hash = Get-ShadowHash gtct1 root
        $hash | Should -Match '^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$'
        $hash | Should -Be (Get-ExpectedHash $script:Hard $hash)
        $hash | Should -Not -Be (Get-ExpectedHash 'a "quoted"' $hash)
        ($seen | Where-Object { $_ -match 'quoted|chpasswd.*\$6\$' }) | Should -BeNullOrEmpty
    }

    It 'refuses a user the container lacks, and an empty password, changing nothing' {
        $before = Get-ShadowHash gtct1 root
        $err = $null
        try { Set-VzContainerUserPassword gtct1 -UserName nosuchuser -Password (ConvertTo-SecureString 'x' -AsPlainText -Force) -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzContainerUserNotFound,Virtuozzo.Commands.SetVzContainerUserPasswordCommand'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err = $null
        try { Set-VzContainerUserPassword gtct1 -UserName root -Password ([securestring]::new()) -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzEmptyPassword,Virtuozzo.Commands.SetVzContainerUserPasswordCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-ShadowHash gtct1 root | Should -Be $before
    }

    It 'sets the same hard password in a debian-12 container' {
        $null = New-VzTemplate debian-12
        $null = New-VzContainer gtdeb1 -Template debian-12 -MemorySize 256MB | Start-VzContainer -PassThru
        Set-VzContainerUserPassword gtdeb1 -UserName root -Password (ConvertTo-SecureString $script:Hard -AsPlainText -Force) -Timeout 120
        $hash = Get-ShadowHash gtdeb1 root
        $hash | Should -Match '^\$6\$'
        $hash | Should -Be (Get-ExpectedHash $script:Hard $hash)
        # An account made in the container, with the guest's own tools.
        (Invoke-VzContainerCommand gtdeb1 useradd -ArgumentList '-m', 'alice').ExitCode | Should -Be 0
        Set-VzContainerUserPassword gtdeb1 alice (ConvertTo-SecureString "o'neil `"x`" \n" -AsPlainText -Force)
        $alice = Get-ShadowHash gtdeb1 alice
        $alice | Should -Be (Get-ExpectedHash "o'neil `"x`" \n" $alice)
    }
}
