using System.Text.RegularExpressions;

namespace Virtuozzo.Engine.Tests.Metrics;

/// <summary>
/// Sampling starts no process: the metrics code reads files and talks QMP, and never reaches the process runner or
/// System.Diagnostics.Process (the bench checks the running service with strace as well).
/// </summary>
public sealed partial class NoProcessPerVeTests
{
    [GeneratedRegex(@"\bProcessRunner\b|\bRunAsync\(\s*""|Process\.Start|new\s+Process\b|ProcessStartInfo")]
    private static partial Regex Spawns();

    [Fact]
    public void Nothing_in_the_metrics_folder_starts_a_process()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Virtuozzo.Engine", "Virtuozzo.Engine.csproj"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        var files = Directory.GetFiles(Path.Combine(dir!, "Virtuozzo.Engine", "Metrics"), "*.cs");
        Assert.Contains(files, f => f.EndsWith("VeSampler.cs", StringComparison.Ordinal)); // the scan looks where the sampler is
        var offences = files.Where(f => Spawns().IsMatch(File.ReadAllText(f))).Select(Path.GetFileName).ToList();
        Assert.Empty(offences);
    }
}
