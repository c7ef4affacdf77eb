using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Ksm;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Shows kernel same-page merging (KSM): whether it runs, its scan rate and how much memory it saves.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzKsm")]
[OutputType(typeof(KsmStatus))]
public sealed class GetVzKsmCommand : VzCmdlet
{
    protected override void EndProcessing()
    {
        try
        {
            var engine = Engine;
            WriteObject(Run(() => engine.Ksm.Read()));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "ksm"); }
        finally { base.EndProcessing(); }
    }
}
