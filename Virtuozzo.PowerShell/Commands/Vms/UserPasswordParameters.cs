using System.Management.Automation;
using System.Security;

namespace Virtuozzo.Commands;

/// <summary>
/// The parameters of Set-VzVmUserPassword and Set-VzContainerUserPassword (prlctl set --userpasswd serves both
/// kinds), declared once and handed to PowerShell as each cmdlet's dynamic parameters.
/// </summary>
public sealed class UserPasswordParameters
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string UserName { get; set; } = "";

    /// <summary>Any characters; kept as a SecureString until it is written into the guest, never on a command line.</summary>
    [Parameter(Mandatory = true, Position = 2)]
    public SecureString Password { get; set; } = new();

    /// <summary>Seconds to wait for the guest (agent or container) to apply it.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 30;

    /// <summary>Return the VE.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    public TimeSpan TimeoutSpan => TimeSpan.FromSeconds(Timeout);
}
