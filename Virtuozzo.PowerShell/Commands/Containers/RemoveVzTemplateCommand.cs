using Virtuozzo.Commands.Completion;
using System.Management.Automation;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Deletes a cached OS template (containers made from it keep their own copy).</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzTemplate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(Virtuozzo.Engine.Containers.Templates.TemplateInfo))]
public sealed class RemoveVzTemplateCommand : Infrastructure.VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TemplateNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Remove without asking for confirmation.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>Return the removed template.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        foreach (var n in Name)
            ForItem(n, () =>
            {
                if (!ShouldProcessUnlessForced(Force, n, "Remove template")) return;
                var before = PassThru ? engine.Containers.Templates.List().FirstOrDefault(t => string.Equals(t.Name, n, StringComparison.OrdinalIgnoreCase)) : null;
                Run(() => { engine.Containers.Templates.Remove(n); return true; });
                if (before is not null) WriteObject(before);
            });
    }
}
