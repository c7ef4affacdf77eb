using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes host-wide Virtuozzo settings: the data root and the OCI runtime containers use.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzHost", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HostInfo))]
public sealed class SetVzHostCommand : VzCmdlet
{
    /// <summary>Folder that holds VEs and templates (default /vz).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DataRoot { get; set; }

    /// <summary>OCI runtime to use for containers; Auto lets the probe pick one that works.</summary>
    [Parameter]
    [ValidateSet("Auto", "crun", "runc")]
    public string? ContainerRuntime { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var change = string.Join(", ", new[] { DataRoot is null ? null : $"data root '{DataRoot}'", ContainerRuntime is null ? null : $"container runtime {ContainerRuntime}" }.Where(s => s is not null));
            if (change.Length == 0 || !ShouldProcess("localhost", $"Set {change}")) return;
            var dataRoot = DataRoot is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(DataRoot);
            Run(() => { HostSettingsEditor.Apply(dataRoot, ContainerRuntime); return true; });
            if (PassThru) { var engine = Engine; WriteObject(Run(ct => engine.Host.GetAsync(false, ct))); }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "localhost"); }
        finally { base.EndProcessing(); }
    }
}
