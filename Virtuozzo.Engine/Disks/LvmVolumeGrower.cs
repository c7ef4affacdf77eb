using System.Globalization;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Disks;

/// <summary>
/// Grows a logical volume of a guest's LVM volume group into the free space a grown physical volume gained, and the
/// file system in it, without device-mapper (this host has none, and activating a guest's VG on the host could
/// clash with the host's own names). LVM runs with <c>global/activation=0</c> and sees only the guest's PV
/// (<c>--devices</c>), so it edits metadata only; the LV is extended contiguously, which keeps it one linear run of
/// extents, and its file system is then reached through a loop device at that run's offset in the PV.
/// </summary>
internal sealed class LvmVolumeGrower(ProcessRunner runner, ILogger logger)
{
    private const string MetadataOnly = "global/activation=0";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    /// <summary>One LV segment on the PV: extents <see cref="First"/>..<see cref="Last"/>.</summary>
    internal sealed record Segment(string Lv, long First, long Last);

    public async Task GrowAsync(string physicalVolume, string? logicalVolume, string image, string work,
        Func<string, string, string, string, CancellationToken, Task> growFileSystem, CancellationToken ct)
    {
        pv = physicalVolume;
        var pvFields = Fields(await Lvm("pvs", image, ct, "--units", "b", "--nosuffix", "-o", "pe_start,vg_name", pv));
        if (pvFields.Count == 0 || pvFields[0].Length < 2)
        {
            // A PV in no volume group yet: the grown PV is all there is to grow.
            if (logicalVolume is not null)
                throw new VzNotFoundException("VzLogicalVolumeNotFound", $"The LVM physical volume in '{image}' belongs to no volume group, so it has no logical volume '{logicalVolume}'.", image);
            logger.LogInformation("the physical volume of {Image} is in no volume group; only the PV grew", image);
            return;
        }
        var peStart = long.Parse(pvFields[0][0], CultureInfo.InvariantCulture);
        var vg = pvFields[0][1];
        var vgFields = Fields(await Lvm("vgs", image, ct, "--units", "b", "--nosuffix", "-o", "vg_extent_size,vg_free_count", vg))[0];
        var extent = long.Parse(vgFields[0], CultureInfo.InvariantCulture);
        var free = long.Parse(vgFields[1], CultureInfo.InvariantCulture);
        var segments = ParseSegments(await Lvm("lvs", image, ct, "--segments", "-o", "lv_name,seg_pe_ranges", vg));
        var lv = ChooseVolume(segments, logicalVolume, vg, image);
        var end = segments.Where(s => s.Lv == lv).Max(s => s.Last);
        if (free > 0 && segments.FirstOrDefault(s => s.First > end) is { } after)
            throw new Qcow2.VzDiskUnsupportedException(image, $"the logical volume {vg}/{lv}, followed on the disk by {vg}/{after.Lv} (only the LV that ends the volume group's used space can take the new space in one piece)", "grow");
        if (free > 0)
            await Lvm("lvextend", image, ct, "--alloc", "contiguous", "-l", "+100%FREE", $"{vg}/{lv}");
        else logger.LogInformation("volume group {Vg} of {Image} has no free extents; {Lv} keeps its size", vg, image, lv);
        var mine = ParseSegments(await Lvm("lvs", image, ct, "--segments", "-o", "lv_name,seg_pe_ranges", vg)).Where(s => s.Lv == lv).ToList();
        if (mine.Count != 1)
            throw new Qcow2.VzDiskUnsupportedException(image, $"the logical volume {vg}/{lv} in {mine.Count} pieces (only a linear, contiguous LV can be grown offline here)", "grow");
        var offset = peStart + mine[0].First * extent;
        var size = (mine[0].Last - mine[0].First + 1) * extent;
        var loop = (await runner.RunAsync("losetup", ["--find", "--show", "--offset", offset.ToString(CultureInfo.InvariantCulture),
            "--sizelimit", size.ToString(CultureInfo.InvariantCulture), pv], new ProcessRunOptions { Timeout = StepTimeout, Target = image }, ct)).StandardOutput.Trim();
        try
        {
            await growFileSystem(loop, "", work, image, ct);
            logger.LogInformation("grew {Vg}/{Lv} of {Image} to {Size} bytes", vg, lv, image, size);
        }
        finally
        {
            try { await runner.RunAsync("losetup", ["-d", loop], new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None); }
            catch (VzException ex) { logger.LogWarning("cleanup losetup -d {Loop} failed: {Message}", loop, ex.Message); }
        }
    }

    /// <summary>The named LV, or the one whose last extent is the highest (the one that ends the used space).</summary>
    internal static string ChooseVolume(IReadOnlyList<Segment> segments, string? logicalVolume, string vg, string image)
    {
        if (segments.Count == 0) throw new VzInvalidStateException("VzDiskNoLvm", $"The volume group {vg} in '{image}' has no logical volume.", image);
        if (logicalVolume is null) return segments.MaxBy(s => s.Last)!.Lv;
        if (segments.All(s => s.Lv != logicalVolume))
            throw new VzNotFoundException("VzLogicalVolumeNotFound", $"The volume group {vg} in '{image}' has no logical volume '{logicalVolume}'.", image)
            { RecommendedAction = $"Its logical volumes: {string.Join(", ", segments.Select(s => s.Lv).Distinct())}." };
        return logicalVolume;
    }

    /// <summary>lvs --segments -o lv_name,seg_pe_ranges rows: "lv1 /dev/loop3:0-12".</summary>
    internal static IReadOnlyList<Segment> ParseSegments(string text) =>
        Fields(text).Where(f => f.Length >= 2).Select(f =>
        {
            var range = f[1][(f[1].LastIndexOf(':') + 1)..].Split('-');
            return new Segment(f[0], long.Parse(range[0], CultureInfo.InvariantCulture), long.Parse(range[^1], CultureInfo.InvariantCulture));
        }).ToList();

    private static List<string[]> Fields(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

    /// <summary>LVM's fd-leak notices are noise here (the runner's pipes), not problems.</summary>
    private static readonly Dictionary<string, string?> Quiet = new() { ["LVM_SUPPRESS_FD_WARNINGS"] = "1" };

    private string pv = "";

    /// <summary>One lvm command, metadata only, seeing only the guest's PV; reports without headings.</summary>
    private async Task<string> Lvm(string command, string image, CancellationToken ct, params string[] args)
    {
        string[] all = [command, "--config", MetadataOnly, "--devices", pv, .. (command is "pvs" or "vgs" or "lvs" ? new[] { "--noheadings" } : []), .. args];
        var r = await runner.RunAsync("lvm", all, new ProcessRunOptions { Timeout = StepTimeout, Target = image, Environment = Quiet }, ct);
        return r.StandardOutput;
    }
}
