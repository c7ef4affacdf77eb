using System.Text.Json.Nodes;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.SharedFolders;
using Virtuozzo.Engine.Store;
using Virtuozzo.Engine.Tests.Containers;

namespace Virtuozzo.Engine.Tests.SharedFolders;

/// <summary>
/// Shares as devices: the QEMU command line of a VM with a virtio-fs and a 9p share (golden file shares.args), and a
/// container's bind mounts in its OCI config. VMs and containers without shares keep their golden files unchanged.
/// </summary>
public sealed class SharedFolderDevicesTests
{
    private static readonly Guid Id = Guid.Parse("3f2a9c1e-5b7d-4e8f-9a01-23456789abcd");
    private static readonly VzPaths Paths = new("/vz", "/run/vz", "vz");

    private static VeConfig Vm() => new()
    {
        Id = Id,
        Name = "web01",
        Type = VeType.VirtualMachine,
        Memory = new MemorySettings { MemorySize = 1024L * 1024 * 1024 },
        Cpu = new CpuSettings { Count = 1 },
        Vm = new VmSettings { MemHotplug = true, MaxMemorySize = 4L * 1024 * 1024 * 1024 },
        SharedFolders =
        [
            new VeSharedFolder { Name = "www", Path = "/srv/www" },
            new VeSharedFolder { Name = "docs", Path = "/srv/do,cs", ReadOnly = true },
        ],
    };

    [Fact]
    public void A_vm_with_shares_gets_shared_memfd_ram_vhost_user_fs_and_virtio_9p()
    {
        var rt = VmRuntimePaths.For(Paths, Id);
        var args = QemuCommandLine.Build(Vm(), rt, Accelerator.Tcg, p => p, shares: VmSharePlan.For(Vm(), rt, virtiofsdInstalled: true));
        var text = string.Join('\n', args) + "\n";
        var golden = Path.Combine(AppContext.BaseDirectory, "Golden", "Qemu", "shares.args");
        if (Environment.GetEnvironmentVariable("VZ_UPDATE_GOLDEN") == "1")
            File.WriteAllText(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../Golden/Qemu/shares.args")), text);
        else Assert.Equal(File.ReadAllText(golden), text);
        Assert.Contains("q35,memory-backend=ram0", args);
        Assert.Contains("memory-backend-memfd,id=ram0,size=1024M,share=on", args);
    }

    [Fact]
    public void Only_9p_shares_leave_the_ram_as_it_was()
    {
        var rt = VmRuntimePaths.For(Paths, Id);
        var cfg = Vm();
        cfg.SharedFolders!.RemoveAt(0);
        var args = QemuCommandLine.Build(cfg, rt, Accelerator.Tcg, p => p, shares: VmSharePlan.For(cfg, rt, true));
        Assert.DoesNotContain(args, a => a.Contains("memory-backend", StringComparison.Ordinal));
        Assert.Contains("local,id=fsdev-docs,path=/srv/do,,cs,security_model=passthrough,readonly=on", args);
    }

    [Fact]
    public void A_container_gets_its_shares_as_bind_mounts_after_the_runtime_mounts()
    {
        var cfg = OciBundleTests.Ct1();
        cfg.SharedFolders = [new VeSharedFolder { Name = "data", Path = "/srv/data", GuestPath = "/srv/shared" }, new VeSharedFolder { Name = "ro", Path = "/srv/ro", ReadOnly = true }];
        JsonArray Mounts(bool idmap) => JsonNode.Parse(OciBundle.ToJson(OciBundleWriter.InputFor(cfg, "/root", "vz/ct", 2, idmap)))!["mounts"]!.AsArray();
        var plain = Mounts(false);
        Assert.Equal("/run", plain[^3]!["destination"]!.GetValue<string>());
        Assert.Equal("""{"destination":"/srv/shared","type":"bind","source":"/srv/data","options":["rbind","nosuid","nodev"]}""", plain[^2]!.ToJsonString());
        Assert.Equal("""{"destination":"/mnt/ro","type":"bind","source":"/srv/ro","options":["rbind","nosuid","nodev","ro"]}""", plain[^1]!.ToJsonString());
        Assert.Equal("""["rbind","nosuid","nodev","idmap"]""", Mounts(true)[^2]!["options"]!.ToJsonString());
    }
}
