using Virtuozzo.Engine.Native;
using Virtuozzo.Engine.Qemu.Console;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Enter-VzVm: the caller's terminal on the VM's serial console.</summary>
public sealed partial class VmService
{
    /// <summary>
    /// Attaches <paramref name="input"/>/<paramref name="output"/> to the running VM's serial console until the
    /// escape byte (Ctrl+]) or the VM ends; <paramref name="rawTerminal"/> puts the terminal on fd 0 into raw mode
    /// for the session (restored after). <paramref name="attached"/> is called once the console is held and
    /// connected, before any byte moves (the cmdlet says how to leave).
    /// </summary>
    public async Task<VmConsole.Ending> AttachConsoleAsync(Guid id, Stream input, Stream output, bool rawTerminal, Action? attached, CancellationToken ct)
    {
        var (rt, name) = Running(id);
        using var claim = VmConsole.Claim(rt, name);
        attached?.Invoke();
        using var raw = rawTerminal ? TerminalRawMode.Enter() : null;
        return await VmConsole.RunAsync(rt, name, input, output, VmConsole.DefaultEscape, ct);
    }
}
