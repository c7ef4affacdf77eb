namespace Virtuozzo.Engine.Cgroups.V2;

/// <summary>
/// Makes a group's memory.low effective. On v2 a group's protection is capped by its parent's effective protection,
/// so memory.low on a VE's own group alone protects nothing while the `vz` parent has memory.low 0. Every ancestor
/// below the mount root gets the sum of its children's memory.low, recomputed deepest first whenever a VE's
/// guarantee is written or its group removed (start, live change, stop).
/// </summary>
internal static class MemoryProtection
{
    /// <summary>Serialises the read-sum-write of the ancestors within this process (the engine's VE locks are per VE).</summary>
    private static readonly Lock Gate = new();

    public static void PropagateUp(string mountPoint, string relativePath)
    {
        lock (Gate)
        {
            for (var up = Path.GetDirectoryName(relativePath.Trim('/')); !string.IsNullOrEmpty(up); up = Path.GetDirectoryName(up))
            {
                var dir = Path.Combine(mountPoint, up);
                var file = Path.Combine(dir, "memory.low");
                if (!File.Exists(file)) continue; // gone, or memory not enabled at this level
                long sum = 0;
                foreach (var child in Directory.EnumerateDirectories(dir))
                    sum += CgroupFile.ReadLong(Path.Combine(child, "memory.low"));
                if (CgroupFile.ReadLong(file, -1) != sum) CgroupFile.Write(file, sum.ToString());
            }
        }
    }
}
