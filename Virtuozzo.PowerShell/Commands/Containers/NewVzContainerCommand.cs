using Virtuozzo.Commands.Completion;
using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates a system container from an OS template (prlctl create --vmtype ct).</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "VzContainer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ContainerInfo))]
public sealed class NewVzContainerCommand : VzCmdlet
{
    /// <summary>The container's name (letters, digits, '.', '_', '-'). Checked by the engine, so an empty name is its typed error too.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string Name { get; set; } = "";

    /// <summary>OS template name (busybox is built on first use).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TemplateNameCompleter))]
    public string Template { get; set; } = "busybox";

    [Parameter] public long? MemorySize { get; set; }
    [Parameter] public long? SwapSize { get; set; }
    [Parameter][ValidateRange(0, 100)] public int? MemGuarantee { get; set; }
    [Parameter][ValidateRange(1, 4096)] public int? CpuCount { get; set; }
    [Parameter][ValidateRange(8, 500000)] public int? CpuUnits { get; set; }
    [Parameter][ValidateRange(0, 409600)] public int? CpuLimit { get; set; }
    [Parameter][ValidateRange(0, int.MaxValue)] public int? CpuLimitMhz { get; set; }
    [Parameter][ValidateNotNullOrEmpty] public string? CpuMask { get; set; }
    [Parameter] public long? PidsLimit { get; set; }
    [Parameter][ValidateNotNullOrEmpty] public string? Hostname { get; set; }
    [Parameter] public string[]? Nameserver { get; set; }
    [Parameter] public string[]? IpAddress { get; set; }
    [Parameter] public NetworkMode? NetworkMode { get; set; }
    [Parameter][ValidateNotNullOrEmpty] public string? Bridge { get; set; }
    [Parameter] public string? Gateway { get; set; }
    [Parameter] public SwitchParameter OnBoot { get; set; }
    [Parameter] public string? Description { get; set; }
    [Parameter] public ContainerLayout? Layout { get; set; }
    [Parameter] public long? DiskSize { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            if (!ShouldProcess(Name, $"Create container from template '{Template}'")) return;
            var changes = ContainerSettingsParameters.From(this, MemorySize, SwapSize, MemGuarantee, CpuCount, CpuUnits, CpuLimit, CpuLimitMhz,
                CpuMask, PidsLimit, Hostname, Nameserver, IpAddress, NetworkMode, Bridge, Gateway, OnBoot.IsPresent ? true : null, Description, DiskSize, Layout);
            var engine = Engine;
            var progress = Progress;
            WriteObject(Run(ct => engine.Containers.CreateAsync(Name, Template, changes, progress, ct)));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, Name); }
    }
}
