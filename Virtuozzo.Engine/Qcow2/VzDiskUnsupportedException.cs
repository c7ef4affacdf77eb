using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// A disk image uses a feature this code does not handle natively (for example an external data file). The
/// feature is named, so a user knows what to convert away from or which qemu-img command to use instead.
/// </summary>
public sealed class VzDiskUnsupportedException(string path, string feature, string operation)
    : VzException("VzDiskFeatureUnsupported",
        $"The disk image '{path}' uses {feature}, which Virtuozzo cannot {operation} natively.", path)
{
    public string Path { get; } = path;

    /// <summary>The feature by name, as the qcow2 specification calls it.</summary>
    public string Feature { get; } = feature;
}
