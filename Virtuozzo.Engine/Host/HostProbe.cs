using System.Text.Json;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Host;

/// <summary>
/// Answers "what can this host do". Cheap facts (memory, free space, cgroup mounts) are read on every call;
/// the slow ones (trial guests, trial containers, tool versions) are cached in memory and in the run folder
/// for <see cref="CapabilityMaxAge"/>, so a fresh pwsh answers fast too.
/// </summary>
public sealed class HostProbe(VzPaths paths, ProcessRunner runner, ILogger<HostProbe> logger)
{
    public static readonly TimeSpan CapabilityMaxAge = TimeSpan.FromMinutes(30);
    private static readonly SemaphoreSlim ProbeGate = new(1, 1);
    private static HostCapabilities? memoryCache;

    /// <summary>
    /// Tries an OCI runtime for real (set by the containers area): null when it ran a container, else the reason.
    /// </summary>
    public Func<OciRuntimeInfo, CancellationToken, Task<string?>>? RuntimeTrial { get; set; }

    private string CacheFile => Path.Combine(paths.RunRoot, "host-capabilities.json");

    public async Task<HostInfo> GetAsync(bool refresh = false, CancellationToken cancellationToken = default)
    {
        var caps = await GetCapabilitiesAsync(refresh, cancellationToken);
        var (mode, controllers, unified) = CgroupLayout.Read();
        var mem = MemInfo.Read();
        var settings = HostSettings.Load();
        var balloon = settings.Balloon ?? new Memory.Balloon.BalloonPolicySettings();
        return new HostInfo
        {
            ComputerName = Environment.MachineName,
            Kernel = caps.Kernel,
            CpuCount = Environment.ProcessorCount,
            CpuModel = CpuInfo.ModelName(),
            CpuMhz = CpuInfo.NominalMhz(),
            MemoryTotal = mem.Total,
            MemoryAvailable = mem.Available,
            CgroupMode = mode,
            CgroupControllers = controllers,
            CgroupParent = paths.CgroupParent,
            CgroupDelegatedControllers = mode == CgroupMode.V2 && unified is not null ? Cgroups.V2.CgroupV2Delegation.Delegated(unified, paths.CgroupParent) : null,
            SwapAccounting = Virtuozzo.Engine.Host.SwapAccounting.IsEnabled,
            Accelerator = caps.KvmUsable ? Accelerator.Kvm : caps.TcgAvailable ? Accelerator.Tcg : Accelerator.None,
            KvmUsable = caps.KvmUsable,
            KvmReason = caps.KvmReason,
            TcgAvailable = caps.TcgAvailable,
            QemuVersion = caps.QemuVersion,
            QemuImgVersion = caps.QemuImgVersion,
            ContainerRuntimes = caps.ContainerRuntimes,
            ContainerRuntime = SelectRuntime(caps.ContainerRuntimes, settings.ContainerRuntime),
            CriuVersion = caps.CriuVersion,
            CriuUsable = caps.CriuUsable,
            CriuReason = caps.CriuReason,
            KsmAvailable = File.Exists("/sys/kernel/mm/ksm/run"),
            DataRoot = paths.DataRoot,
            DataRootFreeBytes = FreeSpace.AvailableBytes(paths.DataRoot),
            AutoBalloon = balloon.Enabled,
            BalloonBufferPercent = balloon.BufferPercent,
            BalloonIntervalSeconds = balloon.MinIntervalSeconds,
            BalloonLowAvailablePercent = balloon.LowAvailablePercent,
            MetricsEnabled = settings.Metrics?.Enabled ?? false,
            MetricsAddress = settings.Metrics?.Address ?? Metrics.MetricsSettings.DefaultAddress,
            AllowRemoteMetrics = settings.Metrics?.AllowRemote ?? false,
            ProbedAt = caps.ProbedAt,
            ProbeAge = DateTimeOffset.UtcNow - caps.ProbedAt,
        };
    }

    /// <summary>The forced runtime when one is set, else the first that ran a trial container.</summary>
    public static string? SelectRuntime(IReadOnlyList<OciRuntimeInfo> runtimes, string? forced) =>
        forced is { Length: > 0 } ? forced : runtimes.FirstOrDefault(r => r.CanRun == true)?.Name;

    public async Task<HostCapabilities> GetCapabilitiesAsync(bool refresh, CancellationToken cancellationToken)
    {
        if (!refresh && Fresh(memoryCache) is { } hot) return hot;
        await ProbeGate.WaitAsync(cancellationToken);
        try
        {
            if (!refresh && Fresh(memoryCache ??= ReadCacheFile()) is { } cached) return cached;
            var caps = await ProbeAsync(cancellationToken);
            memoryCache = caps;
            WriteCacheFile(caps);
            return caps;
        }
        finally { ProbeGate.Release(); }
    }

