using System.Management.Automation;
using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Shares a host folder with a container (bind mount) or a VM (virtio-fs, or 9p); attached at the VE's next start.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "VzSharedFolder", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(SharedFolderInfo))]
public sealed class AddVzSharedFolderCommand : SharedFolderCmdlet
{
    /// <summary>The VE's name; wildcards allowed.</summary>
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.VeNameCompleter))]
    [SupportsWildcards]
    public string[]? VeName { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public Guid[]? VeId { get; set; }

    /// <summary>The host folder; a relative path is taken from the current folder.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The share's name (a VM's mount tag).</summary>
    [Parameter(Mandatory = true, Position = 2)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter]
    public string? GuestPath { get; set; }

    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    [Parameter]
    public SharedFolderTransport Transport { get; set; } = SharedFolderTransport.Auto;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        // Not resolved through the provider: that would fold '..' away, and the engine refuses '..' on purpose.
        var path = System.IO.Path.IsPathRooted(Path) ? Path : System.IO.Path.Join(SessionState.Path.CurrentFileSystemLocation.ProviderPath, Path);
        foreach (var ve in SelectVes(VeName, VeId))
        {
            ForItem(ve.DisplayName, () =>
            {
                if (!ShouldProcess(ve.DisplayName, $"Share the host folder '{path}' as '{Name}'{(ReadOnly ? " (read-only)" : "")}")) return;
                var engine = Engine;
                var info = Run(ct => engine.SharedFolders.AddAsync(ve.Id, Name, path, GuestPath, ReadOnly, Transport, ct));
                if (PassThru) WriteObject(info);
            });
        }
    }
}
