<#
.SYNOPSIS
    Turns the Markdown help sources beside the cmdlets into the module's MAML help file.
.DESCRIPTION
    Reads every Virtuozzo.PowerShell/Commands/**/<Verb-Noun>.md (the format is fixed in the project brief: SYNOPSIS,
    DESCRIPTION, PARAMETERS, INPUTS, OUTPUTS, NOTES, EXAMPLES, RELATED LINKS) and writes
    en-US/Virtuozzo.PowerShell.dll-Help.xml. What the Markdown cannot know reliably (parameter types, parameter sets,
    mandatory, position, pipeline input, aliases, wildcard support) comes from the compiled cmdlets: the laid-out module
    is imported in a child pwsh and its Get-Command metadata is read, so help never drifts from the code.
    Defaults come from the "Default: <value>." sentence of a parameter's text (switches default to False).

    Problems that make the help wrong (a parameter documented that the cmdlet lacks, a malformed file) stop the build;
    gaps (a cmdlet or parameter without text) are warnings here and failures in tests.pester/Help.Tests.ps1.
.EXAMPLE
    ./tools/New-VzMamlHelp.ps1 -Root .
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $Root,
    # The laid-out module to read metadata from (default: <Root>/out/Modules/Virtuozzo).
    [string] $ModulePath,
    # Where to write the MAML file (default: <Root>/en-US).
    [string] $OutputDirectory
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = (Resolve-Path $Root).Path
if (-not $ModulePath) { $ModulePath = Join-Path $Root 'out/Modules/Virtuozzo' }
if (-not $OutputDirectory) { $OutputDirectory = Join-Path $Root 'en-US' }
$psd1 = Join-Path $ModulePath 'Virtuozzo.psd1'
if (-not (Test-Path $psd1)) { throw "No laid-out module at $ModulePath; run './build.ps1 -Task Build,Layout' first (the help reads the compiled cmdlets)." }

#region Markdown
function ConvertFrom-VzHelpMarkdown {
    <# Splits one help source into its sections; fenced code is kept verbatim (a '#' line in code is not a heading). #>
    param([Parameter(Mandatory)][string] $Path)
    $lines = [IO.File]::ReadAllLines($Path)
    $doc = [ordered]@{ Name = $null; Sections = [ordered]@{} }
    $section = $null; $sub = $null; $inFence = $false
    $lineNo = 0
    foreach ($line in $lines) {
        $lineNo++
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -notmatch '^\s*```') {
            if ($line -match '^# (\S.*)$' -and -not $section) { $doc.Name = $Matches[1].Trim(); continue }
            if ($line -match '^## (\S.*)$') {
                $section = $Matches[1].Trim().ToUpperInvariant(); $sub = $null
                if ($doc.Sections.Contains($section)) { throw "${Path}:${lineNo}: section '## $section' appears twice." }
                $doc.Sections[$section] = [ordered]@{ Text = [Collections.Generic.List[string]]::new(); Items = [Collections.Generic.List[object]]::new() }
                continue
            }
            if ($line -match '^### (\S.*)$') {
                if (-not $section) { throw "${Path}:${lineNo}: '### $($Matches[1])' outside a '## ' section." }
                $sub = [pscustomobject]@{ Title = $Matches[1].Trim(); Lines = [Collections.Generic.List[string]]::new(); Line = $lineNo }
                $doc.Sections[$section].Items.Add($sub)
                continue
            }
        }
        if ($sub) { $sub.Lines.Add($line) }
        elseif ($section) { $doc.Sections[$section].Text.Add($line) }
        elseif ($line.Trim()) { throw "${Path}:${lineNo}: text before the first '## ' section." }
    }
    if ($inFence) { throw "${Path}: a code fence is not closed." }
    if (-not $doc.Name) { throw "${Path}: the first line must be '# Verb-Noun'." }
    $expected = [IO.Path]::GetFileNameWithoutExtension($Path)
    if ($doc.Name -ne $expected) { throw "${Path}: the title '# $($doc.Name)' does not match the file name '$expected'." }
    foreach ($required in 'SYNOPSIS', 'DESCRIPTION', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'EXAMPLES') {
        if (-not $doc.Sections.Contains($required)) { throw "${Path}: the '## $required' section is missing." }
    }
    $known = 'SYNOPSIS', 'DESCRIPTION', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'EXAMPLES', 'RELATED LINKS'
    foreach ($s in $doc.Sections.Keys) { if ($s -notin $known) { throw "${Path}: unknown section '## $s' (known: $($known -join ', '))." } }
    $doc
}

