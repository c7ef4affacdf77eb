using System.Management.Automation;
using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Stops sharing a host folder with a VE (the folder and its files stay); a running VE keeps it until it stops.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzSharedFolder", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(SharedFolderInfo))]
public sealed class RemoveVzSharedFolderCommand : SharedFolderCmdlet
{
    /// <summary>The VE's name; wildcards allowed.</summary>
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.VeNameCompleter))]
    [SupportsWildcards]
    public string[]? VeName { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public Guid[]? VeId { get; set; }

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var ve in SelectVes(VeName, VeId))
        {
            ForItem(ve.DisplayName, () =>
            {
                if (!ShouldProcess(ve.DisplayName, $"Stop sharing the folder '{Name}'")) return;
                var engine = Engine;
                var info = Run(ct => engine.SharedFolders.RemoveAsync(ve.Id, Name, ct));
                if (PassThru) WriteObject(info);
            });
        }
    }
}
