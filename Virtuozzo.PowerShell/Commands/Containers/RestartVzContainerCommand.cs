using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Stops containers gracefully and starts them again.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class RestartVzContainerCommand : ContainerCmdlet
{
    /// <summary>Seconds to wait for a clean shutdown before the container is killed.</summary>
    [Parameter][ValidateRange(1, 3600)] public int Timeout { get; set; } = 30;

    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Restart container")) return;
        var engine = Engine;
        var progress = Progress;
        var info = Run(ct => engine.Containers.RestartAsync(record.Id, TimeSpan.FromSeconds(Timeout), progress, ct));
        if (PassThru) WriteObject(info);
    }
}
