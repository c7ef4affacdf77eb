using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates a virtual machine: RAM, vCPUs, a qcow2 disk or an existing image, ISO, BIOS or EFI, network.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "VzVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "NewDisk")]
[OutputType(typeof(VmInfo))]
public sealed class NewVzVmCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter]
    [ValidateRange(32L * 1024 * 1024, 16L * 1024 * 1024 * 1024 * 1024)]
    public long MemorySize { get; set; } = 1024L * 1024 * 1024;

    [Parameter]
    [ValidateRange(1, 255)]
    public int CpuCount { get; set; } = 1;

    [Parameter(ParameterSetName = "NewDisk")]
    [ValidateRange(1024L * 1024, long.MaxValue)]
    public long DiskSize { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "ExistingDisk")]
    [ValidateNotNullOrEmpty]
    public string DiskPath { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IsoPath { get; set; }

    [Parameter]
    public VmFirmware Firmware { get; set; } = VmFirmware.Bios;

    /// <summary>0-100 (percent of MemorySize) or Auto (the VM default, 40 %).</summary>
    [Parameter]
    [ValidatePattern(@"^(Auto|\d{1,3})$")]
    public string MemGuarantee { get; set; } = "Auto";

    [Parameter]
    public SwitchParameter MemHotplug { get; set; }

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

    [Parameter]
    public string? Description { get; set; }

    protected override void ProcessRecord()
    {
        ForItem(Name, () =>
        {
            if (!ShouldProcess(Name, "Create virtual machine")) return;
            int? guarantee = null;
            if (!MemGuarantee.Equals("Auto", StringComparison.OrdinalIgnoreCase))
            {
                guarantee = int.Parse(MemGuarantee, System.Globalization.CultureInfo.InvariantCulture);
                if (guarantee > 100) throw new VzInvalidArgumentException("VzInvalidMemGuarantee", "MemGuarantee must be 0-100 or Auto.", Name, "MemGuarantee");
            }
            var (mode, bridge) = Network.ToLowerInvariant() switch
            {
                "none" => (VmNetworkMode.None, (string?)null),
                "user" => (VmNetworkMode.User, null),
                _ => (VmNetworkMode.Bridge, Network),
            };
            var options = new VmCreateOptions
            {
                Name = Name,
                MemorySize = MemorySize,
                CpuCount = CpuCount,
                DiskSize = DiskSize,
                DiskPath = ParameterSetName == "ExistingDisk" ? Resolve(DiskPath) : null,
                IsoPath = Resolve(IsoPath),
                Firmware = Firmware,
                MemGuaranteePercent = guarantee,
                MemHotplug = MemHotplug,
                NetworkMode = mode,
                Bridge = bridge,
                KernelPath = Resolve(KernelPath),
                InitrdPath = Resolve(InitrdPath),
                KernelArguments = KernelArguments,
                Machine = Machine,
                Description = Description,
            };
            var engine = Engine;
            WriteObject(Run(ct => engine.Vms.CreateAsync(options, ct)));
        });
    }

    private string? Resolve(string? path) => path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
