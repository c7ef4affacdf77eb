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

    public Task ConvertAsync(string source, string destination, DiskFormat format, IReadOnlyList<string> createOptions,
        string? backingFile, string? backingFormat, IProgress<VzProgress>? progress, string activity, CancellationToken cancellationToken)
    {
        var args = new List<string> { "convert", "-p", "-O", format == DiskFormat.Raw ? "raw" : "qcow2" };
        if (createOptions.Count > 0) args.AddRange(["-o", string.Join(',', createOptions)]);
        if (backingFile is not null)
        {
            args.AddRange(["-B", backingFile]);
            if (backingFormat is not null) args.AddRange(["-F", backingFormat]);
        }
        args.AddRange([source, destination]);
        return RunAsync(args, source, progress, activity, cancellationToken);
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
