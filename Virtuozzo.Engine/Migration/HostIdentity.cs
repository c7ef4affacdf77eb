namespace Virtuozzo.Engine.Migration;

/// <summary>
/// Which host (and data root) an engine serves: the machine id and the resolved data root. Two hosts of the test
/// rig share a machine id but not a data root, so both parts together tell "the same host" from another one.
/// </summary>
public static class HostIdentity
{
    public static string Of(Configuration.VzPaths paths)
    {
        string machine;
        try { machine = File.ReadAllText("/etc/machine-id").Trim(); }
        catch (IOException) { machine = Environment.MachineName; }
        var root = paths.DataRoot;
        try { root = new DirectoryInfo(paths.DataRoot).ResolveLinkTarget(true)?.FullName ?? root; }
        catch (IOException) { }
        return $"{machine}:{root}";
    }
}
