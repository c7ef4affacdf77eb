namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>A dirty bitmap as QEMU reports it; <see cref="Count"/> is the bytes it marks dirty.</summary>
public sealed record DirtyBitmap(string Name, bool Inconsistent, bool Persistent, long Count);
