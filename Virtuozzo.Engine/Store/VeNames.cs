using System.Text.RegularExpressions;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// What a VE name may be. Names end up in hostnames, interface aliases, log lines and shell completions,
/// so they stay a safe identifier: letters, digits, '.', '_' and '-', starting with a letter or digit, 1-63 long.
/// </summary>
public static partial class VeNames
{
    public const int MaxLength = 63;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SafeName();

    public static void Validate(string? name, string parameterName = "Name")
    {
        if (string.IsNullOrEmpty(name))
            throw Invalid(name ?? "", "A VE name cannot be empty.", parameterName);
        if (name.Length > MaxLength)
            throw Invalid(name, $"The VE name is {name.Length} characters long; the most is {MaxLength}.", parameterName);
        if (!SafeName().IsMatch(name))
            throw Invalid(name, $"The VE name '{name}' is not a safe identifier.", parameterName);
    }

    private static VzInvalidArgumentException Invalid(string name, string message, string parameterName) =>
        new("VzInvalidName", message, name, parameterName)
        {
            RecommendedAction = "Use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters (for example 'web01').",
        };
}
