using System.Text.Json;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Store;
using Xunit;

namespace Virtuozzo.Engine.Tests.Containers;

/// <summary>The OCI config.json the engine writes from a ve.yaml, compared with a reviewed golden file.</summary>
public sealed class OciBundleTests
{
    private static readonly string GoldenPath = Path.Combine(AppContext.BaseDirectory, "Golden", "Containers", "config.json");

    internal static VeConfig Ct1()
    {
        var yaml = """
            schemaVersion: 1
            id: 2d0308db-1805-4ea3-aec3-5b11e0311957
            name: ct1
            type: Container
            memory:
              size: 134217728
              swapSize: 67108864
              guaranteePercent: 50
            cpu:
              units: 2000
              limitPercent: 50
              mask: 0-1
            container:
              template: busybox
              hostname: ct1.example.test
              uidBase: 1065536
              pidsLimit: 512
            """;
        return VeConfigFile.Parse("ve.yaml", yaml);
    }

    private static OciBundleInput Input(VeConfig cfg) => new()
    {
        RootPath = "/vz/private/2d0308db-1805-4ea3-aec3-5b11e0311957/root",
        Hostname = cfg.Container!.Hostname!,
        InitArgs = [cfg.Container.Init],
        UidBase = cfg.Container.UidBase,
        UidCount = cfg.Container.UidCount,
        CgroupsPath = "/vz/ct-2d0308db18054ea3aec35b11e0311957",
        Limits = ContainerConfigurator.ToLimits(cfg, hostCpuCount: 2),
        Seccomp = SeccompProfile.Resolve(cfg.Container.SeccompProfile, System.Runtime.InteropServices.Architecture.X64, cfg.Name),
    };

    [Fact]
    public void MatchesTheGoldenFile()
    {
        var json = OciBundle.ToJson(Input(Ct1()));
        if (Environment.GetEnvironmentVariable("VZ_UPDATE_GOLDEN") == "1")
        {
            var source = Path.Combine(AppContext.BaseDirectory, "../../../Golden/Containers/config.json");
            File.WriteAllText(source, json);
        }
        Assert.Equal(File.ReadAllText(GoldenPath), json);
    }

    [Fact]
    public void MapsContainerRootToItsOwnRangeAndKeepsHostCapabilitiesOut()
    {
        using var doc = JsonDocument.Parse(OciBundle.ToJson(Input(Ct1())));
        var linux = doc.RootElement.GetProperty("linux");
        var map = linux.GetProperty("uidMappings")[0];
        Assert.Equal(0, map.GetProperty("containerID").GetInt64());
        Assert.Equal(1065536, map.GetProperty("hostID").GetInt64());
        Assert.Equal(65536, map.GetProperty("size").GetInt64());
        Assert.Contains(linux.GetProperty("namespaces").EnumerateArray(), n => n.GetProperty("type").GetString() == "user");
        var caps = doc.RootElement.GetProperty("process").GetProperty("capabilities").GetProperty("bounding").EnumerateArray().Select(c => c.GetString()).ToList();
        foreach (var forbidden in new[] { "CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_TIME", "CAP_SYS_PTRACE", "CAP_MAC_ADMIN", "CAP_SYS_RESOURCE" })
            Assert.DoesNotContain(forbidden, caps);
        var devices = linux.GetProperty("resources").GetProperty("devices").EnumerateArray().ToList();
        Assert.False(devices[0].GetProperty("allow").GetBoolean()); // deny all first
        Assert.DoesNotContain(devices, d => d.TryGetProperty("type", out var t) && t.GetString() == "b"); // no block device
    }

    [Fact]
    public void ResourcesFollowPrlctlSemantics()
    {
        using var doc = JsonDocument.Parse(OciBundle.ToJson(Input(Ct1())));
        var r = doc.RootElement.GetProperty("linux").GetProperty("resources");
        Assert.Equal(134217728, r.GetProperty("memory").GetProperty("limit").GetInt64());
        Assert.Equal(134217728 + 67108864, r.GetProperty("memory").GetProperty("swap").GetInt64());   // memory + swap
        Assert.Equal(67108864, r.GetProperty("memory").GetProperty("reservation").GetInt64());        // 50 % guarantee
        Assert.Equal(2048, r.GetProperty("cpu").GetProperty("shares").GetInt64());                    // 2000 units * 1024 / 1000
        Assert.Equal(50000, r.GetProperty("cpu").GetProperty("quota").GetInt64());
        Assert.Equal(100000, r.GetProperty("cpu").GetProperty("period").GetInt64());
        Assert.Equal("0-1", r.GetProperty("cpu").GetProperty("cpus").GetString());
        Assert.Equal(512, r.GetProperty("pids").GetProperty("limit").GetInt64());
    }

