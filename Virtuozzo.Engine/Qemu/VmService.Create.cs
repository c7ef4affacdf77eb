using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Disks.Safety;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Creating a VM: validation, its folder, disk, firmware files and identity.</summary>
public sealed partial class VmService
{
    public async Task<VmInfo> CreateAsync(VmCreateOptions o, CancellationToken cancellationToken)
    {
        Validate(o);
        // The gate resolves links once; the config keeps the real paths, so the VM opens what was checked.
        var disk = o.DiskPath is null ? null : GateDisk(o.DiskPath, DiskUse.Attach, "DiskPath", o.Name, o.ConvertDisk);
        var iso = o.IsoPath is null ? null : GateDisk(o.IsoPath, DiskUse.AttachReadOnly, "IsoPath", o.Name);
        var kernel = o.KernelPath is null ? null : GateFile(o.KernelPath, "KernelPath", o.Name);
        var initrd = o.InitrdPath is null ? null : GateFile(o.InitrdPath, "InitrdPath", o.Name);
        var config = new VeConfig
        {
            Name = o.Name,
            Type = VeType.VirtualMachine,
            Description = o.Description,
            Memory = new MemorySettings { MemorySize = o.MemorySize, GuaranteePercent = o.MemGuarantee.Percent },
            OnBoot = o.OnBoot,
            Cpu = new CpuSettings
            {
                Count = o.CpuCount, Units = o.CpuUnits, LimitPercent = o.CpuLimit > 0 ? o.CpuLimit : null, LimitMhz = o.CpuLimitMhz is > 0 ? o.CpuLimitMhz : null,
                Mask = o.CpuMask is { Length: > 0 } m && !m.Equals("all", StringComparison.OrdinalIgnoreCase)
                    ? CpuAffinity.Format(CpuAffinity.Parse(m, Environment.ProcessorCount, o.Name)) : null,
            },
            Vm = new VmSettings
            {
                Machine = o.Machine,
                Firmware = o.Firmware,
                MemHotplug = o.MemHotplug,
                MaxMemorySize = o.MemHotplug ? MemoryHotplug.MaxMemoryFor(o.MemorySize, MemInfo.Read().Total) : 0,
                // Stored as Set-VzVm stores them: null is the default (on), only an opt-out is written.
                AutoBalloon = o.AutoBalloon ? null : false,
                MemMerge = o.MemMerge ? null : false,
                NetworkMode = o.NetworkMode,
                Bridge = o.Bridge,
                MacAddress = MacAddresses.New(),
                KernelPath = kernel,
                InitrdPath = initrd,
                KernelArguments = o.KernelArguments,
            },
        };
        if (disk is not null && !o.ConvertDisk)
            config.Vm.Disks.Add(new VmDisk { Id = "disk0", Path = disk.Path, Format = disk.QemuFormat });
        else if (o.DiskSize > 0 || disk is not null)
            config.Vm.Disks.Add(new VmDisk { Id = "disk0", Path = "disk0.qcow2", Format = "qcow2" });
        if (iso is not null) config.Vm.DvdDrives.Add(new VmDvdDrive { Id = "cd0", IsoPath = iso.Path });

        var record = store.BeginCreate(config, cancellationToken);
        try
        {
            if (disk is not null && o.ConvertDisk)
                await images.ConvertAsync(disk.Path, Path.Combine(record.Directory, "disk0.qcow2"), onPercent: null, cancellationToken, disk.QemuFormat);
            else if (o.DiskPath is null && o.DiskSize > 0)
                await images.CreateAsync(Path.Combine(record.Directory, "disk0.qcow2"), o.DiskSize, cancellationToken);
            if (o.Firmware == VmFirmware.Efi) CopyEfiVars(RuntimePaths(config.Id));
            store.CompleteCreation(config.Id);
        }
        catch
        {
            // Bad input or a failed disk: nothing half-made stays behind.
            try { store.Remove(config.Id, CancellationToken.None); } catch (Exception ex) { logger.LogWarning("Could not remove the half-created VM {Id}: {Error}", config.Id, ex.Message); }
            throw;
        }
        logger.LogInformation("Created VM '{Name}' ({Id}).", config.Name, config.Id);
        return Describe(store.TryGet(config.Id)!);
    }

