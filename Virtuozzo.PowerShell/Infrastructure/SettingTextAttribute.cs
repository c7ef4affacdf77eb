using System.Globalization;
using System.Management.Automation;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// Lets a settings parameter bind from the text an exported object's property becomes in a CSV cell, so that
/// <c>Get-VzVm a | Export-Csv f; Import-Csv f | Set-VzVm</c> works: an empty cell is "not given" (the setting is left
/// alone; PowerShell would otherwise make it 0), a list is its items joined by commas (as <see cref="Engine.TextList{T}"/>
/// prints), a Boolean is "True"/"False" (PowerShell refuses strings for bool parameters). Values that are not text
/// pass through unchanged.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SettingTextAttribute : ArgumentTransformationAttribute
{
    /// <summary>The parameter takes a list: split text at commas.</summary>
    public bool List { get; set; }

    /// <summary>The parameter is a bool: read "True", "False", "1", "0".</summary>
    public bool Boolean { get; set; }

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        // A list property of an output object (TextList) binds item by item; PowerShell would take its text as one item.
        if (List && value is System.Collections.IEnumerable items and not string)
            return items.Cast<object?>().Select(i => (i is PSObject p ? p.BaseObject : i)?.ToString() ?? "").ToArray();
        if (value is not string text) return inputData;
        var trimmed = text.Trim();
        if (trimmed.Length == 0) return null;
        if (List) return trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Boolean)
        {
            if (bool.TryParse(trimmed, out var b)) return b;
            if (int.TryParse(trimmed, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return n != 0;
            throw new ArgumentTransformationMetadataException($"'{text}' is not a Boolean: give $true or $false (in a CSV file, True or False).");
        }
        return inputData;
    }
}
