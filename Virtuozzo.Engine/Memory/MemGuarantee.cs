using System.Globalization;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Memory;

/// <summary>
/// A VE's memory guarantee as people give it (prlctl --memguarantee auto|N): Auto, the type's default (VM 40 %,
/// container 0 %), or a percentage of its memory size. One type for containers and VMs, for parameters, output
/// objects and CSV alike: <c>-MemGuarantee Auto</c>, <c>-MemGuarantee 50</c> and the text "50" or "Auto" bind
/// (PowerShell converts through <see cref="Parse"/> and the implicit conversion from int), and
/// <see cref="ToString"/> writes the same text back. The range is checked in one place, <see cref="Validate"/>.
/// </summary>
public readonly record struct MemGuarantee
{
    /// <summary>The one error id for a guarantee outside 0-100, for every cmdlet and file that sets one.</summary>
    public const string InvalidErrorId = "VzInvalidMemGuarantee";

    private MemGuarantee(int? percent) => Percent = percent;

    /// <summary>The type's default guarantee (the default value of this struct).</summary>
    public static MemGuarantee Auto => default;

    /// <summary>The percentage of the memory size; null for Auto.</summary>
    public int? Percent { get; }

    public bool IsAuto => Percent is null;

    /// <summary>A percentage; not checked here (see <see cref="Validate"/>), so the check and its error stay in one place.</summary>
    public static MemGuarantee FromPercent(int percent) => new(percent);

    /// <summary>The value as ve.yaml stores it: null is Auto.</summary>
    public static MemGuarantee FromConfig(int? percent) => new(percent);

    public static implicit operator MemGuarantee(int percent) => new(percent);

    /// <summary>"Auto" (any case) or a whole number with an optional '%'; a FormatException otherwise.</summary>
    public static MemGuarantee Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not a memory guarantee: give Auto or a percentage 0-100.");

    public static bool TryParse(string? text, out MemGuarantee value)
    {
        value = Auto;
        var t = text?.Trim() ?? "";
        if (t.Equals("Auto", StringComparison.OrdinalIgnoreCase)) return true;
        if (t.EndsWith('%')) t = t[..^1].TrimEnd();
        if (!int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var p)) return false;
        value = new(p);
        return true;
    }

    /// <summary>The one range check: Auto or 0-100. Returns the value, so callers can check and use it in one step.</summary>
    public MemGuarantee Validate(object? target) =>
        Percent is < 0 or > 100
            ? throw new VzInvalidArgumentException(InvalidErrorId, $"A memory guarantee of {Percent} % is outside 0-100.", target, "MemGuarantee")
            { RecommendedAction = "Give a percentage 0-100, or Auto for the type's default (VM 40 %, container 0 %)." }
            : this;

    public override string ToString() => Percent?.ToString(CultureInfo.InvariantCulture) ?? "Auto";
}
