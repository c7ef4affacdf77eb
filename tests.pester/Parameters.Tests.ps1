<#
  The public surface of every exported cmdlet: its exact parameter list (kept in Parameters.psd1), an output type
  with a table and a list view (also for the Deserialized twin, for objects that came back over remoting),
  ShouldProcess on state changes, ConfirmImpact High on Remove-*.
#>
BeforeDiscovery {
    Import-Module Virtuozzo -Force
    $all = @(Get-Command -Module Virtuozzo -CommandType Cmdlet | Sort-Object Name)
    $script:cmdlets = @($all | ForEach-Object { @{ Name = $_.Name } })
    # Verbs that read or run things without changing a VE's definition; every other verb changes state.
    $readOnlyVerbs = 'Get', 'Test', 'Enter', 'Invoke', 'Wait', 'Measure', 'Find', 'Watch', 'Compare', 'Receive'
    $script:stateChangers = @($all | Where-Object Verb -notin $readOnlyVerbs | ForEach-Object { @{ Name = $_.Name } })
    # Remove-* that destroy nothing (they detach; the data stays) keep Medium. Each entry needs a reason here.
    $notDestructive = @(
        'Remove-VzVmDvdDrive'   # ejects an ISO from a VM; the ISO file is untouched
    )
    # Rewrites in place that lose data when aimed at the wrong file (issue 9): also ConfirmImpact High.
    $inPlaceRewriters = @(
        'Convert-VzDisk'    # replaces the image with the converted one
        'Optimize-VzDisk'   # rewrites the image
        'Resize-VzDisk'     # changes the image's size and metadata
        'Restore-VzSnapshot' # rewinds the VE's disks or private area; its current state is lost
    )
    $destructive = { ($_.Verb -eq 'Remove' -and $_.Name -notin $notDestructive) -or $_.Name -in $inPlaceRewriters }
    $script:removers = @($all | Where-Object $destructive | ForEach-Object { @{ Name = $_.Name } })
    $script:others = @($all | Where-Object { -not (& $destructive) } | ForEach-Object { @{ Name = $_.Name } })
    # Hyper-V's convention: these verbs write nothing by default and the changed object with -PassThru.
    $script:passThruVerbs = @($all | Where-Object Verb -in 'Add', 'Set', 'Start', 'Stop', 'Restart', 'Suspend', 'Resume', 'Rename', 'Remove' |
        ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    Import-Module Virtuozzo -Force
    $script:expected = Import-PowerShellDataFile (Join-Path $PSScriptRoot 'Parameters.psd1')
    $script:ignored = [Management.Automation.Cmdlet]::CommonParameters + [Management.Automation.Cmdlet]::OptionalCommonParameters
    function Get-CmdletAttribute([string] $Name) {
        (Get-Command $Name).ImplementingType.GetCustomAttributes([Management.Automation.CmdletAttribute], $true) | Select-Object -First 1
    }

    function Get-ViewKind([string] $TypeName) {
        # The control kinds (TableControl, ListControl, ...) of every view that selects this type name.
        $data = Get-FormatData -TypeName $TypeName -PowerShellVersion $PSVersionTable.PSVersion -ErrorAction SilentlyContinue
        @($data | ForEach-Object FormatViewDefinition | ForEach-Object { $_.Control.GetType().Name })
    }
}

Describe 'Parameters.psd1' -Tag Unit {
    It 'lists only exported cmdlets' {
        $exported = @(Get-Command -Module Virtuozzo -CommandType Cmdlet | ForEach-Object Name)
        $expected.Keys | Where-Object { $_ -notin $exported } | Should -BeNullOrEmpty -Because 'an entry for a cmdlet that is gone is stale'
    }

    It 'keeps each list sorted' {
        foreach ($k in $expected.Keys) {
            ($expected[$k] -join ',') | Should -Be ((@($expected[$k]) | Sort-Object) -join ',') -Because "the list of $k is kept sorted"
        }
    }
}

Describe '<Name>' -Tag Unit -ForEach $cmdlets {
    BeforeAll {
        $command = Get-Command $Name
    }

    It 'has exactly the parameters in Parameters.psd1' {
        $expected.ContainsKey($Name) | Should -BeTrue -Because "tests.pester/Parameters.psd1 must list $Name's parameters"
        $actual = @($command.Parameters.Keys | Where-Object { $_ -notin $ignored } | Sort-Object)
        ($actual -join ', ') | Should -BeExactly ((@($expected[$Name]) | Sort-Object) -join ', ')
    }

    It 'takes no remaining arguments (a misspelt parameter is a binding error, never a value)' {
        $remaining = @($command.Parameters.Values | Where-Object { $_.ParameterSets.Values.ValueFromRemainingArguments -contains $true } | ForEach-Object Name)
        $remaining | Should -BeNullOrEmpty
    }

    It 'declares an output type' {
        @($command.OutputType).Count | Should -BeGreaterThan 0 -Because 'every cmdlet says what it returns ([OutputType])'
    }

    It 'has a table and a list view for each output type, also deserialized' {
        foreach ($type in @($command.OutputType | ForEach-Object Name | Where-Object { $_ -like 'Virtuozzo.*' })) {
            foreach ($name in $type, "Deserialized.$type") {
                $kinds = Get-ViewKind $name
                $kinds | Should -Contain 'TableControl' -Because "$name needs a table view in formats/"
                $kinds | Should -Contain 'ListControl' -Because "$name needs a list view in formats/"
            }
        }
    }

}

Describe 'State changer <Name>' -Tag Unit -ForEach $stateChangers {
    It 'supports ShouldProcess (-WhatIf, -Confirm)' {
        (Get-CmdletAttribute $Name).SupportsShouldProcess | Should -BeTrue
        (Get-Command $Name).Parameters.ContainsKey('WhatIf') | Should -BeTrue
    }
}

Describe 'Changer <Name>' -Tag Unit -ForEach $passThruVerbs {
    It 'has -PassThru' {
        (Get-Command $Name).Parameters.ContainsKey('PassThru') | Should -BeTrue
    }
}

Describe 'Destructive <Name>' -Tag Unit -ForEach $removers {
    It 'asks before destroying (ConfirmImpact High)' {
        (Get-CmdletAttribute $Name).ConfirmImpact | Should -Be ([Management.Automation.ConfirmImpact]::High)
    }
}

Describe 'Non-destructive <Name>' -Tag Unit -ForEach $others {
    It 'does not claim ConfirmImpact High (kept for Remove-* and in-place disk rewrites)' {
        (Get-CmdletAttribute $Name).ConfirmImpact | Should -Not -Be ([Management.Automation.ConfirmImpact]::High)
    }
}
