using System.Globalization;
using System.Management.Automation;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// ValidateRange for a settings parameter that may be null: null is "not given" (an empty CSV cell, see
/// <see cref="SettingTextAttribute"/>) and passes, where ValidateRange refuses it. A number outside the range is the
/// usual ParameterArgumentValidationError.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateSettingRangeAttribute(long minimum, long maximum) : ValidateArgumentsAttribute
{
    protected override void Validate(object? arguments, EngineIntrinsics engineIntrinsics)
    {
        var value = arguments is PSObject ps ? ps.BaseObject : arguments;
        if (value is null) return;
        var n = Convert.ToInt64(value, CultureInfo.InvariantCulture);
        if (n < minimum || n > maximum)
            throw new ValidationMetadataException($"{n} is outside {minimum}-{maximum}. Give a value in that range.");
    }
}
