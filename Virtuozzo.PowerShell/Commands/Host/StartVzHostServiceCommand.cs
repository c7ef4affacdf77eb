using System.Management.Automation;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Starts the Virtuozzo host service for this data root: in this terminal until Ctrl+C, or in the background.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "VzHostService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HostServiceInfo))]
public sealed class StartVzHostServiceCommand : HostServiceCmdlet
{
    /// <summary>Start it detached (own session, log in the run folder) and return once it runs.</summary>
    [Parameter]
    public SwitchParameter Background { get; set; }

    /// <summary>Seconds to wait for a background start to report, or for the service to stop after Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 60;

    /// <summary>With -Background: return the running service's state.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var engine = Engine;
            var control = engine.HostService;
            if (!ShouldProcess(engine.Paths.DataRoot, Background ? "Start the host service in the background" : "Run the host service until Ctrl+C")) return;
            var launcher = Launcher();
            if (Background)
            {
                var info = Run(ct => control.StartBackgroundAsync(launcher, TimeSpan.FromSeconds(Timeout), ct));
                if (PassThru) WriteObject(info);
                return;
            }
            WriteVerbose($"Running {launcher.Program} {string.Join(' ', launcher.Arguments)}; Ctrl+C stops it.");
            var code = Run(ct => control.RunForegroundAsync(launcher, TimeSpan.FromSeconds(Math.Max(Timeout, 300)), ct));
            if (code is not (0 or 130 or 143))
                ThrowVzError(new VzInvalidStateException("VzHostServiceFailed", $"The host service exited with code {code}.", "hostservice")
                { RecommendedAction = "Read its output above; Get-VzHostService shows its last decisions." }, "hostservice");
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "hostservice"); }
        finally { base.EndProcessing(); }
    }
}
