namespace Virtuozzo.Engine.Store;

/// <summary>A CD/DVD drive with an ISO image (empty when <see cref="IsoPath"/> is null).</summary>
public sealed class VmDvdDrive
{
    public string Id { get; set; } = "";
    public string? IsoPath { get; set; }
}