function Split-VzParagraph {
    <#
      Blank lines separate paragraphs; lines inside a paragraph are joined (Markdown soft wraps). A fenced code block
      becomes one paragraph with its lines kept, and a list item ("- x") starts a paragraph of its own.
    #>
    param([string[]] $Lines)
    $paras = [Collections.Generic.List[string]]::new()
    $current = [Collections.Generic.List[string]]::new()
    $code = $null
    foreach ($l in @($Lines) + '') {
        if ($null -ne $code) {
            if ($l -match '^\s*```') { $paras.Add(($code -join "`n")); $code = $null } else { $code.Add($l) }
            continue
        }
        if ($l -match '^\s*```') {
            if ($current.Count) { $paras.Add(($current -join ' ')); $current.Clear() }
            $code = [Collections.Generic.List[string]]::new()
            continue
        }
        if ($l -match '^\s*[-*]\s+' -and $current.Count) { $paras.Add(($current -join ' ')); $current.Clear() }
        if ($l.Trim()) { $current.Add($l.Trim()) }
        elseif ($current.Count) { $paras.Add(($current -join ' ')); $current.Clear() }
    }
    , $paras.ToArray()
}

function Split-VzExample {
    <# An example: one fenced code block, then remarks. #>
    param($Item, [string] $Path)
    $code = [Collections.Generic.List[string]]::new(); $remarks = [Collections.Generic.List[string]]::new()
    $state = 'before'
    foreach ($l in $Item.Lines) {
        switch ($state) {
            'before' { if ($l -match '^\s*```') { $state = 'code' } elseif ($l.Trim()) { $remarks.Add($l) } }
            'code'   { if ($l -match '^\s*```') { $state = 'after' } else { $code.Add($l) } }
            'after'  { if ($l -match '^\s*```') { throw "${Path}:$($Item.Line): example '$($Item.Title)' has more than one code block." } $remarks.Add($l) }
        }
    }
    if ($state -ne 'after' -or -not ($code -join '').Trim()) { throw "${Path}:$($Item.Line): example '$($Item.Title)' needs one fenced powershell code block." }
    [pscustomobject]@{ Title = $Item.Title; Code = ($code -join "`n").Trim("`n"); Remarks = Split-VzParagraph $remarks }
}
#endregion

# Sources are parsed (and their structure checked) before the slower metadata read, so a bad file fails fast.
$sources = @(Get-ChildItem (Join-Path $Root 'Virtuozzo.PowerShell/Commands') -Recurse -Filter '*-*.md' | Sort-Object Name)
$parsed = foreach ($file in $sources) {
    $doc = ConvertFrom-VzHelpMarkdown $file.FullName
    [pscustomobject]@{ File = $file; Doc = $doc; Examples = @($doc.Sections['EXAMPLES'].Items | ForEach-Object { Split-VzExample $_ $file.FullName }) }
}

