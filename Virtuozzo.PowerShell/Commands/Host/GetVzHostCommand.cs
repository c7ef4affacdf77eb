using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Shows what this host can do: CPUs, memory, cgroups, KVM or TCG, QEMU, OCI runtimes, CRIU, KSM.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzHost")]
[OutputType(typeof(HostInfo))]
public sealed class GetVzHostCommand : VzCmdlet
{
    /// <summary>Probe again instead of using the cached capabilities (after installing packages, say).</summary>
    [Parameter]
    public SwitchParameter Refresh { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var engine = Engine;
            WriteObject(Run(ct => engine.Host.GetAsync(Refresh.IsPresent, ct)));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "localhost"); }
        finally { base.EndProcessing(); }
    }
}
