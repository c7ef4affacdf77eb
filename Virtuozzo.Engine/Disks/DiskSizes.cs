using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Disks;

/// <summary>The one lower bound for a new disk's size, shared by New-VzDisk, New-VzVm -DiskSize and Add-VzVmDisk.</summary>
public static class DiskSizes
{
    /// <summary>1 MiB: smaller disks hold no partition table and file system worth having, and a size of 0 is a typo.</summary>
    public const long Minimum = 1024L * 1024;

    /// <summary>Throws VzDiskSizeTooSmall for a size under <see cref="Minimum"/>.</summary>
    public static void Require(long size, object? target, string parameterName)
    {
        if (size < Minimum)
            throw new VzInvalidArgumentException("VzDiskSizeTooSmall", $"A disk must be at least {Minimum / (1024 * 1024)} MiB; {size} bytes was given.", target, parameterName)
            { RecommendedAction = "Give a size such as 64MB or 10GB." };
    }
}
