using System.Text;
using Virtuozzo.Engine.Native;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// Writes a file so that a crash at any moment leaves either the old or the new content, never a torn mix:
/// write a temp file beside it, fsync it, rename over the target, fsync the directory.
/// </summary>
public static class AtomicFile
{
    // durable: false is for a file a reboot makes worthless anyway (the run folder's caches, rewritten every second or
    // so): still all-or-nothing for readers (temp file and rename), but without the two fsyncs, which block the writer
    // for a disk flush each time.
    public static void WriteAllText(string path, string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite, bool durable = true)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, UnixCreateMode = mode,
            }))
            {
                var bytes = Encoding.UTF8.GetBytes(content);
                stream.Write(bytes);
                stream.Flush(flushToDisk: durable);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
        if (durable) SyncDirectory(dir);
    }

    /// <summary>Makes a rename or create in <paramref name="directory"/> durable.</summary>
    public static void SyncDirectory(string directory)
    {
        var fd = LibC.open(directory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        if (fd < 0) return; // best effort: durability of the name, the content is already synced
        try { LibC.fsync(fd); } finally { LibC.close(fd); }
    }
}