    [Fact]
    public void NoLimitsMeansNoQuotaOrPidsEntry()
    {
        var cfg = new VeConfig { Name = "x", Container = new ContainerSettings { UidBase = 1000000 } };
        using var doc = JsonDocument.Parse(OciBundle.ToJson(Input(cfg) with { Hostname = "x" }));
        var r = doc.RootElement.GetProperty("linux").GetProperty("resources");
        Assert.False(r.GetProperty("cpu").TryGetProperty("quota", out _));
        Assert.False(r.TryGetProperty("pids", out _));
        Assert.Equal(ContainerConfigurator.DefaultMemorySize, r.GetProperty("memory").GetProperty("limit").GetInt64());
    }

    [Fact]
    public void DefaultSeccompProfileDeniesNestedUserNamespacesAndHostWideCallsWithEperm()
    {
        using var doc = JsonDocument.Parse(OciBundle.ToJson(Input(Ct1())));
        var seccomp = doc.RootElement.GetProperty("linux").GetProperty("seccomp");
        Assert.Equal("SCMP_ACT_ALLOW", seccomp.GetProperty("defaultAction").GetString());
        Assert.Contains("SCMP_ARCH_X86", seccomp.GetProperty("architectures").EnumerateArray().Select(a => a.GetString()));
        var rules = seccomp.GetProperty("syscalls").EnumerateArray().ToList();
        var plain = rules.Where(r => !r.TryGetProperty("args", out _) && r.GetProperty("errnoRet").GetInt32() == 1)
            .SelectMany(r => r.GetProperty("names").EnumerateArray().Select(n => n.GetString())).ToList();
        foreach (var call in new[] { "kexec_load", "init_module", "finit_module", "delete_module", "open_by_handle_at", "bpf", "perf_event_open",
                     "keyctl", "add_key", "request_key", "userfaultfd", "settimeofday", "clock_settime", "swapon", "swapoff", "acct" })
            Assert.Contains(call, plain);
        Assert.DoesNotContain("reboot", plain);   // init's poweroff ends the pid namespace
        Assert.DoesNotContain("ptrace", plain);
        var unshare = rules.Single(r => r.GetProperty("names")[0].GetString() == "unshare");
        var arg = unshare.GetProperty("args")[0];
        Assert.Equal("SCMP_CMP_MASKED_EQ", arg.GetProperty("op").GetString());
        Assert.Equal(0x10000000, arg.GetProperty("value").GetInt64()); // CLONE_NEWUSER only: other namespaces stay allowed
        var clone3 = rules.Single(r => r.GetProperty("names")[0].GetString() == "clone3");
        Assert.Equal(38, clone3.GetProperty("errnoRet").GetInt32()); // ENOSYS, so glibc falls back to clone
    }

    [Fact]
    public void UnconfinedContainerGetsNoSeccompFilter()
    {
        var cfg = Ct1();
        cfg.Container!.SeccompProfile = SeccompProfile.Validate("unconfined", "ct1");
        using var doc = JsonDocument.Parse(OciBundle.ToJson(Input(cfg)));
        Assert.False(doc.RootElement.GetProperty("linux").TryGetProperty("seccomp", out _));
    }

    [Fact]
    public void CustomSeccompProfileIsReadFromItsFileAndCheckedFirst()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "profile.json");
        File.WriteAllText(path, """{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [] }""");
        var cfg = Ct1();
        cfg.Container!.SeccompProfile = SeccompProfile.Validate(path, "ct1");
        using var doc = JsonDocument.Parse(OciBundle.ToJson(Input(cfg)));
        Assert.Equal("SCMP_ACT_ERRNO", doc.RootElement.GetProperty("linux").GetProperty("seccomp").GetProperty("defaultAction").GetString());
        Assert.Null(SeccompProfile.Validate("Default", "ct1"));
        File.WriteAllText(path, "{ \"syscalls\": [] }");
        foreach (var bad in new[] { "profile.json", path, dir.Path, Path.Combine(dir.Path, "missing.json") })
            Assert.Equal("VzInvalidSeccompProfile", Assert.Throws<Virtuozzo.Engine.Errors.VzInvalidArgumentException>(() => SeccompProfile.Validate(bad, "ct1")).ErrorId);
    }
}
