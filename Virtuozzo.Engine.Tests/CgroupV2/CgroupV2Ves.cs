using System.Diagnostics;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Tests.CgroupV2;

/// <summary>
/// An engine on a private data root whose VE cgroups go under <see cref="Parent"/> in the real cgroup2 tree, and the
/// helpers the v2 tests share: make busybox containers, read their kernel files, and remove everything afterwards.
/// </summary>
public class CgroupV2Ves : IAsyncLifetime
{
    protected static readonly TimeSpan Slow = TimeSpan.FromMinutes(2); // TCG guest

    private readonly string scratch = Path.Combine(Path.GetTempPath(), "vzv2-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<Guid> made = [];

    protected CgroupV2Ves(string parent = "vz")
    {
        Parent = parent;
        Mount = CgroupLayout.Read().UnifiedMount ?? "/sys/fs/cgroup";
        Directory.CreateDirectory(scratch);
        File.SetUnixFileMode(scratch, (UnixFileMode)0b111_101_101);
        Engine = new VzEngine(new VzPaths(Path.Combine(scratch, "data"), Path.Combine(scratch, "run"), parent));
    }

    protected string Parent { get; }
    protected string Mount { get; }
    protected VzEngine Engine { get; }
    protected ContainerService Containers => Engine.Containers;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var id in made)
        {
            try { await Containers.RemoveAsync(id, force: true, CancellationToken.None); }
            catch (Errors.VzNotFoundException) { }
        }
        try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        // Every test ends with its VEs removed: no group may be left under the parent, nor the parent itself.
        if (Directory.Exists(ParentDir))
            throw new InvalidOperationException($"The cgroup {ParentDir} was left behind: {string.Join(", ", Directory.GetDirectories(ParentDir).Select(Path.GetFileName))}");
    }

    protected async Task<ContainerInfo> NewAsync(string name, ContainerChanges settings)
    {
        var ct = await Containers.CreateAsync(name, "busybox", settings, null, CancellationToken.None);
        made.Add(ct.Id);
        return ct;
    }

    protected async Task<ContainerInfo> StartAsync(ContainerInfo ct) => await Containers.StartAsync(ct.Id, null, CancellationToken.None);

    protected async Task<ContainerInfo> StopAsync(ContainerInfo ct) => await Containers.StopAsync(ct.Id, kill: true, TimeSpan.Zero, CancellationToken.None);

    protected async Task<ContainerCommandResult> ExecAsync(ContainerInfo ct, string shell) =>
        await Containers.ExecAsync(ct.Id, ["/bin/sh", "-c", shell], Slow, null, null, null, CancellationToken.None);

    /// <summary>
    /// Starts a busybox container of 256 MiB with <paramref name="guaranteePercent"/> and 256 MiB of swap, and fills a
    /// 200 MiB working set in a file of its root tree (the v2 host keeps data roots on tmpfs: shmem, charged to the
    /// container's group, reclaimable only into swap).
    /// </summary>
    internal async Task<ContainerInfo> FillAsync(string name, int guaranteePercent)
    {
        var ct = await StartAsync(await NewAsync(name, new ContainerChanges { MemorySize = 256L << 20, SwapSize = 256L << 20, MemGuarantee = guaranteePercent }));
        var r = await ExecAsync(ct, "dd if=/dev/zero of=/var/working-set bs=1M count=200 2>&1");
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        return ct;
    }

    /// <summary>The VE's group folder in the cgroup2 tree.</summary>
    protected string Group(ContainerInfo ct) => Path.Combine(Mount, Containers.CgroupPlacement.PathOf(ct.Id));

    protected string ParentDir => Path.Combine(Mount, Parent);

    protected static string ReadFile(string dir, string file) => File.ReadAllText(Path.Combine(dir, file)).Trim();

    protected static long ReadLong(string dir, string file) => long.Parse(ReadFile(dir, file));

    protected static long Keyed(string dir, string file, string key) =>
        ReadFile(dir, file).Split('\n').Select(l => l.Split(' ')).Where(p => p.Length == 2 && p[0] == key).Select(p => long.Parse(p[1])).Single();

    /// <summary>Runs a host (guest-side, outside every VE) shell command and returns its output; throws when it fails.</summary>
    protected static string Sh(string command)
    {
        using var p = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Slow)) { p.Kill(true); throw new TimeoutException(command); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"'{command}' exited with {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
