using System.Text.Json;
using System.Text.Json.Serialization;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Engine.Qemu.Process;

/// <summary>
/// The shares a running QEMU was started with, kept in its run folder: a share added or removed while it runs changes
/// the config, not the devices, so listing, the daemon watch and the migration and hotplug gates read this instead.
/// </summary>
public static class VmShareState
{
    /// <summary>One share as attached: its tag and transport.</summary>
    public sealed record Entry(string Name, SharedFolderTransport Transport);

    private static readonly JsonSerializerOptions Options = new() { Converters = { new JsonStringEnumConverter() }, MaxDepth = 4 };

    public static void Write(VmRuntimePaths rt, IReadOnlyList<VmShareDevice> shares)
    {
        if (shares.Count == 0) { File.Delete(rt.SharesFile); return; }
        AtomicWrite(rt, [.. shares.Select(s => new Entry(s.Tag, s.Transport))]);
    }

    /// <summary>Written whole and renamed into place: the daemon watch reads it at any moment.</summary>
    private static void AtomicWrite(VmRuntimePaths rt, IReadOnlyList<Entry> entries)
    {
        var temp = rt.SharesFile + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(entries.ToArray(), Options));
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, rt.SharesFile, overwrite: true);
    }

    /// <summary>Records a share hot-added to the running VM (or, with <paramref name="attached"/> false, one hot-removed).</summary>
    public static void Set(VmRuntimePaths rt, Entry entry, bool attached)
    {
        var list = Read(rt).Where(e => e.Name != entry.Name).ToList();
        if (attached) list.Add(entry);
        if (list.Count == 0) { File.Delete(rt.SharesFile); return; }
        AtomicWrite(rt, list);
    }

    /// <summary>The attached shares; empty when the VM has none (or is not running: the run folder is gone then).</summary>
    public static IReadOnlyList<Entry> Read(VmRuntimePaths rt)
    {
        try
        {
            if (!File.Exists(rt.SharesFile) || new FileInfo(rt.SharesFile).Length > 1 << 16) return [];
            return JsonSerializer.Deserialize<Entry[]>(File.ReadAllText(rt.SharesFile), Options) ?? [];
        }
        catch (Exception ex) when (ex is IOException or JsonException) { return []; }
    }

    /// <summary>Why a running VM's share is broken: the first virtio-fs share whose daemon is gone, or null.</summary>
    public static string? DeadDaemonReason(VmRuntimePaths rt)
    {
        foreach (var e in Read(rt))
            if (e.Transport == SharedFolderTransport.VirtioFs && VirtioFsDaemon.AlivePid(rt, e.Name) is null)
                return $"The virtio-fs daemon of shared folder '{e.Name}' (pid {VirtioFsDaemon.RecordedPid(rt, e.Name)?.ToString() ?? "?"}) exited: the guest's mount of '{e.Name}' hangs until the VM is stopped and started again.";
        return null;
    }
}
