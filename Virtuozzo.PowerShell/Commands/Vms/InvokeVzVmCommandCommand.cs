using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Runs a program in a virtual machine through the guest agent and returns its exit code and output.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "VzVmCommand", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(GuestExecResult))]
public sealed class InvokeVzVmCommandCommand : VzVmCmdlet
{
    /// <summary>The program (looked up in the guest's PATH).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Command { get; set; } = "";

    /// <summary>
    /// Arguments, passed as they are (no shell). A list, not the rest of the command line, so the same names as
    /// Invoke-VzContainerCommand and a misspelt parameter is a binding error instead of a guest argument.
    /// </summary>
    [Parameter(Position = 2)]
    public string[] ArgumentList { get; set; } = [];

    /// <summary>Text for the program's standard input.</summary>
    [Parameter]
    [Alias("StandardInput")]
    public string? InputString { get; set; }

    /// <summary>Seconds for the whole call: reaching the agent and the program's run.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int Timeout { get; set; } = 60;

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Run '{Command}' in the guest")) return;
        var engine = Engine;
        var args = ArgumentList;
        WriteObject(Run(ct => engine.Vms.Guest.ExecAsync(record.Id, Command, args, InputString, TimeSpan.FromSeconds(Timeout), ct)));
    }
}
