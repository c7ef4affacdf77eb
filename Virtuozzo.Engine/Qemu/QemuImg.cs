using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// The disk image operations VMs need. Creating and describing images is the engine's native QCOW2 code (Qcow2/);
/// only the full copy, a data rewrite, goes through qemu-img, as every data rewrite in the engine does.
/// </summary>
public sealed class QemuImg(ProcessRunner runner)
{
    public Task CreateAsync(string path, long sizeBytes, CancellationToken cancellationToken)
    {
        Qcow2Creator.Create(path, new Qcow2CreateOptions { VirtualSize = sizeBytes }, cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>A qcow2 overlay, as large as its backing image, whose reads fall through to <paramref name="backingPath"/>.</summary>
    public async Task CreateOverlayAsync(string path, string backingPath, string backingFormat, CancellationToken cancellationToken)
    {
        var (_, size, _) = await InfoAsync(backingPath, cancellationToken);
        Qcow2Creator.Create(path, new Qcow2CreateOptions { VirtualSize = size, BackingFile = backingPath, BackingFormat = backingFormat }, cancellationToken);
    }

    /// <summary>A full, standalone copy (a linked chain is flattened); <paramref name="onPercent"/> hears qemu-img's progress (0-100).</summary>
    public async Task ConvertAsync(string source, string destination, Action<double>? onPercent, CancellationToken cancellationToken) =>
        await runner.RunAsync("qemu-img", ["convert", "-p", "-O", "qcow2", source, destination],
            new ProcessRunOptions
            {
                Target = source, Timeout = TimeSpan.FromHours(2),
                OnStandardOutputLine = line => { if (Disks.QemuImgDriver.ParseProgress(line) is { } p) onPercent?.Invoke(p); },
            }, cancellationToken);

    /// <summary>Format and virtual size of an image, read from its header (shared: the VM may be running).</summary>
    public Task<(string Format, long VirtualSize, string? BackingFile)> InfoAsync(string path, CancellationToken cancellationToken)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (!Qcow2Header.HasMagic(handle))
        {
            using (handle) return Task.FromResult<(string, long, string?)>(("raw", RandomAccess.GetLength(handle), null));
        }
        using var image = Qcow2Image.FromHandle(handle, path);
        return Task.FromResult<(string, long, string?)>(("qcow2", image.Header.Size, image.Header.BackingFile));
    }
}
