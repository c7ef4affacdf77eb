namespace Virtuozzo.Engine.Store;

/// <summary>A CD/DVD drive with an ISO image (empty when <see cref="IsoPath"/> is null).</summary>
public sealed class VmDvdDrive
{
    public string Id { get; set; } = "";
    public string? IsoPath { get; set; }

    /// <summary>"dvd0:/isos/x.iso", so a list of drives reads as text outside the format views (Export-Csv).</summary>
    public override string ToString() => $"{Id}:{IsoPath ?? "(empty)"}";
}
