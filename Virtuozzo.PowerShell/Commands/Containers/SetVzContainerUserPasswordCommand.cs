using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Sets a user's password in a running container (prlctl set --userpasswd); any characters, never on a command line or in a log.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzContainerUserPassword", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class SetVzContainerUserPasswordCommand : ContainerCmdlet, IDynamicParameters
{
    private readonly UserPasswordParameters password = new();

    /// <summary>UserName, Password, Timeout, PassThru (<see cref="UserPasswordParameters"/>).</summary>
    public object GetDynamicParameters() => password;

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Set the password of user '{password.UserName}'")) return;
        var engine = Engine;
        Run(ct => engine.Containers.SetUserPasswordAsync(record.Id, password.UserName, password.Password, password.TimeoutSpan, ct));
        if (password.PassThru) WriteObject(engine.Containers.Describe(record.Id));
    }
}
