# The VE store under real concurrency: separate pwsh processes racing on one data root.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1')
    $script:scope = New-VzTestScope -Name store
    $script:moduleDir = (Get-Module -ListAvailable Virtuozzo | Select-Object -First 1).ModuleBase
    $script:worker = Join-Path $PSScriptRoot 'Helpers/StoreWorker.ps1'
    $script:pwsh = Get-VzPwshPath

    function Start-Worker([string[]] $Arguments) {
        $psi = [Diagnostics.ProcessStartInfo]::new($script:pwsh)
        foreach ($a in @('-NoProfile', '-NoLogo', '-File', $script:worker, '-ModuleDir', $script:moduleDir) + $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        [Diagnostics.Process]::Start($psi)
    }
    function Wait-Worker($Process) {
        $out = $Process.StandardOutput.ReadToEnd()
        $Process.WaitForExit()
        ($out -split "`n" | Where-Object { $_.Trim() } | Select-Object -Last 1).Trim()
    }
    function Get-Store {
        [Virtuozzo.Engine.Store.VeStore]::new([Virtuozzo.Engine.Configuration.VzPaths]::Resolve($null),
            [Microsoft.Extensions.Logging.Abstractions.NullLogger[Virtuozzo.Engine.Store.VeStore]]::Instance)
    }
    Add-Type -Path (Join-Path $script:moduleDir 'Virtuozzo.Engine.dll')
    Add-Type -Path (Join-Path $script:moduleDir 'Microsoft.Extensions.Logging.Abstractions.dll')
}
AfterAll { Remove-VzTestScope $script:scope }

Describe 'VE store across processes' -Tag Integration, Store {
    It 'lets exactly one of two processes create a VE with one name at the same moment' {
        foreach ($round in 1..3) {
            $start = Join-Path $script:scope.Base "start-$round"
            $a = Start-Worker @('-Action', 'Create', '-Name', "race$round", '-StartFile', $start)
            $b = Start-Worker @('-Action', 'Create', '-Name', "race$round", '-StartFile', $start)
            Start-Sleep -Milliseconds 1500   # both processes are up and polling for the start signal
            $null = New-Item -ItemType File $start
            $results = @(Wait-Worker $a; Wait-Worker $b) | Sort-Object
            $results | Should -Be @('OK', 'VzAlreadyExistsException VzVeNameInUse')
            @((Get-Store).List() | Where-Object { $_.Config.Name -eq "race$round" }).Count | Should -Be 1
        }
    }

    It 'loses no update when 8 processes each change a different field 50 times' {
        $start = Join-Path $script:scope.Base 'start-update'
        (Wait-Worker (Start-Worker @('-Action', 'Create', '-Name', 'busy'))) | Should -Be 'OK'
        $fields = 'MemorySize', 'SwapSize', 'Guarantee', 'CpuCount', 'CpuUnits', 'CpuLimit', 'Description', 'CpuMask'
        $workers = foreach ($f in $fields) { Start-Worker @('-Action', 'Increment', '-Name', 'busy', '-Field', $f, '-Count', '50', '-StartFile', $start) }
        Start-Sleep -Milliseconds 1500
        $null = New-Item -ItemType File $start
        $workers | ForEach-Object { Wait-Worker $_ } | Should -Be (@('OK') * 8)
        $c = [Virtuozzo.Engine.Store.VeConfigFile]::Read((Get-Store).TryFind('busy').Directory + '/ve.yaml')
        $c.Memory.MemorySize | Should -Be 50
        $c.Memory.SwapSize | Should -Be 50
        $c.Memory.GuaranteePercent | Should -Be 50
        $c.Cpu.Count | Should -Be 50
        $c.Cpu.Units | Should -Be 1050
        $c.Cpu.LimitPercent | Should -Be 50
        $c.Description | Should -Be '50'
        $c.Cpu.Mask | Should -Be '50'
    }
}

Describe 'The store through the cmdlets' -Tag Integration, Store {
    BeforeAll {
        Import-Module Virtuozzo -Force
        Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestRecords.psm1') -Force
        $script:cmdScope = New-VzTestScope -Name storecmd
    }
    AfterAll {
        Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:cmdScope
    }

    It 'lets one of two New-VzContainer processes win a name; the other gets ResourceExists and nothing is left of it' {
        $start = Join-Path $script:cmdScope.Base 'start-cmd'
        $script = {
            param($module, $start)
            Import-Module $module
            while (-not (Test-Path $start)) { Start-Sleep -Milliseconds 5 }
            try { $null = New-VzContainer samename -Template busybox -MemorySize 64MB -ErrorAction Stop; 'OK' }
            catch { "$($_.CategoryInfo.Category) $($_.FullyQualifiedErrorId)" }
        }
        $module = (Get-Module Virtuozzo).Path
        $jobs = 1..2 | ForEach-Object { Start-Job -ScriptBlock $script -ArgumentList $module, $start }   # separate processes
        Start-Sleep -Milliseconds 2500
        $null = New-Item -ItemType File $start
        $results = $jobs | Wait-Job -Timeout 120 | Receive-Job
        $jobs | Remove-Job -Force
        ($results | Sort-Object) | Should -Be @('OK', 'ResourceExists VzVeNameInUse,Virtuozzo.Commands.NewVzContainerCommand')
        @(Get-VzContainer samename).Count | Should -Be 1
        @(Get-ChildItem (Join-Path $env:VZ_ROOT 'private') -Directory).Count | Should -Be 1 -Because 'the loser made no folder'
    }

    It 'reports a hand-broken ve.yaml as an error naming the file and line, and still lists the others' {
        $good, $bad = New-VzTestVeRecord fine01, broken01
        $path = Join-Path $bad.Directory 've.yaml'
        Set-Content $path "schemaVersion: 1`nid: $($bad.Id)`nname: broken01`ntype: Container`nmemory: [unclosed`n"
        $err = $null
        $listed = @(Get-VzContainer -ErrorVariable err -ErrorAction SilentlyContinue)
        $listed.Name | Should -Contain 'fine01'
        $listed.Name | Should -Not -Contain 'broken01'
        $e = @($err | Where-Object { $_.FullyQualifiedErrorId -like 'VzConfigCorrupt,*' })[0]
        $e.FullyQualifiedErrorId | Should -Be 'VzConfigCorrupt,Virtuozzo.Commands.GetVzContainerCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidData'
        $e.TargetObject | Should -Be $path
        $e.Exception.Message | Should -Match ([regex]::Escape($path) + '.* at line \d+')
        # It can still be removed by id.
        Remove-VzContainer -Id $bad.Id -Force
        Test-Path $bad.Directory | Should -BeFalse
    }
}
