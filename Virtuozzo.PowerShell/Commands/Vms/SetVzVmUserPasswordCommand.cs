using System.Management.Automation;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Sets a guest user's password through the guest agent (any Unicode; never logged).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzVmUserPassword", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(Virtuozzo.Engine.Qemu.VmInfo))]
public sealed class SetVzVmUserPasswordCommand : VzVmCmdlet, IDynamicParameters
{
    private readonly UserPasswordParameters password = new();

    /// <summary>UserName, Password, Timeout, PassThru (<see cref="UserPasswordParameters"/>).</summary>
    public object GetDynamicParameters() => password;

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Set the password of guest user '{password.UserName}'")) return;
        var engine = Engine;
        Run(ct => engine.Vms.Guest.SetUserPasswordAsync(record.Id, password.UserName, password.Password, password.TimeoutSpan, ct));
        if (password.PassThru) WriteObject(Describe(record.Id));
    }
}
