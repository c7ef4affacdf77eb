using System.Management.Automation;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Shows whether the Virtuozzo host service of this data root runs, since when, and what it decided last.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzHostService")]
[OutputType(typeof(HostServiceInfo))]
public sealed class GetVzHostServiceCommand : HostServiceCmdlet
{
    protected override void EndProcessing()
    {
        try
        {
            var control = Engine.HostService;
            WriteObject(Run(() => control.Get()));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "hostservice"); }
        finally { base.EndProcessing(); }
    }
}
