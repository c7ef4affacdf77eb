using System.Management.Automation;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Writes the systemd unit of the Virtuozzo host service and, where systemd runs, enables and starts it.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Install, "VzHostService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HostServiceUnit))]
public sealed class InstallVzHostServiceCommand : HostServiceCmdlet
{
    /// <summary>Where to write the unit; default /etc/systemd/system/vz-hostservice.service. A custom path is written only, never enabled.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var engine = Engine;
            var control = engine.HostService;
            var path = Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path);
            var target = path ?? System.IO.Path.Combine(SystemdUnit.DefaultDirectory, SystemdUnit.DefaultUnitName);
            if (!ShouldProcess(target, "Write the host service's systemd unit")) return;
            var launcher = Launcher();
            var unit = Run(ct => control.InstallAsync(launcher, path, ct));
            if (!unit.Enabled)
                WriteWarning(unit.SystemdRunning
                    ? $"The unit was written to {unit.Path} but not enabled (a custom path). Enable it with: {unit.StartCommand}"
                    : $"systemd does not run on this host: the unit was written to {unit.Path} for later. Start the service with: {unit.StartCommand}");
            WriteObject(unit);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "hostservice"); }
        finally { base.EndProcessing(); }
    }
}
