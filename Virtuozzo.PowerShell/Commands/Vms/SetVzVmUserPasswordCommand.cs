using System.Management.Automation;
using System.Security;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Sets a guest user's password through the guest agent (any Unicode; never logged).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzVmUserPassword", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(Virtuozzo.Engine.Qemu.VmInfo))]
public sealed class SetVzVmUserPasswordCommand : VzVmCmdlet
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string UserName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 2)]
    public SecureString Password { get; set; } = new();

    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 30;

    /// <summary>Return the VM.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Set the password of guest user '{UserName}'")) return;
        var engine = Engine;
        Run(ct => engine.Vms.Guest.SetUserPasswordAsync(record.Id, UserName, Password, TimeSpan.FromSeconds(Timeout), ct));
        if (PassThru) WriteObject(Describe(record.Id));
    }
}