    private void Validate(VmCreateOptions o)
    {
        VeNames.Validate(o.Name);
        if (o.MemorySize < MinMemorySize)
            throw new VzInvalidArgumentException("VzInvalidMemorySize", $"A VM needs at least {MinMemorySize / (1024 * 1024)} MB of RAM; {o.MemorySize} bytes was given.", o.Name, "MemorySize");
        if (o.MemorySize % (1024 * 1024) != 0)
            throw new VzInvalidArgumentException("VzInvalidMemorySize", "The VM's RAM must be a whole number of MiB (for example 512MB).", o.Name, "MemorySize");
        Virtuozzo.Engine.Host.CpuCountRule.Validate(o.CpuCount, Environment.ProcessorCount, o.Name);
        o.MemGuarantee.Validate(o.Name);
        if (o.CpuUnits is < 8 or > 500000) throw new VzInvalidArgumentException("VzInvalidCpuUnits", "CpuUnits must be 8-500000.", o.Name, "CpuUnits");
        Cgroups.CpuLimit.Validate(o.CpuLimit, o.CpuLimitMhz, Environment.ProcessorCount,
            o.CpuLimitMhz is > 0 ? Host.CpuInfo.NominalMhz() : 0, o.Name);
        if (o.MemHotplug && o.MemorySize < MinHotplugMemorySize)
            throw new VzInvalidArgumentException("VzMemHotplugTooSmall", "Memory hotplug needs at least 1 GB of RAM (as in Virtuozzo 7).", o.Name, "MemHotplug")
            { RecommendedAction = "Give -MemorySize 1GB or more, or leave out -MemHotplug." };
        if (o.DiskPath is not null && o.DiskSize > 0)
            throw new VzInvalidArgumentException("VzConflictingDiskOptions", "Give -DiskSize for a new disk or -DiskPath for an existing one, not both.", o.Name, "DiskPath");
        if (o.DiskPath is null && o.DiskSize != 0) DiskSizes.Require(o.DiskSize, o.Name, "DiskSize");
        if (o.ConvertDisk && o.DiskPath is null)
            throw new VzInvalidArgumentException("VzConvertWithoutDiskPath", "-Convert converts the image given with -DiskPath.", o.Name, "Convert");
        if (o.InitrdPath is not null && o.KernelPath is null)
            throw new VzInvalidArgumentException("VzInitrdWithoutKernel", "-InitrdPath needs -KernelPath.", o.Name, "InitrdPath");
        if (o.NetworkMode == VmNetworkMode.Bridge && (o.Bridge is null || !Directory.Exists($"/sys/class/net/{o.Bridge}/bridge")))
            throw new VzInvalidArgumentException("VzBridgeNotFound", $"There is no bridge '{o.Bridge}' on this host.", o.Name, "Network")
            { RecommendedAction = "Create the bridge first (ip link add NAME type bridge), or use -Network User or None." };
        if (o.Machine is not ("q35" or "pc"))
            throw new VzInvalidArgumentException("VzInvalidMachine", "Machine must be q35 or pc.", o.Name, "Machine");
        if (o.Firmware == VmFirmware.Efi && (!File.Exists(QemuCommandLine.OvmfCode) || !File.Exists(QemuCommandLine.OvmfVarsTemplate)))
            throw new VzCapabilityMissingException("VzOvmfMissing", "UEFI firmware (OVMF) is not installed.", o.Name, "ovmf")
            { RecommendedAction = "apt-get install ovmf" };
        if (o.Firmware == VmFirmware.Efi && o.Machine != "q35")
            throw new VzInvalidArgumentException("VzEfiNeedsQ35", "EFI VMs use the q35 machine.", o.Name, "Firmware");
    }

    /// <summary>
    /// A disk or DVD image for this VM, through the disk path gate (which says what a path is when it is no
    /// image). With <paramref name="toConvert"/> it is only read, by the conversion into the VM's folder.
    /// </summary>
    private static DiskTarget GateDisk(string path, DiskUse use, string parameter, string name, bool toConvert = false)
    {
        RequireExisting(path, parameter);
        return DiskPathGate.Check(path, toConvert ? DiskUse.Read : use, parameterName: parameter);
    }

    /// <summary>A kernel or initrd: any regular file; a folder or a device is named as such.</summary>
    private static string GateFile(string path, string parameter, string name)
    {
        RequireExisting(path, parameter);
        return DiskPathGate.RequireRegularFile(path, parameter);
    }

    private static void RequireExisting(string path, string parameter)
    {
        if (FileNode.RealPath(Path.GetFullPath(path)) is null)
            throw new VzInvalidArgumentException("VzFileNotFound", $"The file '{path}' given with -{parameter} does not exist.", path, parameter);
    }

    private static void CopyEfiVars(VmRuntimePaths rt)
    {
        if (!File.Exists(rt.EfiVars)) File.Copy(QemuCommandLine.OvmfVarsTemplate, rt.EfiVars);
        File.SetUnixFileMode(rt.EfiVars, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public string ResolvePath(Guid id, string path) => Path.IsPathRooted(path) ? path : Path.Combine(paths.VeDirectory(id), path);
}
