using System.Management.Automation;
using System.Security;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Sets a user's password in a running container (prlctl set --userpasswd); any characters, never on a command line or in a log.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzContainerUserPassword", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class SetVzContainerUserPasswordCommand : ContainerCmdlet
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string UserName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 2)]
    public SecureString Password { get; set; } = new();

    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 30;

    /// <summary>Return the container.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Set the password of user '{UserName}'")) return;
        var engine = Engine;
        Run(ct => engine.Containers.SetUserPasswordAsync(record.Id, UserName, Password, TimeSpan.FromSeconds(Timeout), ct));
        if (PassThru) WriteObject(engine.Containers.Describe(record.Id));
    }
}
