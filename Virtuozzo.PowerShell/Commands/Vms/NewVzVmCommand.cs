using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates a virtual machine: RAM, vCPUs, a qcow2 disk or an existing image, ISO, BIOS or EFI, network.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "VzVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "NewDisk")]
[OutputType(typeof(VmInfo))]
public sealed class NewVzVmCommand : VzCmdlet, IDynamicParameters
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";


    [Parameter(ParameterSetName = "NewDisk")]
    [ValidateRange(Virtuozzo.Engine.Disks.DiskSizes.Minimum, long.MaxValue)]
    public long DiskSize { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "ExistingDisk")]
    [ValidateNotNullOrEmpty]
    public string DiskPath { get; set; } = "";

    /// <summary>Convert -DiskPath (any format qemu-img reads) into a qcow2 disk in the VM's folder instead of attaching it in place.</summary>
    [Parameter(ParameterSetName = "ExistingDisk")]
    public SwitchParameter Convert { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IsoPath { get; set; }

    [Parameter]
    public VmFirmware Firmware { get; set; } = VmFirmware.Bios;


    [Parameter]
    public SwitchParameter MemHotplug { get; set; }

    /// <summary>Whether QEMU offers the guest's RAM to KSM (default on); the same setting as Set-VzVm -MemMerge.</summary>
    [Parameter]
    public bool? MemMerge { get; set; }

    /// <summary>Whether the host service's memory manager balloons this VM (default on); the same setting as Set-VzVm -AutoBalloon.</summary>
    [Parameter]
    public bool? AutoBalloon { get; set; }

    /// <summary>None, User (QEMU user-mode networking) or the name of a host bridge.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Network { get; set; } = "None";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KernelPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? InitrdPath { get; set; }

    [Parameter]
    public string? KernelArguments { get; set; }

    [Parameter]
    [ValidateSet("q35", "pc")]
    public string Machine { get; set; } = "q35";

    private readonly VmSettingsParameters settings = new();

    /// <summary>The settings shared with Set-VzVm (<see cref="VmSettingsParameters"/>): MemorySize (default 1 GB), CpuCount (default 1), MemGuarantee (default Auto), CpuUnits, CpuLimit, CpuLimitMhz, CpuMask, OnBoot, Description.</summary>
    public object GetDynamicParameters() => settings;

    protected override void ProcessRecord()
    {
        ForItem(Name, () =>
        {
            if (!ShouldProcess(Name, "Create virtual machine")) return;
            var (mode, bridge) = Network.ToLowerInvariant() switch
            {
                "none" => (VmNetworkMode.None, (string?)null),
                "user" => (VmNetworkMode.User, null),
                _ => (VmNetworkMode.Bridge, Network),
            };
            var options = new VmCreateOptions
            {
                Name = Name,
                MemorySize = settings.MemorySize ?? 1024L * 1024 * 1024,
                CpuCount = settings.CpuCount ?? 1,
                CpuUnits = settings.CpuUnits ?? 1000,
                CpuLimit = settings.CpuLimit ?? 0,
                CpuLimitMhz = settings.CpuLimitMhz,
                CpuMask = settings.CpuMask,
                OnBoot = settings.OnBoot ?? false,
                DiskSize = DiskSize,
                DiskPath = ParameterSetName == "ExistingDisk" ? Resolve(DiskPath) : null,
                ConvertDisk = Convert,
                IsoPath = Resolve(IsoPath),
                Firmware = Firmware,
                MemGuarantee = settings.MemGuarantee ?? MemGuarantee.Auto,
                MemHotplug = MemHotplug,
                MemMerge = MemMerge ?? true,
                AutoBalloon = AutoBalloon ?? true,
                NetworkMode = mode,
                Bridge = bridge,
                KernelPath = Resolve(KernelPath),
                InitrdPath = Resolve(InitrdPath),
                KernelArguments = KernelArguments,
                Machine = Machine,
                Description = settings.Description,
            };
            var engine = Engine;
            WriteObject(Run(ct => engine.Vms.CreateAsync(options, ct)));
        });
    }

    private string? Resolve(string? path) => path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
