using System.Globalization;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// Disk image operations VMs need, done with qemu-img. Kept to this one small class so the native QCOW2 code
/// (Qcow2/) can replace it without touching the VM code.
/// </summary>
public sealed class QemuImg(ProcessRunner runner)
{
    public async Task CreateAsync(string path, long sizeBytes, CancellationToken cancellationToken) =>
        await runner.RunAsync("qemu-img", ["create", "-q", "-f", "qcow2", path, sizeBytes.ToString(CultureInfo.InvariantCulture)],
            new ProcessRunOptions { Target = path }, cancellationToken);

    /// <summary>A qcow2 overlay whose reads fall through to <paramref name="backingPath"/>.</summary>
    public async Task CreateOverlayAsync(string path, string backingPath, string backingFormat, CancellationToken cancellationToken) =>
        await runner.RunAsync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", backingPath, "-F", backingFormat, path],
            new ProcessRunOptions { Target = path }, cancellationToken);

    /// <summary>A full, standalone copy (a linked chain is flattened).</summary>
    public async Task ConvertAsync(string source, string destination, CancellationToken cancellationToken) =>
        await runner.RunAsync("qemu-img", ["convert", "-q", "-O", "qcow2", source, destination],
            new ProcessRunOptions { Target = source, Timeout = TimeSpan.FromHours(2) }, cancellationToken);

    public async Task ResizeAsync(string path, long sizeBytes, CancellationToken cancellationToken) =>
        await runner.RunAsync("qemu-img", ["resize", "-q", path, sizeBytes.ToString(CultureInfo.InvariantCulture)],
            new ProcessRunOptions { Target = path }, cancellationToken);

    /// <summary>Format and virtual size of an image (the backing file is opened shared: the VM may be running).</summary>
    public async Task<(string Format, long VirtualSize, string? BackingFile)> InfoAsync(string path, CancellationToken cancellationToken)
    {
        var r = await runner.RunAsync("qemu-img", ["info", "-U", "--output=json", path], new ProcessRunOptions { Target = path }, cancellationToken);
        var json = JsonNode.Parse(r.StandardOutput) as JsonObject ?? throw new InvalidDataException("qemu-img info printed no JSON object.");
        return (json["format"]?.GetValue<string>() ?? "raw", json["virtual-size"]?.GetValue<long>() ?? 0, json["backing-filename"]?.GetValue<string>());
    }
}
