using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Qcow2;

/// <summary>The real qemu-img and qemu-io as the peer the native code is checked against.</summary>
internal static class QemuTools
{
    /// <summary>
    /// Runs a tool. A "Failed to lock byte" from qemu is retried briefly: when a test closes an image it held under
    /// QEMU's lock bytes while another test thread forks a child, the child shares the lock until it execs (the
    /// window DiskService.TryLock also waits out), so a qemu-img started at that moment sees a lock nobody holds.
    /// </summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string tool, params string[] args)
    {
        for (var attempt = 0; ; attempt++)
        {
            var result = RunOnce(tool, args);
            if (result.ExitCode == 0 || attempt == 20 || !result.Stderr.Contains("Failed to lock byte", StringComparison.Ordinal)) return result;
            Thread.Sleep(50);
        }
    }

    private static (int ExitCode, string Stdout, string Stderr) RunOnce(string tool, string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"{tool} {string.Join(' ', args)}"); }
        return (p.ExitCode, stdout.Result, stderr);
    }

    public static string Img(params string[] args)
    {
        var (code, stdout, stderr) = Run("qemu-img", args);
        if (code != 0) throw new InvalidOperationException($"qemu-img {string.Join(' ', args)} failed ({code}): {stderr}{stdout}");
        return stdout;
    }

    public static void Io(string file, string format, params string[] commands)
    {
        var args = new List<string> { "-f", format };
        foreach (var c in commands) { args.Add("-c"); args.Add(c); }
        args.Add(file);
        var (code, stdout, stderr) = Run("qemu-io", [.. args]);
        if (code != 0 || stdout.Contains("error", StringComparison.OrdinalIgnoreCase) || stderr.Length > 0)
            throw new InvalidOperationException($"qemu-io {string.Join(' ', args)} failed ({code}): {stderr}{stdout}");
    }

    public static JsonElement Info(string file) => JsonDocument.Parse(Img("info", "--output=json", file)).RootElement;

    /// <summary>qemu-img check --output=json; exit code 0 clean, 2 corruptions, 3 leaks only.</summary>
    public static (int ExitCode, JsonElement Result) Check(string file)
    {
        var (code, stdout, stderr) = Run("qemu-img", "check", "--output=json", file);
        if (code is not (0 or 2 or 3)) throw new InvalidOperationException($"qemu-img check {file} failed ({code}): {stderr}");
        return (code, JsonDocument.Parse(stdout).RootElement);
    }

    public static void AssertClean(string file)
    {
        var (code, result) = Check(file);
        Xunit.Assert.True(code == 0, $"qemu-img check {file}: exit {code}: {result}");
    }

    /// <summary>Exit 0 when the guest-visible content is identical (extra area of the larger must be zero).</summary>
    public static void AssertSameContent(string a, string b)
    {
        var (code, stdout, stderr) = Run("qemu-img", "compare", a, b);
        Xunit.Assert.True(code == 0, $"qemu-img compare {a} {b}: exit {code}: {stdout}{stderr}");
    }

    public static DiskService NewService(string root)
    {
        var paths = new VzPaths(root, Path.Combine(root, "run"), "vztest");
        var runner = new ProcessRunner(NullLogger<ProcessRunner>.Instance);
        return new DiskService(paths, new VeStore(paths, NullLogger<VeStore>.Instance), new QemuImgDriver(runner),
            new GuestFileSystemResizer(paths, runner, NullLogger<GuestFileSystemResizer>.Instance),
            new Virtuozzo.Engine.Disks.Compact.GuestFileSystemTrimmer(paths, runner, NullLogger<Virtuozzo.Engine.Disks.Compact.GuestFileSystemTrimmer>.Instance),
            new GuestFileSystemShrinker(paths, runner, NullLogger<GuestFileSystemShrinker>.Instance), NullLogger<DiskService>.Instance);
    }
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() { Directory.CreateDirectory(Path); }
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vzdisk-" + Guid.NewGuid().ToString("N")[..10]);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
