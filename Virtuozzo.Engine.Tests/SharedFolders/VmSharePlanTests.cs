using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.SharedFolders;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.SharedFolders;

/// <summary>Which transport a VM share gets, virtiofsd's arguments, and the runtime versions that make idmapped mounts.</summary>
public sealed class VmSharePlanTests
{
    private static readonly VmRuntimePaths Rt = VmRuntimePaths.For(new VzPaths("/vz", "/run/vz", "vz"), Guid.Parse("3f2a9c1e-5b7d-4e8f-9a01-23456789abcd"));

    private static VeConfig Vm(params VeSharedFolder[] shares) => new() { Name = "vm", Type = VeType.VirtualMachine, SharedFolders = [.. shares] };

    [Fact]
    public void Virtio_fs_when_possible_9p_when_read_only_asked_or_no_daemon()
    {
        var cfg = Vm(new VeSharedFolder { Name = "rw", Path = "/srv/a" },
                     new VeSharedFolder { Name = "ro", Path = "/srv/b", ReadOnly = true },
                     new VeSharedFolder { Name = "p9", Path = "/srv/c", Transport = SharedFolderTransport.NineP });
        Assert.Equal([SharedFolderTransport.VirtioFs, SharedFolderTransport.NineP, SharedFolderTransport.NineP],
            VmSharePlan.For(cfg, Rt, virtiofsdInstalled: true).Select(s => s.Transport));
        Assert.All(VmSharePlan.For(cfg, Rt, virtiofsdInstalled: false), s => Assert.Equal(SharedFolderTransport.NineP, s.Transport));
        Assert.Equal("/run/vz/3f2a9c1e5b7d/vfs-rw.sock", VmSharePlan.For(cfg, Rt, true)[0].SocketPath);
    }

    [Fact]
    public void An_explicit_virtio_fs_share_without_virtiofsd_is_an_error_not_a_silent_9p()
    {
        var cfg = Vm(new VeSharedFolder { Name = "v", Path = "/srv/a", Transport = SharedFolderTransport.VirtioFs });
        var ex = Assert.Throws<VzCapabilityMissingException>(() => VmSharePlan.For(cfg, Rt, virtiofsdInstalled: false));
        Assert.Equal("VzVirtiofsdMissing", ex.ErrorId);
        Assert.Equal(VmSharePlan.VirtiofsdPath, ex.Capability);
    }

    [Fact]
    public void Virtiofsd_runs_sandboxed_in_the_foreground_with_escaped_source()
    {
        var share = VmSharePlan.For(Vm(new VeSharedFolder { Name = "s", Path = "/srv/a,b" }), Rt, true)[0];
        Assert.Equal(["--socket-path=/run/vz/3f2a9c1e5b7d/vfs-s.sock", "-o", @"source=/srv/a\,b", "-o", "sandbox=namespace,cache=auto,modcaps=-mknod:-setfcap", "-f"],
            VirtioFsDaemon.Arguments(share));
    }

    [Theory]
    [InlineData("crun", "crun version 1.8.1\ncommit: f8a096b\n", true)]
    [InlineData("crun", "crun version 1.7.2\n", false)]
    [InlineData("crun", "crun version 1.14\n", true)]
    [InlineData("runc", "runc version 1.1.5\n", false)]
    [InlineData("runc", "runc version 1.2.0\n", true)]
    [InlineData("crun", "garbage", false)]
    public void Idmapped_mounts_need_crun_1_8_or_runc_1_2(string runtime, string version, bool expected) =>
        Assert.Equal(expected, IdMappedMounts.RuntimeSupports(runtime, version));
}
