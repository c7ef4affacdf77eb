using Virtuozzo.Commands.Completion;
using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates a system container from an OS template (prlctl create --vmtype ct).</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "VzContainer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ContainerInfo))]
public sealed class NewVzContainerCommand : VzCmdlet, IDynamicParameters
{
    /// <summary>The container's name (letters, digits, '.', '_', '-'). Checked by the engine, so an empty name is its typed error too.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string Name { get; set; } = "";

    /// <summary>OS template name (busybox is built on first use).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TemplateNameCompleter))]
    public string Template { get; set; } = "busybox";

    /// <summary>Directory (a folder) or Image (an XFS image file of -DiskSize); fixed at creation.</summary>
    [Parameter] public ContainerLayout? Layout { get; set; }

    private readonly ContainerSettingsParameters settings = new();

    /// <summary>The settings shared with Set-VzContainer (<see cref="ContainerSettingsParameters"/>).</summary>
    public object GetDynamicParameters() => settings;

    /// <summary>Each name is one item (names can come down the pipeline): a bad one is a non-terminating error, as for New-VzVm.</summary>
    protected override void ProcessRecord() => ForItem(Name, () =>
        {
            if (!ShouldProcess(Name, $"Create container from template '{Template}'")) return;
            var changes = settings.ToChanges(Layout);
            var engine = Engine;
            var progress = Progress;
            WriteObject(Run(ct => engine.Containers.CreateAsync(Name, Template, changes, progress, ct)));
        });
}
