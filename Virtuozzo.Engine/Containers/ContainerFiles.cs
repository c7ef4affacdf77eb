using Virtuozzo.Engine.Containers.Native;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Writes files the engine owns into a container's root tree (hostname, hosts, resolv.conf) as host root without
/// being fooled by the container: a symlink planted at the file or at a folder on the way is refused or replaced,
/// never followed, so a container cannot make the engine write a host file.
/// </summary>
internal static class ContainerFiles
{
    /// <summary>The files that tell the container who it is: hostname, hosts (with its first address) and resolv.conf.</summary>
    public static void WriteIdentity(string root, string hostname, ContainerSettings ct)
    {
        Write(root, "etc/hostname", hostname + "\n", ct.UidBase);
        var hosts = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n";
        var first = ct.Network.IpAddresses.FirstOrDefault();
        hosts += first is null ? $"127.0.1.1 {hostname}\n" : $"{first[..first.IndexOf('/')]} {hostname}\n";
        Write(root, "etc/hosts", hosts, ct.UidBase);
        if (ct.Nameservers.Count > 0)
            Write(root, "etc/resolv.conf", string.Concat(ct.Nameservers.Select(n => $"nameserver {n}\n")), ct.UidBase);
    }

    public static void Write(string root, string relativePath, string content, long uidBase)
    {
        var parts = relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var dir = root;
        foreach (var part in parts[..^1])
        {
            dir = Path.Combine(dir, part);
            var info = new DirectoryInfo(dir);
            if (info.LinkTarget is not null || (!info.Exists && File.Exists(dir)))
                throw new VzInvalidStateException("VzContainerFileUnsafe", $"'{dir}' in the container is a symlink or a file; refusing to write {relativePath}.", dir)
                { RecommendedAction = "Make it a plain folder inside the container." };
            if (!info.Exists)
            {
                Directory.CreateDirectory(dir);
                PosixFiles.ChangeOwner(dir, (uint)uidBase, (uint)uidBase);
            }
        }
        var path = Path.Combine(dir, parts[^1]);
        var existing = new FileInfo(path);
        if (existing.Exists && existing.LinkTarget is null && existing.Length == System.Text.Encoding.UTF8.GetByteCount(content)
            && File.ReadAllText(path) == content) return; // unchanged: most starts
        var temp = path + ".vz-new";
        if (File.Exists(temp) || new FileInfo(temp).LinkTarget is not null) File.Delete(temp);
        // CreateNew = O_EXCL: never follows a symlink at the final component.
        using (var f = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = (UnixFileMode)0b110_100_100 }))
            f.Write(System.Text.Encoding.UTF8.GetBytes(content));
        PosixFiles.ChangeOwner(temp, (uint)uidBase, (uint)uidBase);
        File.Move(temp, path, overwrite: true); // rename replaces a symlink itself, not its target
    }
}
