namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>query-migrate's answer: the status ("active", "completed", "failed", "cancelled"...) and QEMU's error text.</summary>
public sealed record MigrationStatus(string? Status, string? ErrorDescription);
