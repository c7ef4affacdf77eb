using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Store;

/// <summary>
/// A VE's memory size keeps one name, MemorySize, from the cmdlet parameter to the cgroup limit, while ve.yaml keeps
/// the key it always had ("memory: size:"), so files written before the rename load unchanged.
/// </summary>
public sealed class MemorySizeNameTests
{
    private const string OldFile = "schemaVersion: 1\nid: 6f1c1f5e-3a43-4c8e-9d0e-1c2b3a4d5e6f\nname: web01\ntype: Container\n" +
                                   "memory:\n  size: 268435456\n  swapSize: 33554432\ncontainer:\n  template: busybox\n";

    [Fact]
    public void A_ve_yaml_written_before_the_rename_loads_its_size_into_MemorySize()
    {
        var c = VeConfigFile.Parse("ve.yaml", OldFile);
        Assert.Equal(268435456, c.Memory.MemorySize);
        Assert.Equal(33554432, c.Memory.SwapSize);
    }

    [Fact]
    public void MemorySize_is_written_under_the_size_key()
    {
        var yaml = Yaml.Serializer.Serialize(VeConfigFile.Parse("ve.yaml", OldFile));
        Assert.Contains("\n  size: 268435456\n", yaml);
        Assert.DoesNotContain("memorySize", yaml);
    }

    [Fact]
    public void Every_carrier_on_the_path_to_the_cgroup_calls_the_value_MemorySize()
    {
        foreach (var carrier in new[] { typeof(ContainerChanges), typeof(MemorySettings), typeof(CgroupLimits) })
            Assert.NotNull(carrier.GetProperty("MemorySize"));
        Assert.Null(typeof(CgroupLimits).GetProperty("MemoryLimit"));
        Assert.Null(typeof(MemorySettings).GetProperty("Size"));
    }
}
