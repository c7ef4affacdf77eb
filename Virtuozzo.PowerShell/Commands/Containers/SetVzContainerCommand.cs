using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes a container's resources, hostname, DNS and addresses; live on a running container (prlctl set).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class SetVzContainerCommand : ContainerCmdlet
{
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
    [Parameter] public bool? OnBoot { get; set; }
    [Parameter] public string? Description { get; set; }
    [Parameter] public long? DiskSize { get; set; }
    /// <summary>OnBoot containers start in ascending BootOrder when the host service starts.</summary>
    [Parameter][ValidateRange(0, VeAutomationChanges.MaxBootOrder)] public int? BootOrder { get; set; }
    /// <summary>Seconds the host service waits before starting this container at boot.</summary>
    [Parameter][ValidateRange(0, VeAutomationChanges.MaxBootDelay)] public int? BootDelay { get; set; }
    /// <summary>What the host service does with the running container when it stops: None, Stop or Suspend (freeze).</summary>
    [Parameter] public VeAutoStop? AutoStop { get; set; }
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        var changes = ContainerSettingsParameters.From(this, MemorySize, SwapSize, MemGuarantee, CpuCount, CpuUnits, CpuLimit, CpuLimitMhz,
            CpuMask, PidsLimit, Hostname, Nameserver, IpAddress, NetworkMode, Bridge, Gateway, OnBoot, Description, DiskSize);
        var automation = new VeAutomationChanges { BootOrder = BootOrder, BootDelay = BootDelay, AutoStop = AutoStop };
        if ((changes.IsEmpty && automation.IsEmpty) || !ShouldProcess(record.DisplayName, "Change container settings")) return;
        var engine = Engine;
        if (!automation.IsEmpty) Run(() => automation.ApplyTo(engine.Store, record.Id, record.DisplayName));
        var info = changes.IsEmpty ? Run(() => engine.Containers.Describe(record.Id)) : Run(ct => engine.Containers.SetAsync(record.Id, changes, ct));
        if (PassThru) WriteObject(info);
    }
}
