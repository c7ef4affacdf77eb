# Shared folders: the cmdlet contracts and every refusal without a running VE (Unit), and the acceptance runbook
# (Integration): one host folder read and written by a busybox container (bind mount, idmapped where possible) and
# by the TCG test guest (virtio-fs, then 9p), the virtiofsd watch and the gates virtio-fs puts on the VM.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    Import-Module Virtuozzo -Force
    $script:Root = if ($env:VZ_SOURCE_ROOT) { $env:VZ_SOURCE_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }

    function script:Get-ConfigHash([string] $Name) {
        $id = if (Get-VzVm $Name -ErrorAction SilentlyContinue) { (Get-VzVm $Name).Id } else { (Get-VzContainer $Name).Id }
        (Get-FileHash (Join-Path $env:VZ_ROOT "private/$id/ve.yaml")).Hash
    }
    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 30) {
        $end = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $end) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 100 }
        return [bool](& $Condition)
    }
    # The virtiofsd processes serving a folder of this scope (their command line names the scope's run folder).
    function script:Get-Virtiofsd([string] $Under) {
        [IO.DirectoryInfo]::new('/proc').GetDirectories() | Where-Object { $_.Name -match '^\d+$' } | Where-Object {
            $cmd = try { [IO.File]::ReadAllText("$($_.FullName)/cmdline") } catch { '' }
            $state = (Get-Content "$($_.FullName)/stat" -ErrorAction SilentlyContinue) -replace '^.*\) (\S).*$', '$1'
            $cmd.Contains('virtiofsd') -and $cmd.Contains($Under) -and $state -ne 'Z'
        } | ForEach-Object { [int]$_.Name }
    }
}

