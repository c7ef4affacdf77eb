using System.Globalization;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// The one lock that keeps long operations on one VE apart: a snapshot, a backup, a restore, a migration. Two of
/// them on one VE at once would race on its disks (a backup job and a migration's mirror on one block node, a
/// restore under a running backup), so each takes this lock for its whole run and the second one either waits up
/// to its bound or fails fast with <c>VzVeOperationInProgress</c> naming the holder. It is a flock (released by the
/// kernel if the holder dies), separate from the short config lock of <see cref="VeStore.AcquireVeLock"/> so a
/// Get-VzVm or Set-VzVm is not held up for the minutes a backup takes.
/// </summary>
public sealed class VeOperationLock : IDisposable
{
    private const string LockFileName = ".operation.lock";
    private const string HolderFileName = ".operation";

    private readonly FileLock held;
    private readonly string holderPath;

    private VeOperationLock(FileLock held, string holderPath, string operation)
    {
        this.held = held;
        this.holderPath = holderPath;
        Operation = operation;
    }

    /// <summary>What the holder is doing ("backup", "snapshot", "migration").</summary>
    public string Operation { get; }

    /// <summary>
    /// Takes the operation lock of a VE. <paramref name="wait"/> zero fails at once when another operation holds it;
    /// a longer wait polls up to that bound. The holder's operation and pid are recorded for the other side's message.
    /// </summary>
    public static VeOperationLock Acquire(VzPaths paths, Guid id, string veName, string operation, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var dir = paths.VeDirectory(id);
        if (!Directory.Exists(dir))
            throw new VzNotFoundException("VzVeNotFound", $"No VE with id {id} exists on this host.", id);
        var holderPath = Path.Combine(dir, HolderFileName);
        FileLock held;
        try { held = FileLock.Acquire(Path.Combine(dir, LockFileName), wait, veName, cancellationToken); }
        catch (VzTimeoutException)
        {
            var holder = ReadHolder(holderPath);
            throw new VzUnavailableException("VzVeOperationInProgress",
                $"'{veName}' is busy: {holder ?? "another operation"} runs on it, and one VE takes one snapshot, backup, restore or migration at a time.", veName)
            { RecommendedAction = "Wait for the other operation to finish (Get-Job, or the pwsh process named above), then retry." };
        }
        try
        {
            File.WriteAllText(holderPath, string.Create(CultureInfo.InvariantCulture, $"{operation} (pid {Environment.ProcessId}, since {DateTimeOffset.UtcNow:u})"));
        }
        catch
        {
            held.Dispose();
            throw;
        }
        return new VeOperationLock(held, holderPath, operation);
    }

    private static string? ReadHolder(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            return text.Length is > 0 and < 400 ? text.Trim() : null;
        }
        catch (IOException) { return null; }
    }

    public void Dispose()
    {
        try { File.Delete(holderPath); } catch (IOException) { }
        held.Dispose();
    }
}
