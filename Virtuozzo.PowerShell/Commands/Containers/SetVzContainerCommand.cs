using Virtuozzo.Commands.Completion;
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
    /// <summary>The seccomp filter from the next start on: Default, Unconfined, or the absolute path of an OCI seccomp profile JSON file.</summary>
    [Parameter][ArgumentCompleter(typeof(SeccompProfileCompleter))] public string? SeccompProfile { get; set; }
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        var changes = ContainerSettingsParameters.From(this, MemorySize, SwapSize, MemGuarantee, CpuCount, CpuUnits, CpuLimit, CpuLimitMhz,
            CpuMask, PidsLimit, Hostname, Nameserver, IpAddress, NetworkMode, Bridge, Gateway, OnBoot, Description, DiskSize, seccompProfile: SeccompProfile);
        if (changes.IsEmpty || !ShouldProcess(record.DisplayName, "Change container settings")) return;
        var engine = Engine;
        var info = Run(ct => engine.Containers.SetAsync(record.Id, changes, ct));
        if (PassThru) WriteObject(info);
    }
}
