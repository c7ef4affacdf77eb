using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// Every reason a VE cannot move, in one place: <see cref="Source"/> runs on this host (the VE's own state and what
/// its QEMU reports), <see cref="Destination"/> runs in the destination's agent against that host. Each check is one
/// entry of a list, so a new refusal (a VM with a virtio-fs shared folder, say) is one more entry in
/// <see cref="SourceChecks"/>, and Test-VzMigration and Move-VzVm/Move-VzContainer refuse alike.
/// </summary>
public static class MigrationChecks
{
    /// <summary>What a source check sees: the VE's config, the mode, and (for a running VM) its QEMU's answers.</summary>
    public sealed record SourceFacts(VeConfig Config, MigrationMode Mode, string State, MigrationProgress? Qemu, IReadOnlyList<BlockJobInfo> BlockJobs, Func<string, string> ResolvePath, string VeDirectory)
    {
        /// <summary>Why the VM's attached shared folders stop a move (VmService.SharedFolderMigrationBlocker), or null.</summary>
        public string? SharedFolderBlocker { get; init; }
    }

    /// <summary>The checks run on the source. Add a refusal here (one function, one message id).</summary>
    public static readonly IReadOnlyList<Func<SourceFacts, IEnumerable<MigrationIncompatibility>>> SourceChecks =
    [
        TransitionalState,
        BlockedByQemu,
        RunningBlockJobs,
        DisksOutsideVeFolder,
        AttachedSharedFolders,
    ];

    public static IReadOnlyList<MigrationIncompatibility> Source(SourceFacts facts) => [.. SourceChecks.SelectMany(c => c(facts))];

    private static IEnumerable<MigrationIncompatibility> TransitionalState(SourceFacts f)
    {
        if (f.State is "Paused" or "Saved" or "Suspended" or "Creating" or "Incomplete" or "Deleting")
            yield return new("VzMigrationTransitionalState",
                $"'{f.Config.Name}' is {f.State}; only a running or a stopped VE moves. Resume or stop it first.", f.Config.Name, MigrationSide.Source);
    }

    private static IEnumerable<MigrationIncompatibility> BlockedByQemu(SourceFacts f)
    {
        foreach (var reason in f.Qemu?.BlockedReasons ?? [])
            yield return new("VzMigrationBlockedByQemu", $"QEMU cannot migrate '{f.Config.Name}': {reason}", f.Config.Name, MigrationSide.Source);
        if (f.Qemu?.Status is "active" or "setup" or "device" or "pre-switchover")
            yield return new("VzMigrationInProgress", $"A migration of '{f.Config.Name}' is already in progress (status {f.Qemu.Status}).", f.Config.Name, MigrationSide.Source);
    }

    private static IEnumerable<MigrationIncompatibility> AttachedSharedFolders(SourceFacts f)
    {
        // QEMU 7.2 cannot migrate a vhost-user-fs device, and refuses a 9p export the guest has mounted.
        if (f.SharedFolderBlocker is { } reason)
            yield return new("VzMigrationSharedFolderAttached", reason, f.Config.Name, MigrationSide.Source);
    }

    private static IEnumerable<MigrationIncompatibility> RunningBlockJobs(SourceFacts f)
    {
        foreach (var job in f.BlockJobs)
            yield return new("VzMigrationBlockJobRunning",
                $"A {job.Type} block job ('{job.Device}') runs on '{f.Config.Name}'; wait for it to finish or cancel it (a backup, a mirror, a commit).", job.Device, MigrationSide.Source);
    }

    private static IEnumerable<MigrationIncompatibility> DisksOutsideVeFolder(SourceFacts f)
    {
        foreach (var d in f.Config.Vm?.Disks ?? [])
        {
            var full = f.ResolvePath(d.Path);
            if (!full.StartsWith(f.VeDirectory + "/", StringComparison.Ordinal))
                yield return new("VzMigrationDiskOutsideVe", $"The disk '{d.Id}' of '{f.Config.Name}' is outside its folder ({full}); only disks in the VM folder are copied. Move the disk into the folder first.", d.Id, MigrationSide.Source);
            if (d.BackingFile is { Length: > 0 } b)
                yield return new("VzMigrationBackingChain", $"The disk '{d.Id}' of '{f.Config.Name}' is a linked clone over '{b}'; flatten it (Convert-VzDisk) before moving.", d.Id, MigrationSide.Source);
        }
    }