    private static readonly string EngineBuild = typeof(HostProbe).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    private static HostCapabilities? Fresh(HostCapabilities? c) =>
        c is not null && DateTimeOffset.UtcNow - c.ProbedAt < CapabilityMaxAge && c.Kernel == Kernel() && c.ProbeVersion == EngineBuild ? c : null;

    private async Task<HostCapabilities> ProbeAsync(CancellationToken ct)
    {
        logger.LogInformation("Probing host capabilities (trial guests and containers; takes a few seconds).");
        var work = Path.Combine(paths.RunRoot, "probe");
        var trial = new AcceleratorTrial(runner);
        var kvmPresent = File.Exists("/dev/kvm");
        var kvmTask = kvmPresent ? trial.TryAsync("kvm", work, ct) : Task.FromResult<string?>("/dev/kvm does not exist (no hardware virtualization, or the kvm module is not loaded).");
        var tcgTask = trial.TryAsync("tcg", work, ct);
        var qemuTask = VersionAsync("qemu-system-x86_64", ["--version"], ct);
        var imgTask = VersionAsync("qemu-img", ["--version"], ct);
        var criuTask = CriuAsync(ct);
        var runtimes = new List<OciRuntimeInfo>();
        foreach (var name in new[] { "crun", "runc" })
        {
            var path = ToolLocator.Find(name);
            if (path is null) continue;
            var version = await VersionAsync(name, ["--version"], ct);
            var info = new OciRuntimeInfo(name, path, version, null, "not tried");
            if (RuntimeTrial is not null)
            {
                var failure = await RuntimeTrial(info, ct);
                info = info with { CanRun = failure is null, Reason = failure };
            }
            runtimes.Add(info);
        }
        var kvm = await kvmTask;
        var tcg = await tcgTask;
        var criu = await criuTask;
        if (kvm is not null) logger.LogInformation("KVM is not usable: {Reason}", kvm);
        return new HostCapabilities
        {
            ProbedAt = DateTimeOffset.UtcNow,
            ProbeVersion = EngineBuild,
            Kernel = Kernel(),
            KvmDevicePresent = kvmPresent,
            KvmUsable = kvm is null,
            KvmReason = kvm,
            TcgAvailable = tcg is null,
            TcgReason = tcg,
            QemuVersion = await qemuTask,
            QemuImgVersion = await imgTask,
            ContainerRuntimes = runtimes,
            CriuVersion = criu.Version,
            CriuUsable = criu.Usable,
            CriuReason = criu.Reason,
        };
    }

    private async Task<(string? Version, bool Usable, string? Reason)> CriuAsync(CancellationToken ct)
    {
        var version = await VersionAsync("criu", ["--version"], ct);
        if (version is null) return (null, false, "criu is not installed.");
        var check = await runner.RunAsync("criu", ["check"], new ProcessRunOptions { ThrowOnFailure = false, Timeout = TimeSpan.FromSeconds(10) }, ct);
        if (check.ExitCode == 0) return (version, true, null);
        var why = (check.StandardError + check.StandardOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(l => l.Contains("Error", StringComparison.OrdinalIgnoreCase))
                  ?? $"'criu check' exited with {check.ExitCode}";
        return (version, false, why.Trim());
    }

    private async Task<string?> VersionAsync(string tool, string[] args, CancellationToken ct)
    {
        if (ToolLocator.Find(tool) is null) return null;
        try
        {
            var r = await runner.RunAsync(tool, args, new ProcessRunOptions { ThrowOnFailure = false, Timeout = TimeSpan.FromSeconds(10) }, ct);
            var text = (r.StandardOutput.Length > 0 ? r.StandardOutput : r.StandardError).Split('\n')[0].Trim();
            var m = System.Text.RegularExpressions.Regex.Match(text, @"\d+\.\d+(\.\d+)?");
            return m.Success ? m.Value : text;
        }
        catch (Errors.VzException ex)
        {
            logger.LogDebug("{Tool} version probe failed: {Message}", tool, ex.Message);
            return null;
        }
    }

    private HostCapabilities? ReadCacheFile()
    {
        try { return File.Exists(CacheFile) ? JsonSerializer.Deserialize<HostCapabilities>(File.ReadAllText(CacheFile)) : null; }
        catch (Exception ex) when (ex is JsonException or IOException) { return null; } // a bad cache is just a miss
    }

    private void WriteCacheFile(HostCapabilities caps)
    {
        try
        {
            Directory.CreateDirectory(paths.RunRoot);
            Store.AtomicFile.WriteAllText(CacheFile, JsonSerializer.Serialize(caps));
        }
        catch (IOException ex) { logger.LogDebug("Could not cache the host probe: {Message}", ex.Message); }
        catch (UnauthorizedAccessException ex) { logger.LogDebug("Could not cache the host probe: {Message}", ex.Message); }
    }

    private static string Kernel() => File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
}
