using Xunit;

namespace Virtuozzo.Engine.Tests.Qcow2;

/// <summary>
/// Qcow2/ is the lower layer: the disk service (Disks/) uses it, never the other way round, so the format code
/// stays usable and testable alone. A source scan, since both live in one assembly.
/// </summary>
public sealed class Qcow2LayeringTests
{
    [Fact]
    public void Qcow2DoesNotDependOnTheDiskService()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Virtuozzo.sln"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        var files = Directory.GetFiles(Path.Combine(dir!, "Virtuozzo.Engine", "Qcow2"), "*.cs");
        Assert.NotEmpty(files);
        var offenders = files.Where(f => File.ReadAllText(f).Contains("Virtuozzo.Engine.Disks", StringComparison.Ordinal)).Select(Path.GetFileName);
        Assert.Empty(offenders);
    }
}
