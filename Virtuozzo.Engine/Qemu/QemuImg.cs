using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Disks.Formats;
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

    /// <summary>A full, standalone qcow2 copy (a linked chain is flattened); <paramref name="onPercent"/> hears
    /// qemu-img's progress (0-100). <paramref name="sourceFormat"/>, when known, is passed so qemu-img reads the image
    /// with its own driver instead of probing it.</summary>
    public async Task ConvertAsync(string source, string destination, Action<double>? onPercent, CancellationToken cancellationToken, string? sourceFormat = null) =>
        await runner.RunAsync("qemu-img", sourceFormat is null ? ["convert", "-p", "-O", "qcow2", source, destination]
                : ["convert", "-p", "-f", sourceFormat, "-O", "qcow2", source, destination],
            new ProcessRunOptions
            {
                Target = source, Timeout = TimeSpan.FromHours(2),
                OnStandardOutputLine = line => { if (Disks.QemuImgDriver.ParseProgress(line) is { } p) onPercent?.Invoke(p); },
            }, cancellationToken);

    /// <summary>
    /// Format and virtual size of an image: qcow2 and raw read from the header (shared: the VM may be running);
    /// the other formats, recognised by content, through qemu-img info -U.
    /// </summary>
    public async Task<(string Format, long VirtualSize, string? BackingFile)> InfoAsync(string path, CancellationToken cancellationToken)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var length = RandomAccess.GetLength(handle);
        var format = DiskFormatProbe.ImageFormat(Head(handle, length), Tail(handle, length));
        if (format is null or DiskFormat.Raw)
        {
            using (handle) return ("raw", length, null);
        }
        if (format != DiskFormat.Qcow2)
        {
            handle.Dispose();
            var info = await new QemuImgDriver(runner).InfoAsync(path, format.Value, cancellationToken);
            return (DiskFormats.QemuName(format.Value), info.VirtualSize, info.BackingFile);
        }
        using var image = Qcow2Image.FromHandle(handle, path);
        return ("qcow2", image.Header.Size, image.Header.BackingFile);
    }

    private static byte[] Head(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long length)
    {
        var head = new byte[(int)Math.Min(DiskFormatProbe.HeadBytes, length)];
        return head[..RandomAccess.Read(handle, head, 0)];
    }

    private static byte[] Tail(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long length)
    {
        if (length < DiskFormatProbe.TailBytes) return [];
        var tail = new byte[DiskFormatProbe.TailBytes];
        return RandomAccess.Read(handle, tail, length - tail.Length) == tail.Length ? tail : [];
    }
}
