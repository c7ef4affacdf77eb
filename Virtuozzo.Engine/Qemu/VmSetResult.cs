namespace Virtuozzo.Engine.Qemu;

/// <summary>What Set-VzVm did: the VM afterwards, and the changes that wait for the next start.</summary>
public sealed record VmSetResult(VmInfo Vm, IReadOnlyList<string> Pending, IReadOnlyList<string> Notes);
