using System.Runtime.InteropServices;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Cgroups;

/// <summary>Reads and writes cgroup interface files. Writes never create a file: a missing file is a missing feature.</summary>
internal static class CgroupFile
{
    /// <summary>Interface files are small; anything larger is not a cgroup file and is not read whole.</summary>
    private const int MaxBytes = 1 << 20;

    public static void Write(string path, string value)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
            var bytes = System.Text.Encoding.ASCII.GetBytes(value);
            stream.Write(bytes);
            stream.Flush();
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            // The kernel answers a refused value with EINVAL/EBUSY on write; say which file and value.
            throw new VzInvalidArgumentException("VzCgroupWriteRefused",
                $"The kernel refused '{value}' for {path}: {ex.Message}", path)
            { RecommendedAction = "Check that the value fits the host (CPUs that exist, memory above current usage)." };
        }
    }

    public static bool TryWrite(string path, string value)
    {
        if (!File.Exists(path)) return false;
        Write(path, value);
        return true;
    }

    public static unsafe string? Read(string path)
    {
        // open, read, close and nothing else: a listing reads about ten of these per running container, so the
        // FileStream machinery (an fstat per open, a second read for EOF, a 1 MiB buffer each time) was most of it.
        var fd = Native.LibC.open(path, Native.LibC.O_RDONLY | Native.LibC.O_CLOEXEC);
        if (fd < 0) return null; // missing (a group removed meanwhile, a feature the kernel lacks)
        byte[]? rented = null;
        try
        {
            var small = stackalloc byte[4096];
            var buffer = new Span<byte>(small, 4096);
            var total = 0;
            while (true)
            {
                nint n;
                fixed (byte* p = buffer) n = Native.LibC.read(fd, p + total, buffer.Length - total);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Native.LibC.EINTR) continue;
                    return null; // a group removed while reading
                }
                total += (int)n;
                // Kernel interface files are produced whole: a short read is the end (seq_file fills the buffer).
                if (n == 0 || total < buffer.Length) break;
                if (buffer.Length >= MaxBytes) break;
                var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 4, MaxBytes));
                buffer[..total].CopyTo(bigger);
                if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
                rented = bigger;
                buffer = bigger;
            }
            // ASCII for cgroup files; /proc/<pid>/stat's process name may be UTF-8.
            return System.Text.Encoding.UTF8.GetString(buffer[..total]);
        }
        finally
        {
            Native.LibC.close(fd);
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static long ReadLong(string path, long fallback = 0) =>
        Read(path) is { } t && long.TryParse(t.Trim(), out var v) ? v : fallback;

    /// <summary>The value of <paramref name="key"/> in a flat keyed file ("key value" lines: memory.stat, memory.events, cpu.stat).</summary>
    public static long ReadKeyed(string path, string key, long fallback = 0) => Read(path) is { } text ? Keyed(text, key, fallback) : fallback;

    /// <summary>The value of <paramref name="key"/> in the text of a flat keyed file already read.</summary>
    public static long Keyed(string text, string key, long fallback = 0)
    {
        foreach (var line in text.Split('\n'))
        {
            var sp = line.IndexOf(' ');
            if (sp > 0 && line.AsSpan(0, sp).SequenceEqual(key) && long.TryParse(line.AsSpan(sp + 1).Trim(), out var v)) return v;
        }
        return fallback;
    }

    public static IReadOnlyList<int> ReadPids(string path)
    {
        var text = Read(path);
        if (text is null) return [];
        var pids = new List<int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (int.TryParse(line, out var pid)) pids.Add(pid);
        return pids;
    }

    /// <summary>
    /// Removes a group folder (children first). rmdir of a group whose last task just exited can briefly fail with
    /// EBUSY while the kernel finishes tearing it down, so it is retried for a bounded time.
    /// </summary>
    public static void RemoveGroup(string dir, TimeSpan timeout)
    {
        if (!Directory.Exists(dir)) return;
        foreach (var child in Directory.GetDirectories(dir)) RemoveGroup(child, timeout);
        if (ReadPids(Path.Combine(dir, "cgroup.procs")).Count > 0)
            throw new VzInvalidStateException("VzCgroupBusy", $"The cgroup {dir} still holds processes.", dir)
            { RecommendedAction = "Stop the processes in the group and try again." };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try { Directory.Delete(dir, recursive: false); return; }
            catch (DirectoryNotFoundException) { return; }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(20); }
            catch (IOException ex)
            {
                throw new VzInvalidStateException("VzCgroupBusy", $"The cgroup {dir} could not be removed: {ex.Message}", dir)
                { RecommendedAction = "A process is still in the group; stop it and try again." };
            }
        }
    }

    /// <summary>Removes empty ancestors of <paramref name="relativePath"/> up to <paramref name="pruneUpTo"/> inclusive.</summary>
    public static void PruneParents(string mount, string relativePath, string? pruneUpTo)
    {
        if (pruneUpTo is null) return;
        var stop = pruneUpTo.Trim('/');
        var rel = relativePath.Trim('/');
        if (!rel.StartsWith(stop + "/", StringComparison.Ordinal)) return;
        var parent = Path.GetDirectoryName(rel);
        while (!string.IsNullOrEmpty(parent) && (parent == stop || parent.StartsWith(stop + "/", StringComparison.Ordinal)))
        {
            var dir = Path.Combine(mount, parent);
            if (!Directory.Exists(dir) || Directory.EnumerateDirectories(dir).Any()) return;
            try { Directory.Delete(dir); }
            catch (IOException) { return; } // still holds tasks, or another group was made meanwhile
            parent = Path.GetDirectoryName(parent);
        }
    }

    /// <summary>Checks a relative group path: no '..', no empty or absolute tricks.</summary>
    public static string CheckPath(string path)
    {
        var rel = path.Trim('/');
        if (rel.Length == 0 || rel.Split('/').Any(p => p is "" or "." or ".."))
            throw new VzInvalidArgumentException("VzInvalidCgroupPath", $"'{path}' is not a valid cgroup path.", path);
        return rel;
    }
}
