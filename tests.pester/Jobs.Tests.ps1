# -AsJob on the long operations: the job's output is the same objects the cmdlet writes, and its state says how it went.
BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    function Receive-Finished($Job) {
        $null = $Job | Wait-Job -Timeout 120
        $Job.State | Should -Be 'Completed' -Because (($Job.ChildJobs + $Job | ForEach-Object { $_.Error }) -join '; ')
        $Job | Receive-Job -Wait -AutoRemoveJob
    }
}

Describe '-AsJob on long operations' -Tag Integration, Jobs {
    BeforeAll {
        $script:scope = New-VzTestScope -Name jobs
        $null = New-VzContainer job-src -Template busybox -MemorySize 64MB
        $null = New-VzVm job-vm -MemorySize 64MB -DiskSize 8MB
    }
    AfterAll {
        Get-VzContainer | Remove-VzContainer -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-VzVm | Remove-VzVm -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-VzTestScope $script:scope
    }

    It 'Copy-VzContainer -AsJob returns a job whose output is the copy' {
        $job = Copy-VzContainer job-src job-copy -AsJob
        $job | Should -BeOfType [Management.Automation.Job]
        $job.PSJobTypeName | Should -Be 'VzJob'
        $copy = Receive-Finished $job
        $copy | Should -BeOfType [Virtuozzo.Engine.Containers.ContainerInfo]
        $copy.Name | Should -Be 'job-copy'
        (Get-VzContainer job-copy).Id | Should -Be $copy.Id
    }

    It 'Copy-VzVm -AsJob -Linked and Start-VzVm -AsJob -PassThru return VM objects' {
        $clone = Receive-Finished (Copy-VzVm job-vm job-clone -Linked -AsJob)
        $clone | Should -BeOfType [Virtuozzo.Engine.Qemu.VmInfo]
        $started = Receive-Finished (Start-VzVm job-clone -AsJob -PassThru)
        $started.State | Should -Be 'Running'
        Stop-VzVm job-clone -Kill
    }

    It 'Copy-VzVm -AsJob carries progress records with a percentage, the last one completed' {
        $job = Copy-VzVm job-vm job-full -AsJob
        $null = $job | Wait-Job -Timeout 120
        $records = @($job.Progress)
        $null = Receive-Finished $job
        $records.Count | Should -BeGreaterThan 1
        $records.Activity | Select-Object -Unique | Should -Be "Copying VM 'job-vm' to 'job-full'"
        $records | Where-Object PercentComplete -lt 0 | Should -BeNullOrEmpty -Because 'every record has a percentage'
        $records[-1].RecordType | Should -Be 'Completed'
        $records[-1].PercentComplete | Should -Be 100
    }

    It 'Optimize-VzDisk -AsJob -PassThru returns the compacted disk, and a failure keeps its error id' {
        $path = ((Get-VzVm job-vm).Disks | Select-Object -First 1).Path
        $disk = Receive-Finished (Optimize-VzDisk -Confirm:$false $path -AsJob -PassThru)
        $disk | Should -BeOfType [Virtuozzo.Engine.Disks.DiskInfo]
        $disk.Path | Should -Be $path

        $taken = Join-Path $script:scope.Base 'taken.raw'
        Set-Content $taken 'already here'
        $job = Convert-VzDisk -Confirm:$false $path -Format raw -DestinationPath $taken -AsJob
        $null = $job | Wait-Job -Timeout 60
        $job.State | Should -Be 'Failed'
        $err = @($job.Error)[0]
        $err.FullyQualifiedErrorId | Should -Be 'VzDiskAlreadyExists'
        Get-Content $taken | Should -Be 'already here'
        $job | Remove-Job
    }

    It 'New-VzTemplate -AsJob rebuilds a template' {
        $t = Receive-Finished (New-VzTemplate busybox -Force -AsJob)
        $t.Name | Should -Be 'busybox'
    }
}
