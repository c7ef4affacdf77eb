using System.Globalization;
using System.Text.RegularExpressions;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;

namespace Virtuozzo.Engine.Disks;

/// <summary>
/// The data rewrites qemu-img does well (convert/compact, commit, rebase), run through the process runner with
/// <c>-p</c> progress parsed into <see cref="VzProgress"/> and cancellation that kills qemu-img.
/// </summary>
public sealed partial class QemuImgDriver(ProcessRunner runner)
{
    public const string Tool = "qemu-img";

    /// <summary>How long one rewrite may take before it is stopped.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(12);

    /// <summary>Rewrites <paramref name="source"/> (read with the driver for <paramref name="sourceFormat"/>, never
    /// probed by qemu-img) into <paramref name="destination"/> in <paramref name="format"/>.</summary>
    public Task ConvertAsync(string source, DiskFormat sourceFormat, string destination, DiskFormat format, IReadOnlyList<string> createOptions,
        string? backingFile, string? backingFormat, IProgress<VzProgress>? progress, string activity, CancellationToken cancellationToken)
    {
        var args = new List<string> { "convert", "-p", "-f", Formats.DiskFormats.QemuName(sourceFormat), "-O", Formats.DiskFormats.QemuName(format) };
        if (createOptions.Count > 0) args.AddRange(["-o", string.Join(',', createOptions)]);
        if (backingFile is not null)
        {
            args.AddRange(["-B", backingFile]);
            if (backingFormat is not null) args.AddRange(["-F", backingFormat]);
        }
        args.AddRange([source, destination]);
        return RunAsync(args, source, progress, activity, cancellationToken);
    }

    /// <summary>
    /// Describes an image in a format the engine does not read natively. -U reads it even while a VM has it open;
    /// a header qemu-img rejects (truncated, sizes out of range) becomes a <see cref="Qcow2.VzDiskCorruptException"/>.
    /// </summary>
    public async Task<Formats.QemuImageInfo> InfoAsync(string path, DiskFormat format, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(Tool, ["info", "-U", "--output=json", "-f", Formats.DiskFormats.QemuName(format), path],
            new ProcessRunOptions { Target = path, Timeout = TimeSpan.FromSeconds(60), ThrowOnFailure = false }, cancellationToken);
        if (result.ExitCode != 0)
            throw new Qcow2.VzDiskCorruptException(path, FirstLine(result.StandardError), Formats.DiskFormats.DisplayName(format));
        return Formats.QemuImageInfo.Parse(result.StandardOutput, path);
    }

    /// <summary>Changes the virtual size of an image whose driver resizes (QED).</summary>
    public async Task ResizeAsync(string path, DiskFormat format, long newSize, CancellationToken cancellationToken) =>
        await runner.RunAsync(Tool, ["resize", "-q", "-f", Formats.DiskFormats.QemuName(format), path, newSize.ToString(CultureInfo.InvariantCulture)],
            new ProcessRunOptions { Target = path, Timeout = TimeSpan.FromMinutes(10) }, cancellationToken);

    /// <summary>Runs qemu-img check (JSON) on a format it checks; the exit code says clean (0), corrupt (2) or leaky (3).</summary>
    public async Task<(int ExitCode, string Json)> CheckAsync(string path, DiskFormat format, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(Tool, ["check", "--output=json", "-f", Formats.DiskFormats.QemuName(format), path],
            new ProcessRunOptions { Target = path, Timeout = TimeSpan.FromHours(1), SuccessExitCodes = [0, 2, 3], ThrowOnFailure = false }, cancellationToken);
        if (result.ExitCode is not (0 or 2 or 3))
            throw new Qcow2.VzDiskCorruptException(path, FirstLine(result.StandardError), Formats.DiskFormats.DisplayName(format));
        return (result.ExitCode, result.StandardOutput);
    }

    private static string FirstLine(string text)
    {
        var line = text.Trim().Split('\n', 2)[0];
        return line.Length > 500 ? line[..500] + "..." : line.Length == 0 ? "qemu-img could not open it" : line;
    }

    /// <summary>Writes an overlay's data down into its backing file.</summary>
    public Task CommitAsync(string overlay, IProgress<VzProgress>? progress, CancellationToken cancellationToken) =>
        RunAsync(["commit", "-p", overlay], overlay, progress, $"Committing {overlay}", cancellationToken);

    /// <summary>Points an overlay at another backing file, copying whatever differs (safe mode).</summary>
    public Task RebaseAsync(string overlay, string newBacking, string newBackingFormat, IProgress<VzProgress>? progress, CancellationToken cancellationToken) =>
        RunAsync(["rebase", "-p", "-b", newBacking, "-F", newBackingFormat, overlay], overlay, progress, $"Rebasing {overlay}", cancellationToken);

    private async Task RunAsync(List<string> args, string target, IProgress<VzProgress>? progress, string activity, CancellationToken cancellationToken)
    {
        progress?.Report(new VzProgress(activity, "starting", 0));
        await runner.RunAsync(Tool, args, new ProcessRunOptions
        {
            Timeout = Timeout,
            Target = target,
            OnStandardOutputLine = line =>
            {
                if (ParseProgress(line) is { } p) progress?.Report(new VzProgress(activity, $"{p:0.#}% copied", (int)p));
            },
        }, cancellationToken);
        progress?.Report(new VzProgress(activity, "done", 100, Completed: true));
    }

    /// <summary>qemu-img -p writes "    (12.34/100%)" and a carriage return; returns the percentage.</summary>
    public static double? ParseProgress(string line)
    {
        var m = ProgressPattern().Match(line);
        return m.Success && double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? Math.Clamp(v, 0, 100) : null;
    }

    [GeneratedRegex(@"\((\d{1,3}(?:\.\d+)?)/100%\)")]
    private static partial Regex ProgressPattern();
}
