using System.Management.Automation;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Attaches the terminal to a virtual machine's serial console (Ctrl+] leaves), or with -Agent opens a line shell through the guest agent.</para>
/// </summary>
[Cmdlet(VerbsCommon.Enter, "VzVm", DefaultParameterSetName = NameSet)]
[OutputType(typeof(void))]
public sealed class EnterVzVmCommand : VzVmCmdlet
{
    /// <summary>A shell through the guest agent instead of the serial console (one command per line).</summary>
    [Parameter]
    public SwitchParameter Agent { get; set; }

    /// <summary>With -Agent: the guest's shell that runs each line.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Shell { get; set; } = "/bin/sh";

    /// <summary>With -Agent: seconds each command may run.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int Timeout { get; set; } = 300;

    protected override void ProcessVm(VeRecord record)
    {
        if (Agent) { AgentShell(record); return; }
        var engine = Engine;
        var name = record.DisplayName;
        var ending = Run(ct => engine.Vms.AttachConsoleAsync(record.Id, input: null, global::System.Console.OpenStandardOutput(),
            () => global::System.Console.Out.Write($"Connected to the serial console of '{name}'. Escape character is ^] (Ctrl+]).\r\n"), ct));
        Host.UI.WriteLine();
        Host.UI.WriteLine(ending == Virtuozzo.Engine.Qemu.Console.VmConsole.Ending.ConsoleClosed
            ? $"The console of '{name}' closed (the VM stopped)." : $"Detached from the serial console of '{name}'.");
    }

    private void AgentShell(VeRecord record)
    {
        var engine = Engine;
        Host.UI.WriteLine($"Connected to '{record.DisplayName}' through its guest agent. Each line runs in '{Shell} -c'; 'exit' leaves.");
        var cwd = "/";
        while (true)
        {
            Host.UI.Write($"[{record.DisplayName}] {cwd} # ");
            var line = Host.UI.ReadLine();
            if (line is null || line.Trim() is "exit" or "logout") break;
            if (line.Trim().Length == 0) continue;
            // Each line is its own process: keep the working directory across lines the way a shell would.
            var script = $"cd '{cwd.Replace("'", "'\\''")}' 2>/dev/null; {line}\n__vz_rc=$?; printf '\\n\\036%s' \"$(pwd)\" >&2; exit $__vz_rc";
            var result = Run(ct => engine.Vms.Guest.ExecAsync(record.Id, Shell, ["-c", script], null, TimeSpan.FromSeconds(Timeout), ct));
            var err = result.StdErr;
            var marker = err.LastIndexOf("\n\u001e", StringComparison.Ordinal);
            if (marker >= 0) { cwd = err[(marker + 2)..]; err = err[..marker]; }
            if (result.StdOut.Length > 0) Host.UI.Write(result.StdOut);
            if (err.Length > 0) Host.UI.Write(ConsoleColor.Red, Host.UI.RawUI.BackgroundColor, err.EndsWith('\n') ? err : err + "\n");
            if (result.ExitCode != 0) Host.UI.WriteLine($"(exit code {result.ExitCode})");
        }
    }
}
