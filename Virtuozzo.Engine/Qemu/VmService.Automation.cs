using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Settings the host service acts on (boot order, AutoStop, autoballooning, mem-merge, hotplug).</summary>
public sealed partial class VmService
{
    /// <summary>
    /// Stores the settings; MemMerge applies at the next start, MemHotplug only on a stopped VM of at least 1 GiB
    /// (the DIMM slots are part of QEMU's command line). Validated first: a refused change changes nothing.
    /// </summary>
    public VmInfo SetAutomation(Guid id, VeAutomationChanges changes, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        changes.Validate(name);
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var current = VeConfigFile.Read(paths.VeConfigPath(id));
        if (changes.MemHotplug is { } hotplug && hotplug != current.Vm!.MemHotplug)
        {
            if (QemuProcess.Inspect(RuntimePaths(id)).Alive)
                throw new VzInvalidStateException("VzVmRunning", $"Memory hotplug of '{name}' can be switched only while it is stopped (QEMU needs DIMM slots from the start).", name)
                { RecommendedAction = $"Stop-VzVm -Name '{name}', then Set-VzVm -MemHotplug." };
            if (hotplug && current.Memory.MemorySize < MinHotplugMemorySize)
                throw new VzInvalidArgumentException("VzMemHotplugTooSmall",
                    $"Memory hotplug needs at least {MinHotplugMemorySize >> 20} MB of RAM (as in Virtuozzo 7); '{name}' has {current.Memory.MemorySize >> 20} MB.", name, "MemHotplug")
                { RecommendedAction = "Set-VzVm -MemorySize 1GB first, or leave hotplug off." };
        }
        store.UpdateLocked(veLock, id, c =>
        {
            changes.ApplyCommon(c);
            var vm = c.Vm!;
            if (changes.AutoBalloon is { } ab) vm.AutoBalloon = ab ? null : false;
            if (changes.MemMerge is { } mm) vm.MemMerge = mm ? null : false;
            if (changes.MemHotplug is { } hp && hp != vm.MemHotplug)
            {
                vm.MemHotplug = hp;
                vm.MaxMemorySize = hp ? MemoryHotplug.MaxMemoryFor(c.Memory.MemorySize, Host.MemInfo.Read().Total) : 0;
            }
        });
        return Describe(store.TryGet(id)!);
    }
}
