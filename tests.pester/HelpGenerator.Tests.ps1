<#
  tools/New-VzMamlHelp.ps1 itself: it turns a help source into MAML that Get-Help reads, and it refuses a source that
  would produce wrong help, naming the file and line. It reads the metadata of the laid-out module under test.
#>
BeforeAll {
    $repo = Split-Path $PSScriptRoot
    $generator = Join-Path $repo 'tools/New-VzMamlHelp.ps1'
    $modulePath = (Get-Module Virtuozzo -ListAvailable | Select-Object -First 1).ModuleBase
    $good = Get-Content (Join-Path $repo 'Virtuozzo.PowerShell/Commands/Host/Get-VzHost.md') -Raw
    function Invoke-Generator([string] $Markdown, [string] $FileName = 'Get-VzHost.md') {
        $root = Join-Path ([IO.Path]::GetTempPath()) "vz-helpgen-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $src = Join-Path $root 'Virtuozzo.PowerShell/Commands/Host'
        $null = New-Item -ItemType Directory $src
        Set-Content (Join-Path $src $FileName) $Markdown
        try {
            & $generator -Root $root -ModulePath $modulePath -OutputDirectory (Join-Path $root 'en-US') 3>$null 6>$null
            [xml](Get-Content (Join-Path $root 'en-US/Virtuozzo.PowerShell.dll-Help.xml') -Raw)
        }
        finally { Remove-Item $root -Recurse -Force }
    }
}

Describe 'tools/New-VzMamlHelp.ps1' -Tag Unit {
    It 'writes MAML with the parameter facts of the compiled cmdlet and the Default: text' {
        $maml = Invoke-Generator ($good -replace 'Default: False \(use the cache when there is one\)', 'Default: False')
        $ns = @{ command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'; maml = 'http://schemas.microsoft.com/maml/2004/10'; dev = 'http://schemas.microsoft.com/maml/dev/2004/10' }
        $cmd = Select-Xml -Xml $maml -XPath '//command:command' -Namespace $ns | Select-Object -First 1 -ExpandProperty Node
        $cmd.details.name | Should -Be 'Get-VzHost'
        $p = Select-Xml -Xml $maml -XPath '//command:parameters/command:parameter' -Namespace $ns | Select-Object -First 1 -ExpandProperty Node
        $p.name | Should -Be 'Refresh'
        $p.required | Should -Be 'false'
        $p.position | Should -Be 'named'
        $p.type.name | Should -Be 'System.Management.Automation.SwitchParameter'
        $p.defaultValue | Should -Be 'False'
        @(Select-Xml -Xml $maml -XPath '//command:example' -Namespace $ns).Count | Should -Be 3
    }

    It 'refuses <Case>' -ForEach @(
        @{ Case = 'a documented parameter the cmdlet lacks'; Edit = { param($t) $t -replace '### -Refresh', "### -Nope`nNot real.`n`n### -Refresh" }; Message = 'has no parameter -Nope' }
        @{ Case = 'a missing SYNOPSIS section'; Edit = { param($t) $t -replace '## SYNOPSIS', '## SUMMARY' }; Message = "unknown section|'## SYNOPSIS' section is missing" }
        @{ Case = 'an example without code'; Edit = { param($t) $t -replace '(?s)(### Example 1:[^\n]*\n)```powershell\n.*?```\n', '$1' }; Message = 'needs one fenced powershell code block' }
        @{ Case = 'a title that differs from the file name'; Edit = { param($t) $t -replace '^# Get-VzHost', '# Get-VzHosts' }; Message = 'does not match the file name' }
        @{ Case = 'an unclosed code fence'; Edit = { param($t) $t -replace '(?s)(Example 2.*?```powershell.*?)```', '$1' }; Message = 'code fence is not closed' }
        @{ Case = 'a parameter heading without a dash'; Edit = { param($t) $t -replace '### -Refresh', '### Refresh' }; Message = "must read '### -Name'" }
    ) {
        $bad = & $Edit $good
        $bad | Should -Not -Be $good -Because 'the edit must change the source'
        $err = $null
        try { $null = Invoke-Generator $bad } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty -Because 'the generator must refuse the source'
        $err.Exception.Message | Should -Match 'Get-VzHost'
        $err.Exception.Message | Should -Match $Message
    }
}
