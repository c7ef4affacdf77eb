using System.Management.Automation;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Stops the Virtuozzo host service of this data root (after it applies each VE's AutoStop).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "VzHostService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HostServiceInfo))]
public sealed class StopVzHostServiceCommand : HostServiceCmdlet
{
    /// <summary>Seconds to wait for the service to finish AutoStop and exit.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 300;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var engine = Engine;
            var control = engine.HostService;
            if (ShouldProcess(engine.Paths.DataRoot, "Stop the host service"))
            {
                var stopped = Run(ct => control.StopAsync(TimeSpan.FromSeconds(Timeout), ct));
                if (!stopped) WriteVerbose($"The host service for {engine.Paths.DataRoot} was not running.");
            }
            if (PassThru) WriteObject(Run(() => control.Get()));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "hostservice"); }
        finally { base.EndProcessing(); }
    }
}