#region Metadata from the compiled cmdlets
# A child process: loading the module here would pin its assemblies in the build process.
$metaScript = {
    param($psd1)
    # -WhatIf and -Confirm stay: they belong in the syntax of a cmdlet that supports ShouldProcess.
    $common = [Management.Automation.Cmdlet]::CommonParameters
    $module = Import-Module $psd1 -PassThru -ErrorAction Stop
    foreach ($cmd in Get-Command -Module $module.Name -CommandType Cmdlet) {
        $params = foreach ($p in $cmd.Parameters.Values | Where-Object { $_.Name -notin $common }) {
            $sets = foreach ($kv in $p.ParameterSets.GetEnumerator()) {
                [pscustomobject]@{
                    Set = $kv.Key; Mandatory = $kv.Value.IsMandatory
                    Position = if ($kv.Value.Position -ge 0) { [string]$kv.Value.Position } else { 'named' }
                    ByValue = $kv.Value.ValueFromPipeline; ByPropertyName = $kv.Value.ValueFromPipelineByPropertyName
                    Remaining = $kv.Value.ValueFromRemainingArguments
                }
            }
            # Nullable<T> backs "not given" on Set-* cmdlets; users type a T, so help names T.
            $type = [Nullable]::GetUnderlyingType($p.ParameterType)
            if (-not $type) { $type = $p.ParameterType }
            [pscustomobject]@{
                Name = $p.Name; Type = $type.FullName; TypeName = $type.Name
                IsSwitch = $p.SwitchParameter; Aliases = @($p.Aliases)
                Globbing = [bool]($p.Attributes | Where-Object { $_ -is [Management.Automation.SupportsWildcardsAttribute] })
                ValidValues = @($p.Attributes | Where-Object { $_ -is [Management.Automation.ValidateSetAttribute] } | ForEach-Object ValidValues)
                EnumValues = if ($type.IsEnum) { @([Enum]::GetNames($type)) } else { @() }
                Sets = @($sets)
            }
        }
        [pscustomobject]@{
            Name = $cmd.Name; Verb = $cmd.Verb; Noun = $cmd.Noun; DefaultSet = $cmd.DefaultParameterSet
            SetNames = @($cmd.ParameterSets | ForEach-Object Name)
            Parameters = @($params); OutputTypes = @($cmd.OutputType | ForEach-Object Name)
        }
    }
}
$pwsh = if (Test-Path (Join-Path $PSHOME pwsh)) { Join-Path $PSHOME pwsh } else { (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source }
$json = & $pwsh -NoProfile -NoLogo -NonInteractive -Command "& { $metaScript } '$($psd1 -replace "'", "''")' | ConvertTo-Json -Depth 6 -Compress"
if ($LASTEXITCODE -ne 0) { throw "Reading cmdlet metadata from $psd1 failed (exit code $LASTEXITCODE)." }
$meta = @{}
foreach ($c in @($json | ConvertFrom-Json)) { $meta[$c.Name] = $c }
#endregion

#region MAML
$ns = @{
    maml = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
$settings = [Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
$outFile = Join-Path $OutputDirectory 'Virtuozzo.PowerShell.dll-Help.xml'
$null = New-Item -ItemType Directory -Force -Path $OutputDirectory
$w = [Xml.XmlWriter]::Create($outFile, $settings)

function Write-Paras([string[]] $Paras) {
    foreach ($p in $Paras) { $w.WriteElementString('para', $ns.maml, $p) }
}
function Write-Description([string[]] $Paras) {
    $w.WriteStartElement('maml', 'description', $ns.maml); Write-Paras $Paras; $w.WriteEndElement()
}
function Write-DevType([string] $Name) {
    $w.WriteStartElement('dev', 'type', $ns.dev)
    $w.WriteElementString('name', $ns.maml, $Name)
    $w.WriteElementString('uri', $ns.maml, '')
    $w.WriteEndElement()
}
function Get-PipelineText($s) {
    if ($s.ByValue -and $s.ByPropertyName) { 'True (ByValue, ByPropertyName)' }
    elseif ($s.ByValue) { 'True (ByValue)' }
    elseif ($s.ByPropertyName) { 'True (ByPropertyName)' }
    else { 'False' }
}
function Write-Parameter($P, $SetInfo, [string[]] $Paras, [string] $Default) {
    $w.WriteStartElement('command', 'parameter', $ns.command)
    $w.WriteAttributeString('required', ([string][bool]$SetInfo.Mandatory).ToLowerInvariant())
    $w.WriteAttributeString('variableLength', ([string]($P.Type -like '*`[`]')).ToLowerInvariant())
    $w.WriteAttributeString('globbing', ([string]$P.Globbing).ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', (Get-PipelineText $SetInfo))
    $w.WriteAttributeString('position', $SetInfo.Position)
    $w.WriteAttributeString('aliases', $(if ($P.Aliases.Count) { $P.Aliases -join ', ' } else { 'none' }))
    $w.WriteElementString('name', $ns.maml, $P.Name)
    Write-Description $Paras
    $values = @($P.ValidValues) + @($P.EnumValues) | Where-Object { $_ }
    if ($values) {
        $w.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($v in $values) {
            $w.WriteStartElement('command', 'parameterValue', $ns.command)
            $w.WriteAttributeString('required', 'false'); $w.WriteAttributeString('variableLength', 'false')
            $w.WriteString($v); $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    if (-not $P.IsSwitch) {
        $w.WriteStartElement('command', 'parameterValue', $ns.command)
        $w.WriteAttributeString('required', 'true'); $w.WriteAttributeString('variableLength', 'false')
        $w.WriteString($P.TypeName); $w.WriteEndElement()
    }
    Write-DevType $P.Type
    $w.WriteElementString('defaultValue', $ns.dev, $Default)
    $w.WriteEndElement()
}

# -WhatIf and -Confirm mean the same in every cmdlet; a source may still word them its own way.
$standardText = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. Nothing is changed.'
    Confirm = 'Prompts you for confirmation before each change.'
}

$documented = @{}
$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
foreach ($source in $parsed) {
    $file = $source.File; $doc = $source.Doc
    $name = $doc.Name
    $cmd = $meta[$name]
    if (-not $cmd) { Write-Warning "$($file.FullName): the module exports no cmdlet '$name'; skipped."; continue }
    $documented[$name] = $true
    $S = $doc.Sections

    # Parameter texts, checked against the real parameter list.
    $paramText = @{}
    foreach ($item in $S['PARAMETERS'].Items) {
        if ($item.Title -notmatch '^-(\w+)$') { throw "$($file.FullName):$($item.Line): a parameter heading must read '### -Name', not '### $($item.Title)'." }
        $pn = $Matches[1]
        if (-not ($cmd.Parameters | Where-Object Name -eq $pn)) { throw "$($file.FullName):$($item.Line): $name has no parameter -$pn (documented but not in the cmdlet)." }
        $paramText[$pn] = Split-VzParagraph $item.Lines
    }
    $params = foreach ($p in $cmd.Parameters) {
        $paras = $paramText[$p.Name]
        if (-not $paras -and $standardText.ContainsKey($p.Name)) { $paras = @($standardText[$p.Name]) }
        if (-not $paras) { Write-Warning "${name}: parameter -$($p.Name) has no '### -$($p.Name)' entry in $($file.Name)."; $paras = @() }
        $joined = $paras -join ' '
        $default = if ($joined -match 'Default:\s*(.+?)(?:\.\s|\.$|$)') { $Matches[1].Trim() } elseif ($p.IsSwitch) { 'False' } else { 'None' }
        [pscustomobject]@{ P = $p; Paras = $paras; Default = $default }
    }
    $examples = $source.Examples

    $w.WriteStartElement('command', 'command', $ns.command)
    $w.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $w.WriteAttributeString('xmlns', 'command', $null, $ns.command)
    $w.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)

    $w.WriteStartElement('command', 'details', $ns.command)
    $w.WriteElementString('name', $ns.command, $name)
    $w.WriteElementString('verb', $ns.command, $cmd.Verb)
    $w.WriteElementString('noun', $ns.command, $cmd.Noun)
    Write-Description (Split-VzParagraph $S['SYNOPSIS'].Text)
    $w.WriteEndElement()

    Write-Description (Split-VzParagraph $S['DESCRIPTION'].Text)

    # One syntax item per parameter set, default set first; parameters in position order, then mandatory first.
    $w.WriteStartElement('command', 'syntax', $ns.command)
    $setNames = @($cmd.SetNames | Sort-Object { $_ -ne $cmd.DefaultSet }, { $_ })
    foreach ($set in $setNames) {
        $w.WriteStartElement('command', 'syntaxItem', $ns.command)
        $w.WriteElementString('name', $ns.maml, $name)
        $inSet = foreach ($x in $params) {
            $si = $x.P.Sets | Where-Object { $_.Set -eq $set -or $_.Set -eq '__AllParameterSets' } | Select-Object -First 1
            if ($si) { [pscustomobject]@{ X = $x; S = $si } }
        }
        $ordered = $inSet | Sort-Object { if ($_.S.Position -eq 'named') { 1000 } else { [int]$_.S.Position } }, { -not $_.S.Mandatory }, { $_.X.P.Name }
        foreach ($e in $ordered) { Write-Parameter $e.X.P $e.S $e.X.Paras $e.X.Default }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    # The parameter list: each parameter once, with what is true in every set it belongs to.
    $w.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($x in $params | Sort-Object { $_.P.Name }) {
        $sets = @($x.P.Sets)
        $merged = [pscustomobject]@{
            Mandatory = [bool]($sets | Where-Object Mandatory); ByValue = [bool]($sets | Where-Object ByValue)
            ByPropertyName = [bool]($sets | Where-Object ByPropertyName)
            Position = ($sets | ForEach-Object Position | Sort-Object -Unique) -join ', '
        }
        Write-Parameter $x.P $merged $x.Paras $x.Default
    }
    $w.WriteEndElement()

    foreach ($kind in @(@{ S = 'INPUTS'; Outer = 'inputTypes'; Inner = 'inputType' }, @{ S = 'OUTPUTS'; Outer = 'returnValues'; Inner = 'returnValue' })) {
        $w.WriteStartElement('command', $kind.Outer, $ns.command)
        foreach ($item in $S[$kind.S].Items) {
            $w.WriteStartElement('command', $kind.Inner, $ns.command)
            Write-DevType $item.Title
            Write-Description (Split-VzParagraph $item.Lines)
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }

    if ($S.Contains('NOTES')) {
        $w.WriteStartElement('maml', 'alertSet', $ns.maml)
        $w.WriteStartElement('maml', 'alert', $ns.maml)
        Write-Paras (Split-VzParagraph $S['NOTES'].Text)
        $w.WriteEndElement(); $w.WriteEndElement()
    }

    $w.WriteStartElement('command', 'examples', $ns.command)
    foreach ($ex in $examples) {
        $w.WriteStartElement('command', 'example', $ns.command)
        $w.WriteElementString('title', $ns.maml, "-------------------------- $($ex.Title) --------------------------")
        $w.WriteElementString('code', $ns.dev, $ex.Code)
        $w.WriteStartElement('dev', 'remarks', $ns.dev); Write-Paras $ex.Remarks; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $ns.command)
    if ($S.Contains('RELATED LINKS')) {
        foreach ($l in $S['RELATED LINKS'].Text) {
            if ($l -match '^\s*[-*]\s+(.+?)\s*$') {
                $text = $Matches[1]; $uri = ''
                if ($text -match '^\[(.+)\]\((.+)\)$') { $text = $Matches[1]; $uri = $Matches[2] }
                $w.WriteStartElement('maml', 'navigationLink', $ns.maml)
                $w.WriteElementString('linkText', $ns.maml, $text)
                $w.WriteElementString('uri', $ns.maml, $uri)
                $w.WriteEndElement()
            }
        }
    }
    $w.WriteEndElement()

    $w.WriteEndElement() # command:command
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()

foreach ($missing in $meta.Keys | Where-Object { -not $documented[$_] } | Sort-Object) {
    Write-Warning "$missing has no help source (Virtuozzo.PowerShell/Commands/<Area>/$missing.md)."
}
Write-Host "Wrote $outFile ($($documented.Count) cmdlets)."
