using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Disks.Safety;

/// <summary>
/// The disk path gate refused a path because of what it is: a folder, a device, a FIFO, a text file, an
/// executable... <see cref="What"/> says it in words ("a block device"); nothing was opened for writing.
/// </summary>
public sealed class VzDiskPathRefusedException(string path, string what, string? parameterName, string operation)
    : VzException("VzDiskPathRefused", $"'{path}' is {what}; Virtuozzo will not {operation}.", path)
{
    public string Path { get; } = path;

    /// <summary>What the path is, as in the message.</summary>
    public string What { get; } = what;

    /// <summary>The parameter (PowerShell name) the path came in on.</summary>
    public string? ParameterName { get; } = parameterName;
}
