using Virtuozzo.Engine.Native;
using Virtuozzo.Engine.Qemu.Console;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Enter-VzVm: the caller's terminal on the VM's serial console.</summary>
public sealed partial class VmService
{
    /// <summary>
    /// Attaches the running VM's serial console to <paramref name="output"/> and to <paramref name="input"/>, or,
    /// when that is null, to this process's terminal: fd 0 read directly (.NET's console stream would edit and echo
    /// whole lines) and put into raw mode for the session, restored after. Ends at the escape byte (Ctrl+]) or when
    /// the VM ends. <paramref name="attached"/> is called once the console is held, before any byte moves.
    /// </summary>
    public async Task<VmConsole.Ending> AttachConsoleAsync(Guid id, Stream? input, Stream output, Action? attached, CancellationToken ct)
    {
        var (rt, name) = Running(id);
        using var claim = VmConsole.Claim(rt, name);
        attached?.Invoke();
        using var raw = input is null ? TerminalRawMode.Enter() : null;
        await using var terminal = input is null ? new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1) : null;
        return await VmConsole.RunAsync(rt, name, input ?? terminal!, output, VmConsole.DefaultEscape, ct);
    }
}