Describe 'Shared folder cmdlets without a running VE' -Tag Unit, SharedFolders {
    BeforeAll {
        $script:scope = New-VzTestScope -Name sfunit
        $script:share = Join-Path $script:scope.Base 'share'
        $null = New-Item -ItemType Directory $script:share
        $null = New-VzVm sfvm -MemorySize 256MB
    }
    AfterAll {
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'stores a VM share in ve.yaml and lists it: virtio-fs by default, 9p when read-only' {
        $s = Add-VzSharedFolder -VeName sfvm -Path $script:share -Name data -PassThru
        $s.VeName | Should -Be 'sfvm'
        $s.Path | Should -Be $script:share
        $s.Transport | Should -Be 'VirtioFs'
        $s.Active | Should -BeFalse
        $ro = Add-VzSharedFolder sfvm $script:share docs -ReadOnly -PassThru
        $ro.Transport | Should -Be 'NineP'
        $ro.RequestedTransport | Should -Be 'Auto'
        $yaml = Get-Content (Join-Path $env:VZ_ROOT "private/$((Get-VzVm sfvm).Id)/ve.yaml") -Raw
        $yaml | Should -Match 'sharedFolders:'
        $yaml | Should -Match "path: $([regex]::Escape($script:share))"
        @(Get-VzSharedFolder -VeName sfvm).Name | Should -Be @('data', 'docs')
        @(Get-VzSharedFolder -VeName sfvm -Name do*).Name | Should -Be @('docs')
        (Get-VzSharedFolder | Where-Object VeName -eq sfvm).Count | Should -Be 2
    }

    It 'removes a share by pipeline, and says when there is none' {
        Get-VzSharedFolder sfvm docs | Remove-VzSharedFolder -Confirm:$false
        @(Get-VzSharedFolder -VeName sfvm).Name | Should -Be @('data')
        { Remove-VzSharedFolder sfvm nosuch -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzSharedFolderNotFound,Virtuozzo.Commands.RemoveVzSharedFolderCommand'
        { Get-VzSharedFolder -VeName nosuchve -ErrorAction Stop } | Should -Throw -ErrorId 'VzVeNotFound,Virtuozzo.Commands.GetVzSharedFolderCommand'
    }

    It 'refuses bad input with a typed error and changes nothing' -ForEach @(
        @{ What = 'a path that does not exist'; Path = '/nonexistent/vz-share'; Name = 'x'; Id = 'VzSharedFolderPathNotFound'; Category = 'ObjectNotFound' }
        @{ What = 'a device'; Path = '/dev/null'; Name = 'x'; Id = 'VzSharedFolderPathNotDirectory'; Category = 'InvalidArgument' }
        @{ What = 'a .. trick'; Path = '<share>/../../../etc'; Name = 'x'; Id = 'VzSharedFolderPathTraversal'; Category = 'InvalidArgument' }
        @{ What = 'a relative .. trick'; Path = '../../etc'; Name = 'x'; Id = 'VzSharedFolderPathTraversal'; Category = 'InvalidArgument' }
        @{ What = 'a symlink'; Path = '<link>'; Name = 'x'; Id = 'VzSharedFolderPathSymlink'; Category = 'InvalidArgument' }
        @{ What = 'the host root'; Path = '/'; Name = 'x'; Id = 'VzSharedFolderPathReserved'; Category = 'InvalidArgument' }
        @{ What = 'a kernel tree'; Path = '/proc'; Name = 'x'; Id = 'VzSharedFolderPathReserved'; Category = 'InvalidArgument' }
        @{ What = 'the data root'; Path = '<root>'; Name = 'x'; Id = 'VzSharedFolderPathReserved'; Category = 'InvalidArgument' }
        @{ What = 'a name with shell characters'; Path = '<share>'; Name = 'a;rm -rf'; Id = 'VzSharedFolderNameInvalid'; Category = 'InvalidArgument' }
        @{ What = 'a name with a slash'; Path = '<share>'; Name = '../x'; Id = 'VzSharedFolderNameInvalid'; Category = 'InvalidArgument' }
        @{ What = 'a name too long for a mount tag'; Path = '<share>'; Name = ('n' * 32); Id = 'VzSharedFolderNameInvalid'; Category = 'InvalidArgument' }
        @{ What = 'a name clash'; Path = '<share>'; Name = 'DATA'; Id = 'VzSharedFolderExists'; Category = 'ResourceExists' }
    ) {
        $link = Join-Path $script:scope.Base 'link'
        if (-not (Test-Path $link)) { $null = New-Item -ItemType SymbolicLink -Path $link -Target $script:share }
        $p = $Path.Replace('<share>', $script:share).Replace('<link>', $link).Replace('<root>', $env:VZ_ROOT)
        $before = Get-ConfigHash sfvm
        $err = $null
        try { Add-VzSharedFolder -VeName sfvm -Path $p -Name $Name -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty -Because $What
        $err.FullyQualifiedErrorId | Should -Be "$Id,Virtuozzo.Commands.AddVzSharedFolderCommand"
        $err.CategoryInfo.Category | Should -Be $Category
        $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        Get-ConfigHash sfvm | Should -Be $before
    }

    It 'refuses what a VM cannot have: a guest path, a read-only virtio-fs share, a bind mount' {
        $before = Get-ConfigHash sfvm
        { Add-VzSharedFolder sfvm $script:share g -GuestPath /mnt/g -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzSharedFolderGuestPathVm,Virtuozzo.Commands.AddVzSharedFolderCommand'
        { Add-VzSharedFolder sfvm $script:share r -ReadOnly -Transport VirtioFs -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzSharedFolderReadOnlyVirtioFs,Virtuozzo.Commands.AddVzSharedFolderCommand'
        { Add-VzSharedFolder sfvm $script:share b -Transport Bind -ErrorAction Stop } |
            Should -Throw -ErrorId 'VzSharedFolderTransportInvalid,Virtuozzo.Commands.AddVzSharedFolderCommand'
        Get-ConfigHash sfvm | Should -Be $before
    }

    It 'keeps the shares of a VM with a saved state as they are' {
        # A saved state file (injected: the resume would need exactly the saved devices).
        $saved = Join-Path $env:VZ_ROOT "private/$((Get-VzVm sfvm).Id)/memory.sav"
        Set-Content $saved 'state'
        try {
            $before = Get-ConfigHash sfvm
            { Add-VzSharedFolder sfvm $script:share more -ErrorAction Stop } | Should -Throw -ErrorId 'VzSharedFolderVmSaved,Virtuozzo.Commands.AddVzSharedFolderCommand'
            { Remove-VzSharedFolder sfvm data -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VzSharedFolderVmSaved,Virtuozzo.Commands.RemoveVzSharedFolderCommand'
            Get-ConfigHash sfvm | Should -Be $before
        }
        finally { Remove-Item $saved }
    }

    It 'honours -WhatIf' {
        $before = Get-ConfigHash sfvm
        Add-VzSharedFolder sfvm $script:share whatif -WhatIf
        Get-ConfigHash sfvm | Should -Be $before
    }

    It 'carries the shares through Export-VzConfig and Import-VzConfig: round trip, create, and a bad folder refused' {
        Add-VzSharedFolder sfvm $script:share docs -ReadOnly
        $file = Join-Path $script:scope.Base 'sf.yaml'
        Export-VzConfig sfvm -Path $file
        $exported = Get-Content $file -Raw
        $exported | Should -Match 'sharedFolders:'
        # The file brings the shares back after they changed: removed ones come back, one not in the file goes.
        Get-VzSharedFolder sfvm | Remove-VzSharedFolder -Confirm:$false
        $extra = New-Item -ItemType Directory (Join-Path $script:scope.Base 'extra') -Force
        Add-VzSharedFolder sfvm $extra.FullName extra
        $r = Import-VzConfig $file
        $r.Action | Should -Be 'Update'
        ($r.Changes -join "`n") | Should -Match 'sharedFolders\.docs\.readOnly'
        ($r.Changes -join "`n") | Should -Match 'sharedFolders\.extra\.path'
        $now = Get-VzSharedFolder sfvm
        @($now.Name) | Should -Be @('data', 'docs')
        ($now | Where-Object Name -eq docs).ReadOnly | Should -BeTrue
        ($now | Where-Object Name -eq data).Path | Should -Be $script:share
        (Import-VzConfig $file).Action | Should -Be 'Unchanged'
        # A VE the file creates gets its shares too.
        $exported -replace 'name: sfvm', 'name: sfvm2' | Set-Content (Join-Path $script:scope.Base 'sf2.yaml')
        (Import-VzConfig (Join-Path $script:scope.Base 'sf2.yaml')).Action | Should -Be 'Create'
        @((Get-VzSharedFolder sfvm2).Name) | Should -Be @('data', 'docs')
        Remove-VzVm sfvm2 -Force -Confirm:$false
        # A folder that does not exist is refused before anything changes, naming the file and line.
        $bad = Join-Path $script:scope.Base 'bad.yaml'
        $exported.Replace("path: $($script:share)", 'path: /nonexistent/vz-share') | Set-Content $bad
        $before = Get-ConfigHash sfvm
        $err = $null
        try { Import-VzConfig $bad -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzConfigCorrupt,Virtuozzo.Commands.ImportVzConfigCommand'
        $err.Exception.Message | Should -Match 'sharedFolders: The folder ''/nonexistent/vz-share'' does not exist'
        Get-ConfigHash sfvm | Should -Be $before
        Remove-VzSharedFolder sfvm docs -Confirm:$false
    }

    It 'reads well as a table' {
        $text = Get-VzSharedFolder sfvm | Out-String -Width 250
        $text | Should -Match 'VirtioFs'
        $text | Should -Match 'tag: data'
    }
}

Describe 'A container and a VM sharing one host folder' -Tag Integration, Slow, SharedFolders {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root
        $script:scope = New-VzTestScope -Name sf
        $script:share = Join-Path $script:scope.Base 'shared'
        $null = New-Item -ItemType Directory $script:share
        Set-Content (Join-Path $script:share 'fromhost') 'written by the host'
        # Busybox container root is an unprivileged host uid: the folders above the share must let it pass.
        & chmod o+x $script:scope.Base

        $null = New-VzContainer sfct -Template busybox -MemorySize 128MB
        Add-VzSharedFolder sfct $script:share shared -GuestPath /srv/shared
        # Bad guest paths for a container are refused before anything is stored.
        $script:ctHash = Get-ConfigHash sfct
        $script:guestPathErrors = foreach ($g in 'relative/path', '/srv/../etc', '/proc/x', '/', '/srv/shared/below') {
            try { Add-VzSharedFolder sfct $script:share other -GuestPath $g -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }
        }
        $script:ctHashAfter = Get-ConfigHash sfct
        $null = Start-VzContainer sfct

        $null = New-VzVm sfvm -MemorySize 1GB -MemHotplug -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments
        Add-VzSharedFolder sfvm $script:share shared
        $script:vm = Start-VzVm sfvm -Wait -Timeout 180 -PassThru
        $script:mount = Invoke-VzVmCommand sfvm sh -ArgumentList '-c', 'mkdir -p /mnt/shared && mount -t virtiofs shared /mnt/shared && echo mounted' -Timeout 60
    }
    AfterAll {
        if ((Get-VzHostService).Running) { Stop-VzHostService -Timeout 120 -Confirm:$false -ErrorAction SilentlyContinue }
        Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Get-VzContainer | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'refused bad container guest paths with typed errors, changing nothing' {
        $script:guestPathErrors | Should -Be @(
            'VzSharedFolderGuestPathInvalid,Virtuozzo.Commands.AddVzSharedFolderCommand'
            'VzSharedFolderGuestPathInvalid,Virtuozzo.Commands.AddVzSharedFolderCommand'
            'VzSharedFolderGuestPathInvalid,Virtuozzo.Commands.AddVzSharedFolderCommand'
            'VzSharedFolderGuestPathInvalid,Virtuozzo.Commands.AddVzSharedFolderCommand'
            'VzSharedFolderGuestPathInUse,Virtuozzo.Commands.AddVzSharedFolderCommand')
        $script:ctHashAfter | Should -Be $script:ctHash
    }

    It 'gives the container a bind mount at its guest path, with host ownership kept (idmapped)' {
        (Invoke-VzContainerCommand sfct cat /srv/shared/fromhost).StdOut.Trim() | Should -Be 'written by the host'
        $r = Invoke-VzContainerCommand sfct -Shell 'echo written by the container > /srv/shared/fromct && ls -ln /srv/shared/fromhost'
        $r.ExitCode | Should -Be 0
        # Idmapped: a host root file is container root's inside, and what container root writes is host root's.
        ($r.StdOut -split '\s+')[2] | Should -Be '0'
        (& stat -c %u (Join-Path $script:share 'fromct')) | Should -Be '0'
        (Get-VzSharedFolder sfct shared).Active | Should -BeTrue
        (Get-VzSharedFolder sfct shared).Transport | Should -Be 'Bind'
    }

    It 'attaches a share to the running container at once (idmapped, read-only when asked) and detaches it live' {
        $live = Join-Path $script:scope.Base 'live'
        $null = New-Item -ItemType Directory $live
        Set-Content (Join-Path $live 'fromhost') 'live host file'
        $initPid = (Get-VzContainer sfct).InitPid
        $s = Add-VzSharedFolder sfct $live live -GuestPath /srv/live -PassThru -WarningVariable w
        "$w" | Should -BeNullOrEmpty -Because 'nothing waits for a restart'
        $s.Active | Should -BeTrue
        (Invoke-VzContainerCommand sfct cat /srv/live/fromhost).StdOut.Trim() | Should -Be 'live host file'
        $r = Invoke-VzContainerCommand sfct -Shell 'echo written live > /srv/live/fromct && ls -ln /srv/live/fromhost'
        $r.ExitCode | Should -Be 0
        ($r.StdOut -split '\s+')[2] | Should -Be '0' -Because 'a host root file is container root''s, as in a share mounted at start'
        (& stat -c %u (Join-Path $live 'fromct')) | Should -Be '0'
        $mount = Get-Content "/proc/$initPid/mountinfo" | Where-Object { ($_ -split ' ')[4] -eq '/srv/live' }
        $mount | Should -Match 'nosuid,nodev'
        $mount | Should -Match 'idmapped'
        # A guest path that is a file in the running container: a typed error, and the share is not stored.
        $before = Get-ConfigHash sfct
        $err = $null
        try { Add-VzSharedFolder sfct $live onfile -GuestPath /bin/busybox -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzSharedFolderGuestPathNotFolder,Virtuozzo.Commands.AddVzSharedFolderCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-ConfigHash sfct | Should -Be $before
        $ro = Add-VzSharedFolder sfct $live liro -GuestPath /srv/liro -ReadOnly -PassThru
        $ro.Active | Should -BeTrue
        (Invoke-VzContainerCommand sfct -Shell 'echo x > /srv/liro/nope').ExitCode | Should -Not -Be 0
        Test-Path (Join-Path $live 'nope') | Should -BeFalse
        Remove-VzSharedFolder sfct liro -Confirm:$false
        Remove-VzSharedFolder sfct live -Confirm:$false -WarningVariable w2
        "$w2" | Should -BeNullOrEmpty
        (Invoke-VzContainerCommand sfct -Shell 'test -e /srv/live/fromhost && echo still || echo gone').StdOut.Trim() | Should -Be 'gone'
        (Get-Content "/proc/$initPid/mountinfo") -match ' /srv/(live|liro) ' | Should -BeNullOrEmpty
        (Get-VzContainer sfct).InitPid | Should -Be $initPid -Because 'the container was not restarted'
        (Invoke-VzContainerCommand sfct cat /srv/shared/fromhost).StdOut.Trim() | Should -Be 'written by the host' -Because 'the share mounted at start stays'
    }

    It 'gives the VM a virtio-fs share its guest mounts by tag, served by one sandboxed virtiofsd' {
        $script:mount.StdOut.Trim() | Should -Be 'mounted'
        $s = Get-VzSharedFolder sfvm shared
        $s.Active | Should -BeTrue
        $s.Transport | Should -Be 'VirtioFs'
        $s.DaemonProcessId | Should -BeGreaterThan 0
        $cmd = (Get-Content "/proc/$($s.DaemonProcessId)/cmdline" -Raw) -replace "`0", ' '
        $cmd | Should -Match 'sandbox=namespace'
        $cmd | Should -Match "source=$([regex]::Escape($script:share))"
        $q = (Get-Content "/proc/$($script:vm.ProcessId)/cmdline" -Raw) -replace "`0", ' '
        $q | Should -Match 'memory-backend-memfd,id=ram0,size=1024M,share=on'
        $q | Should -Match 'vhost-user-fs-pci,id=fs-shared,chardev=vfs-shared,tag=shared'
    }

    It 'lets the container and the VM read and write the same host folder' {
        (Invoke-VzVmCommand sfvm cat /mnt/shared/fromhost).StdOut.Trim() | Should -Be 'written by the host'
        (Invoke-VzVmCommand sfvm cat /mnt/shared/fromct).StdOut.Trim() | Should -Be 'written by the container'
        (Invoke-VzVmCommand sfvm sh -ArgumentList '-c', 'echo written by the VM > /mnt/shared/fromvm && sync').ExitCode | Should -Be 0
        (Invoke-VzContainerCommand sfct cat /srv/shared/fromvm).StdOut.Trim() | Should -Be 'written by the VM'
        (Get-Content (Join-Path $script:share 'fromvm')).Trim() | Should -Be 'written by the VM'
        # Ownership agrees everywhere: the guest's root wrote as host root, as the container's root did.
        (& stat -c %u (Join-Path $script:share 'fromvm')) | Should -Be '0'
        (Invoke-VzVmCommand sfvm stat -ArgumentList '-c', '%u', '/mnt/shared/fromct').StdOut.Trim() | Should -Be '0'
    }

    It 'refuses memory hotplug and saving the state while virtio-fs is attached, with the reason' {
        $err = $null
        try { Set-VzVm sfvm -MemorySize 2GB -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'VzMemoryHotplugBlockedBySharedFolder,Virtuozzo.Commands.SetVzVmCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.Exception.Message | Should -Match 'unmigratable'
        (Get-VzVm sfvm).MemorySize | Should -Be 1GB
        { Suspend-VzVm sfvm -SaveState -ErrorAction Stop } | Should -Throw -ErrorId 'VzSaveStateBlockedBySharedFolder,Virtuozzo.Commands.SuspendVzVmCommand'
        (Get-VzVm sfvm).State | Should -Be 'Running'
    }

    It 'hot-adds a virtio-fs share to the running VM (its RAM is shared already), notices its daemon die within 2 s, and hot-removes it' {
        $later = Join-Path $script:scope.Base 'later'
        $null = New-Item -ItemType Directory $later
        Set-Content (Join-Path $later 'f') 'later file'
        $s = Add-VzSharedFolder sfvm $later later -PassThru -WarningVariable w
        "$w" | Should -BeNullOrEmpty
        $s.Active | Should -BeTrue
        $s.DaemonProcessId | Should -BeGreaterThan 0
        $r = Invoke-VzVmCommand sfvm sh -ArgumentList '-c', 'mkdir -p /mnt/later && mount -t virtiofs later /mnt/later && cat /mnt/later/f && echo from vm > /mnt/later/g && umount /mnt/later' -Timeout 90
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut.Trim() | Should -Be 'later file'
        (Get-Content (Join-Path $later 'g')).Trim() | Should -Be 'from vm'
        (& stat -c %u (Join-Path $later 'g')) | Should -Be '0'
        # The hot-added share's daemon is watched like one started with the VM.
        $watch = [Diagnostics.Stopwatch]::StartNew()
        & kill -9 $s.DaemonProcessId
        Wait-Until { (Get-VzVm sfvm).StateReason -match "shared folder 'later'" } -Seconds 2 | Should -BeTrue
        Write-Host "hot-added virtiofsd death seen on Get-VzVm after $($watch.ElapsedMilliseconds) ms"
        Remove-VzSharedFolder sfvm later -Confirm:$false -WarningVariable w2
        "$w2" | Should -BeNullOrEmpty
        (Get-VzSharedFolder sfvm).Name | Should -Not -Contain 'later'
        (Get-VzVm sfvm).StateReason | Should -BeNullOrEmpty
        @(Get-Virtiofsd $later).Count | Should -Be 0
    }

    It 'notices a virtiofsd that dies, on the VM state reason and in the host service journal' {
        $null = Start-VzHostService -Background -Confirm:$false
        $daemon = (Get-VzSharedFolder sfvm shared).DaemonProcessId
        (Get-VzVm sfvm).StateReason | Should -BeNullOrEmpty
        $killedAt = [datetimeoffset]::UtcNow
        $watch = [Diagnostics.Stopwatch]::StartNew()
        & kill -9 $daemon
        Wait-Until { (Get-VzVm sfvm).StateReason -match "virtio-fs daemon of shared folder 'shared'" } -Seconds 30 | Should -BeTrue
        Write-Host "virtiofsd death seen on Get-VzVm after $($watch.ElapsedMilliseconds) ms"
        (Get-VzVm sfvm).State | Should -Be 'Running'
        $events = Join-Path $env:VZ_RUN_ROOT 'hostservice/events.jsonl'
        $seen = { @(Get-Content $events -ErrorAction SilentlyContinue | ConvertFrom-Json | Where-Object { $_.kind -eq 'SharedFolderDaemonDied' -and $_.target -eq 'sfvm' }) }
        Wait-Until { (& $seen).Count -ge 1 } -Seconds 60 | Should -BeTrue
        Write-Host ("virtiofsd death journalled by the host service {0:N2} s after the kill" -f ([datetimeoffset](& $seen)[0].time - $killedAt).TotalSeconds)
        (& $seen)[0].message | Should -Match 'hangs until the VM is stopped'
        Stop-VzHostService -Timeout 120 -Confirm:$false
    }

    It 'keeps a share attached at start until the VM stops when q35 cannot unplug it, and leaves no virtiofsd behind' {
        # Attached at start, the device sits on q35's root bus, which has no hotplug: removing the share says so.
        Remove-VzSharedFolder sfvm shared -Confirm:$false -WarningVariable w -WarningAction SilentlyContinue
        "$w" | Should -Match 'stays attached until it stops: it was attached when the VM started, on the q35 PCIe root bus'
        Get-VzSharedFolder sfvm | Should -BeNullOrEmpty -Because 'the share is gone from the config'
        # Its device is still there: a new share of that name waits for the next start rather than pass for attached.
        Add-VzSharedFolder sfvm $script:share shared -WarningVariable w2 -WarningAction SilentlyContinue
        "$w2" | Should -Match "next start: the device of an earlier shared folder named 'shared' is still attached until the VM stops"
        Remove-VzSharedFolder sfvm shared -Confirm:$false -WarningAction SilentlyContinue
        $null = Stop-VzVm sfvm -Kill
        @(Get-Virtiofsd $script:scope.Base).Count | Should -Be 0
    }
}

Describe 'A VM on 9p (the generic-kernel test guest)' -Tag Integration, Slow, SharedFolders {
    BeforeAll {
        $script:guest = & (Join-Path $script:Root 'tools/testguest/Get-VzTestGuest.ps1') -Root $script:Root -Flavour Generic
        $script:scope = New-VzTestScope -Name sf9p
        $script:share = Join-Path $script:scope.Base 'ninep'
        $null = New-Item -ItemType Directory $script:share
        Set-Content (Join-Path $script:share 'fromhost') 'host file'
        $null = New-VzVm sf9p -MemorySize 512MB -KernelPath $script:guest.KernelPath -InitrdPath $script:guest.InitrdPath -KernelArguments $script:guest.KernelArguments
        Add-VzSharedFolder sf9p $script:share rw -Transport NineP
        Add-VzSharedFolder sf9p $script:share ro -ReadOnly
        $script:vm = Start-VzVm sf9p -Wait -Timeout 240 -PassThru
    }
    AfterAll {
        Get-VzVm | Stop-VzVm -Kill -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'mounts 9p shares by tag, writes through the writable one, and the read-only one refuses writes' {
        $q = (Get-Content "/proc/$($script:vm.ProcessId)/cmdline" -Raw) -replace "`0", ' '
        $q | Should -Not -Match 'memory-backend-memfd'
        $q | Should -Match 'virtio-9p-pci,id=fs-ro,fsdev=fsdev-ro,mount_tag=ro'
        $q | Should -Match 'readonly=on'
        @(Get-Virtiofsd $script:scope.Base).Count | Should -Be 0
        $r = Invoke-VzVmCommand sf9p sh -ArgumentList '-c', 'mkdir -p /mnt/rw /mnt/ro && mount -t 9p -o trans=virtio,version=9p2000.L rw /mnt/rw && mount -t 9p -o trans=virtio,version=9p2000.L ro /mnt/ro && cat /mnt/rw/fromhost && echo from guest > /mnt/rw/fromvm' -Timeout 60
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut.Trim() | Should -Be 'host file'
        (Get-Content (Join-Path $script:share 'fromvm')).Trim() | Should -Be 'from guest'
        (Invoke-VzVmCommand sf9p sh -ArgumentList '-c', 'echo x > /mnt/ro/nope').ExitCode | Should -Not -Be 0
        Test-Path (Join-Path $script:share 'nope') | Should -BeFalse
        @(Get-VzSharedFolder sf9p | Where-Object Active).Transport | Should -Be @('NineP', 'NineP')
    }

    It 'says why a share added to a running VM without shared RAM, or over 9p, waits for its next start' {
        $vfs = Join-Path $script:scope.Base 'vfs'
        $null = New-Item -ItemType Directory $vfs
        $s = Add-VzSharedFolder sf9p $vfs vfs -PassThru -WarningVariable w -WarningAction SilentlyContinue
        $s.Active | Should -BeFalse
        "$w" | Should -Match 'next start'
        "$w" | Should -Match 'RAM shared with its daemon from boot'
        (Get-VzSharedFolder sf9p vfs).Path | Should -Be $vfs -Because 'the share is stored for the next start'
        $n = Add-VzSharedFolder sf9p $vfs later9p -Transport NineP -PassThru -WarningVariable w9 -WarningAction SilentlyContinue
        $n.Active | Should -BeFalse
        "$w9" | Should -Match 'cannot add a 9p export to a running VM'
        @(Get-Virtiofsd $script:scope.Base).Count | Should -Be 0
        Remove-VzSharedFolder sf9p vfs -Confirm:$false
        Remove-VzSharedFolder sf9p later9p -Confirm:$false
    }
}
