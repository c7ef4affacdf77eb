<#
  The module on a machine that is not a virtualization host (a laptop that only wants the views for remote objects):
  importing it probes nothing, creates nothing, and formats deserialized objects with the module's views.
#>
BeforeAll {
    Import-Module Virtuozzo -Force
    $pwsh = if (Test-Path (Join-Path $PSHOME 'pwsh')) { Join-Path $PSHOME 'pwsh' } else { (Get-Command pwsh -CommandType Application)[0].Source }
    $base = Join-Path ([IO.Path]::GetTempPath()) "vz-module-test-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory $base
}

AfterAll {
    Remove-Item $base -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Import-Module Virtuozzo on a machine without QEMU, runtimes or a data root' -Tag Unit {
    It 'imports, changes nothing on disk, and shows remote HostInfo objects with the module views' {
        $xml = Join-Path $base 'host.clixml'
        Get-VzHost | Export-Clixml -Path $xml -Depth 2
        $dataRoot = Join-Path $base 'no-such-root'
        $script = @"
`$env:PATH = '/nonexistent'
`$env:VZ_ROOT = '$dataRoot'
`$env:VZ_RUN_ROOT = '$(Join-Path $base 'no-such-run')'
`$env:VZ_HOST_CONFIG = '$(Join-Path $base 'no-such-host.yaml')'
Import-Module Virtuozzo -ErrorAction Stop
`$h = Import-Clixml '$xml'
`$h.PSObject.TypeNames[0]
`$h | Format-List | Out-String -Width 200
(Get-Help about_Virtuozzo_Memory | Out-String).Length
"@
        $out = & $pwsh -NoProfile -NonInteractive -Command $script 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $out[0] | Should -Be 'Deserialized.Virtuozzo.Engine.Host.HostInfo'
        ($out -join "`n") | Should -Match 'Accelerator\s+:\s+(KVM|TCG|none)'
        ($out -join "`n") | Should -Match 'Memory\s+:\s+[\d.]+ GB total'
        [int]$out[-1] | Should -BeGreaterThan 1000
        Test-Path $dataRoot | Should -BeFalse -Because 'importing the module creates no data root'
        Test-Path (Join-Path $base 'no-such-run') | Should -BeFalse -Because 'importing the module probes nothing'
    }
}

Describe 'State colours' -Tag Unit {
    BeforeAll { Import-Module Virtuozzo -Force }

    It 'colours a VE state only where the host renders colour' {
        $vm = [pscustomobject]@{ PSTypeName = 'Deserialized.Virtuozzo.Engine.Qemu.VmInfo'; Name = 'v1'; State = 'Running'; CpuCount = 1; MemorySize = 64MB }
        $ct = [pscustomobject]@{ PSTypeName = 'Deserialized.Virtuozzo.Engine.Containers.ContainerInfo'; Name = 'c1'; State = 'Corrupt'; MemorySize = 64MB }
        $saved = $PSStyle.OutputRendering
        try {
            $PSStyle.OutputRendering = 'PlainText'
            ($vm | Format-Table | Out-String) | Should -Not -Match "`e\["
            ($vm | Format-Table | Out-String) | Should -Match 'v1\s+Running'
            $PSStyle.OutputRendering = 'Ansi'
            $vmText = $vm | Format-Table | Out-String
            $ctText = $ct | Format-Table | Out-String
            if ($Host.UI.SupportsVirtualTerminal) {
                $vmText | Should -Match ([regex]::Escape($PSStyle.Foreground.Green + 'Running'))
                $ctText | Should -Match ([regex]::Escape($PSStyle.Foreground.Red + 'Corrupt'))
            }
            else {
                $vmText | Should -Not -Match ([regex]::Escape($PSStyle.Foreground.Green))
            }
        }
        finally { $PSStyle.OutputRendering = $saved }
    }
}

Describe 'Unit aliases' -Tag Unit {
    BeforeAll { Import-Module Virtuozzo -Force }

    It 'offers MemoryMB and SizeGB on containers, VMs and disks, also as they come back over remoting' {
        ([pscustomobject]@{ PSTypeName = 'Deserialized.Virtuozzo.Engine.Containers.ContainerInfo'; Name = 'c'; MemorySize = 256MB }).MemoryMB | Should -Be 256
        ([pscustomobject]@{ PSTypeName = 'Deserialized.Virtuozzo.Engine.Qemu.VmInfo'; Name = 'v'; MemorySize = 2GB }).MemoryMB | Should -Be 2048
        $disk = [pscustomobject]@{ PSTypeName = 'Deserialized.Virtuozzo.Engine.Disks.DiskInfo'; Path = '/x.qcow2'; VirtualSize = 20GB; FileSize = 512MB; AllocatedSize = 1GB }
        $disk.SizeGB | Should -Be 20
        $disk.FileSizeGB | Should -Be 0.5
        $disk.AllocatedGB | Should -Be 1
    }
}
