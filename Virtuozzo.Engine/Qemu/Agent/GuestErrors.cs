namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>Reads what kind of failure an agent error text describes; the agent has one error class for all of them.</summary>
public static class GuestErrors
{
    /// <summary>
    /// guest-exec of a program that does not exist: GLib's spawn reports "Failed to execute child process "x" (No
    /// such file or directory)" (Linux agents); Windows agents say the file cannot be found.
    /// </summary>
    public static bool IsNoSuchFile(QgaException error) =>
        error.Message.Contains("No such file or directory", StringComparison.OrdinalIgnoreCase)
        || error.Message.Contains("cannot find the file", StringComparison.OrdinalIgnoreCase);
}
