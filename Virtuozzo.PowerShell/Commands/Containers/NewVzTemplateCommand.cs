using System.Management.Automation;
using Virtuozzo.Engine.Containers.Templates;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Builds an OS template: busybox from the host's static busybox, or Debian 12 with debootstrap.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "VzTemplate", SupportsShouldProcess = true)]
[OutputType(typeof(TemplateInfo))]
public sealed class NewVzTemplateCommand : Infrastructure.VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>How to build it; defaults from the name (busybox, debian-12).</summary>
    [Parameter] public TemplateKind? Kind { get; set; }

    /// <summary>Rebuild a template that already exists.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>Run in the background: returns a job whose output is what the cmdlet would write.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var kind = Kind ?? (TemplateStore.WellKnown.TryGetValue(Name, out var k) ? k
                : throw new Engine.Errors.VzInvalidArgumentException("VzTemplateKindRequired", $"'{Name}' is not a well-known template; say how to build it.", Name, "Kind")
                { RecommendedAction = "Add -Kind Busybox or -Kind Debian." });
            if (!ShouldProcess(Name, $"Build {kind} template")) return;
            var engine = Engine;
            var (name, force) = (Name, Force.IsPresent);
            RunOrStartJob(AsJob, $"New-VzTemplate {name}", (progress, ct) => engine.Containers.Templates.NewAsync(name, kind, force, progress, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, Name); }
    }
}
