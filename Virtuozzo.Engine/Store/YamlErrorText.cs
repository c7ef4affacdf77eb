using System.Text.RegularExpressions;
using YamlDotNet.Core;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// Turns a YamlDotNet error into a sentence for an administrator. The library's messages name .NET types
/// ("Property 'x' not found on type 'Virtuozzo.Engine.Store.VeConfig'", "Invalid cast from 'System.String' to ..."),
/// which say nothing to someone who edited a YAML file; this says which key or value is wrong in YAML's terms.
/// </summary>
public static partial class YamlErrorText
{
    [GeneratedRegex(@"Property '(?<key>[^']+)' not found on type")]
    private static partial Regex UnknownKey();

    [GeneratedRegex(@"Requested value '(?<value>[^']*)' was not found")]
    private static partial Regex UnknownEnumValue();

    /// <summary>Any remaining dotted type name (System.Int64, Virtuozzo.Engine.Store.MemorySettings, with assembly details).</summary>
    [GeneratedRegex(@"'?\b(System|Virtuozzo|YamlDotNet|Microsoft)(\.[A-Za-z0-9_`]+)+(\[[^\]]*\])?(, [^,']+(=[^,']+)?)*'?")]
    private static partial Regex TypeName();

    public static string Describe(YamlException exception)
    {
        var inner = exception.InnerException;
        var message = (inner?.Message ?? exception.Message).Split('\n')[0];
        if (UnknownKey().Match(message) is { Success: true } key)
            return $"'{key.Groups["key"].Value}' is not a known key here (a typo, or a key from another section).";
        if (UnknownEnumValue().Match(message) is { Success: true } value)
            return $"'{value.Groups["value"].Value}' is not one of the values this key allows.";
        if (inner is FormatException or OverflowException)
            return "the value is not a number, or is out of range, where a number belongs.";
        if (inner is InvalidCastException || message.StartsWith("No node deserializer", StringComparison.Ordinal)
            || message.StartsWith("Invalid cast", StringComparison.Ordinal))
            return "the value has the wrong form for its key (for example a single value or a list where a section of keys belongs, or the reverse).";
        var plain = TypeName().Replace(message, "a value").Trim();
        if (plain.Length > 0 && char.IsUpper(plain[0])) plain = char.ToLowerInvariant(plain[0]) + plain[1..];
        return plain.EndsWith('.') ? plain : plain + ".";
    }
}
