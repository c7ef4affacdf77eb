using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes a container's resources, hostname, DNS and addresses; live on a running container (prlctl set).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class SetVzContainerCommand : ContainerCmdlet, IDynamicParameters
{
    private readonly ContainerSettingsParameters settings = new();

    /// <summary>OnBoot containers start in ascending BootOrder when the host service starts.</summary>
    [Parameter][ValidateRange(0, VeAutomationChanges.MaxBootOrder)] public int? BootOrder { get; set; }
    /// <summary>Seconds the host service waits before starting this container at boot.</summary>
    [Parameter][ValidateRange(0, VeAutomationChanges.MaxBootDelay)] public int? BootDelay { get; set; }
    /// <summary>What the host service does with the running container when it stops: None, Stop or Suspend (freeze).</summary>
    [Parameter] public VeAutoStop? AutoStop { get; set; }
    /// <summary>Offer the container's memory to KSM (PR_SET_MEMORY_MERGE on its init; Linux 6.7+). Applies at the next start.</summary>
    [Parameter] public bool? MemMerge { get; set; }

    [Parameter] public SwitchParameter PassThru { get; set; }

    /// <summary>The settings shared with New-VzContainer (<see cref="ContainerSettingsParameters"/>).</summary>
    public object GetDynamicParameters() => settings;

    protected override void ProcessContainer(VeRecord record)
    {
        var changes = settings.ToChanges();
        var automation = new VeAutomationChanges { BootOrder = BootOrder, BootDelay = BootDelay, AutoStop = AutoStop, MemMerge = MemMerge };
        if ((changes.IsEmpty && automation.IsEmpty) || !ShouldProcess(record.DisplayName, "Change container settings")) return;
        var engine = Engine;
        if (MemMerge == true) Run(ct => engine.Containers.ProcessMerge.EnsureSupportedAsync(record.DisplayName, ct)); // refused: nothing stored
        if (MemMerge is not null && Run(() => engine.Containers.Describe(record.Id)).StateValue != ContainerState.Stopped)
            WriteWarning($"{record.DisplayName}: MemMerge applies at the next start of the container.");
        if (!automation.IsEmpty) Run(() => automation.ApplyTo(engine.Store, record.Id, record.DisplayName));
        var info = changes.IsEmpty ? Run(() => engine.Containers.Describe(record.Id)) : Run(ct => engine.Containers.SetAsync(record.Id, changes, ct));
        if (PassThru) WriteObject(info);
    }
}
