using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Host;

/// <summary>
/// Proves an accelerator really runs guest code: boots a 512-byte boot sector that writes to QEMU's
/// isa-debug-exit port, which ends QEMU with a known exit code. /dev/kvm can open fine while every KVM guest
/// hangs (nested virtualization without MSR support), so only a guest that ran says "usable". A trial that does not
/// finish within its timeout is killed.
/// </summary>
public sealed class AcceleratorTrial(ProcessRunner runner)
{
    /// <summary>isa-debug-exit turns a write of v into exit code (v &lt;&lt; 1) | 1.</summary>
    private const byte ExitValue = 0x31;
    private const int ExpectedExitCode = (ExitValue << 1) | 1;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);

    /// <summary>Null when the accelerator ran the trial guest; otherwise why not.</summary>
    public async Task<string?> TryAsync(string accel, string workDirectory, CancellationToken cancellationToken)
    {
        if (ToolLocator.Find("qemu-system-x86_64") is null) return "qemu-system-x86_64 is not installed.";
        Directory.CreateDirectory(workDirectory);
        var image = Path.Combine(workDirectory, $"trial-{accel}-{Environment.ProcessId}.img");
        await File.WriteAllBytesAsync(image, BootSector(), cancellationToken);
        try
        {
            var args = new List<string> { "-accel", accel, "-machine", "pc", "-m", "16", "-nodefaults", "-no-user-config",
                "-display", "none", "-serial", "none", "-monitor", "none",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-drive", $"file={image},format=raw,if=ide,snapshot=on" };
            if (accel == "kvm") args.InsertRange(2, ["-cpu", "host"]);
            var result = await runner.RunAsync("qemu-system-x86_64", args,
                new ProcessRunOptions { Timeout = Timeout, ThrowOnFailure = false }, cancellationToken);
            if (result.ExitCode == ExpectedExitCode) return null;
            var err = result.StandardError.Trim();
            return err.Length > 0 ? $"the trial guest failed: {err.Split('\n')[0]}" : $"the trial guest ended with exit code {result.ExitCode}.";
        }
        catch (VzTimeoutException)
        {
            return $"the trial guest did not run to completion within {Timeout.TotalSeconds:0} s (the accelerator hangs) and was killed.";
        }
        finally
        {
            File.Delete(image);
        }
    }

    /// <summary>mov al, ExitValue; out 0xf4, al; cli; hlt; jmp $-2 — then the 0x55AA boot signature.</summary>
    internal static byte[] BootSector()
    {
        var sector = new byte[512];
        byte[] code = [0xB0, ExitValue, 0xE6, 0xF4, 0xFA, 0xF4, 0xEB, 0xFD];
        code.CopyTo(sector, 0);
        sector[510] = 0x55;
        sector[511] = 0xAA;
        return sector;
    }
}
