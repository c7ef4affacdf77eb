using Virtuozzo.Engine.Containers.Runtime;

namespace Virtuozzo.Engine.Tests.Containers;

/// <summary>The bundle writer maps a ve.yaml to the OCI config the golden file pins, and writes it into the bundle.</summary>
public sealed class OciBundleWriterTests
{
    private const string Root = "/vz/private/2d0308db-1805-4ea3-aec3-5b11e0311957/root";
    private const string Cgroup = "vz/ct-2d0308db18054ea3aec35b11e0311957";

    [Fact]
    public void The_input_from_a_ve_yaml_gives_the_golden_config()
    {
        var input = OciBundleWriter.InputFor(OciBundleTests.Ct1(), Root, Cgroup, hostCpuCount: 2);
        Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "Containers", "config.json")), OciBundle.ToJson(input));
    }

    [Fact]
    public void Writes_config_json_into_the_bundle_and_the_hostname_defaults_to_the_name()
    {
        using var dir = new TempDirectory();
        var cfg = OciBundleTests.Ct1();
        cfg.Container!.Hostname = null;
        OciBundleWriter.Write(dir.Path, OciBundleWriter.InputFor(cfg, Root, Cgroup, hostCpuCount: 2));
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir.Combine("config.json")))!;
        Assert.Equal("ct1", json["hostname"]!.GetValue<string>());
        Assert.Equal("/" + Cgroup, json["linux"]!["cgroupsPath"]!.GetValue<string>());
    }
}