    /// <summary>The checks run by the destination's agent, against the destination host.</summary>
    public static IEnumerable<MigrationIncompatibility> Destination(VzEngine engine, VeConfig config, AgentProbeRequest request, HostInfo caps, string identity, long freeBytes)
    {
        const MigrationSide d = MigrationSide.Destination;
        if (identity == request.SourceIdentity)
        {
            yield return new("VzMigrationSameHost", $"The destination is this host itself (data root {engine.Paths.DataRoot}); name another host.", engine.Paths.DataRoot, d);
            yield break;
        }
        // An unfinished incoming copy of this VE (an earlier attempt whose abort never arrived) is replaced, not a clash.
        if (engine.Store.TryGet(config.Id) is not null && !File.Exists(Path.Combine(engine.Paths.VeDirectory(config.Id), MigrationAgent.IncomingMarkerName)))
            yield return new("VzMigrationIdInUse", $"A VE with id {config.Id} already exists on the destination.", config.Id.ToString(), d);
        if (engine.Store.TryFind(config.Name) is { } clash && clash.Id != config.Id)
            yield return new("VzMigrationNameInUse", $"A VE named '{config.Name}' already exists on the destination (id {clash.Id}); rename one of them first.", config.Name, d);
        if (request.Mode == MigrationMode.Live || config.Type == VeType.Container)
        {
            MigrationIncompatibility? admission = null;
            try { engine.Memory.Admit(config); }
            catch (VzInsufficientResourcesException ex) { admission = new("VzMigrationGuaranteeUnavailable", "On the destination: " + ex.Message, config.Name, d); }
            if (admission is not null) yield return admission;
        }
        var margin = 64L << 20;
        if (freeBytes < request.RequiredBytes + margin)
            yield return new("VzMigrationDiskSpace", $"The destination's data root has {freeBytes >> 20} MiB free; '{config.Name}' needs {(request.RequiredBytes + margin) >> 20} MiB.", engine.Paths.DataRoot, d);
        var networks = new Network.VirtualNetworkStore(engine.Paths);
        foreach (var adapter in config.NetworkAdapters ?? [])
            if (networks.TryGet(adapter.Network) is null)
                yield return new("VzMigrationNetworkMissing", $"The network '{adapter.Network}' that adapter '{adapter.Name}' of '{config.Name}' joins does not exist on the destination; create it there (same name) first.", adapter.Network, d);
        if (config.Vm is { } vm)
        {
            if (vm.NetworkMode == VmNetworkMode.Bridge && vm.Bridge is { Length: > 0 } br && !Directory.Exists($"/sys/class/net/{br}/bridge"))
                yield return new("VzMigrationBridgeMissing", $"The bridge '{br}' that '{config.Name}' is attached to does not exist on the destination; create it there (same name) first.", br, d);
            foreach (var file in new[] { vm.KernelPath, vm.InitrdPath }.Concat(vm.DvdDrives.Select(x => x.IsoPath)))
                if (file is { Length: > 0 } && Path.IsPathRooted(file) && !File.Exists(file))
                    yield return new("VzMigrationFileMissing", $"'{config.Name}' uses '{file}', which does not exist on the destination; copy it to the same path there.", file, d);
            if (request.Mode == MigrationMode.Live)
            {
                if (caps.QemuVersion is null)
                    yield return new("VzMigrationQemuMissing", "QEMU is not installed on the destination.", "qemu-system-x86_64", d);
                else if (request.SourceQemuVersion is { } sv && MajorMinor(sv) != MajorMinor(caps.QemuVersion))
                    yield return new("VzMigrationQemuVersion",
                        $"The destination runs QEMU {caps.QemuVersion}, the source {sv}: the machine type '{vm.Machine}' resolves to a different version there. Move it offline instead.", caps.QemuVersion, d);
                if (request.SourceAccelerator is { } sa && sa != caps.Accelerator.ToString())
                    yield return new("VzMigrationCpuModel",
                        $"The VM runs with the {sa} CPU model on the source ({(sa == "Kvm" ? "-cpu host" : "-cpu max")}) but the destination runs guests with {caps.Accelerator}; the vCPU state cannot be carried over live. Move it offline.", caps.Accelerator.ToString(), d);
            }
        }
    }

    private static string MajorMinor(string version) => string.Join('.', version.Split('.').Take(2));
}
