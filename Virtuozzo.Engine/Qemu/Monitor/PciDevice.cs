namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>One device from query-pci: its qdev id (null for built-ins) and, for a bridge or root port, how many devices sit behind it.</summary>
public sealed record PciDevice(string? QdevId, int DevicesBehind);
