#Requires -Modules Pester
<#
  The debian-12 template: built with debootstrap from the host's configured Debian mirror (network to that mirror,
  about a minute, about 200 MB), then a container from it boots its own init (sysvinit).
#>
BeforeDiscovery { $script:IsRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module Virtuozzo -Force
    Import-Module (Join-Path $PSScriptRoot 'Harness/VzTestHarness.psm1') -Force
    $script:Scope = New-VzTestScope -Name containers-debian
}
AfterAll {
    Get-VzContainer -ErrorAction SilentlyContinue | Where-Object State -ne Stopped | Stop-VzContainer -Kill -ErrorAction SilentlyContinue
    Get-VzContainer -ErrorAction SilentlyContinue | Remove-VzContainer -Force -ErrorAction SilentlyContinue
    Remove-VzTestScope $script:Scope
}

Describe 'Debian 12 template' -Tag Containers, Integration, Slow -Skip:(-not $IsRoot) {
    It 'builds with debootstrap from the host mirror' {
        $t = New-VzTemplate debian-12
        $t.Kind | Should -Be Debian
        Test-Path (Join-Path $t.Path 'root/sbin/init') | Should -BeTrue
        (Get-Content (Join-Path $t.Path 'root/etc/debian_version')) | Should -Match '^12\.'
    }

    It 'boots its own init, runs commands and stops gracefully' {
        $c = New-VzContainer deb1 -Template debian-12 -MemorySize 256MB | Start-VzContainer -PassThru
        $c.State | Should -Be Running
        (Get-Content /proc/$($c.InitPid)/comm) | Should -Be 'init'
        (Invoke-VzContainerCommand deb1 cat /etc/debian_version).StdOut | Should -Match '^12\.'
        (Invoke-VzContainerCommand deb1 hostname).StdOut.Trim() | Should -Be 'deb1'
        $ps = (Invoke-VzContainerCommand deb1 ps -ArgumentList '-e', '-o', 'pid=,comm=').StdOut
        $ps | Should -Match '(?m)^\s*1 init$'
        # The default seccomp filter is on and its init booted under it; a nested user namespace is refused.
        (Invoke-VzContainerCommand deb1 cat /proc/self/status).StdOut | Should -Match '(?m)^Seccomp:\s+2$'
        (Get-Content "/proc/$($c.InitPid)/status" -Raw) | Should -Match '(?m)^Seccomp:\s+2$'
        (Invoke-VzContainerCommand deb1 unshare -ArgumentList '-U', 'true').StdErr | Should -Match 'Operation not permitted'
        $s = Stop-VzContainer deb1 -Timeout 60 -PassThru
        $s.State | Should -Be Stopped
        Remove-VzContainer deb1 -Force
        Remove-VzTemplate debian-12 -Force
    }
}
