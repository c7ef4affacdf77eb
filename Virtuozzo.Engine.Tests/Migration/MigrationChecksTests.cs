using Virtuozzo.Engine.Migration;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Migration;

/// <summary>The source-side refusals and the SSH transport's arguments and error mapping (pure: no host, no ssh).</summary>
public sealed class MigrationChecksTests
{
    private static VeConfig Vm(params VmDisk[] disks) => new()
    {
        Id = Guid.NewGuid(), Name = "vm1", Type = VeType.VirtualMachine, Vm = new VmSettings { Disks = [.. disks] },
    };

    private static MigrationChecks.SourceFacts Facts(VeConfig c, string state = "Running", MigrationProgress? qemu = null, params BlockJobInfo[] jobs) =>
        new(c, MigrationMode.Live, state, qemu, jobs, p => Path.IsPathRooted(p) ? p : "/vz/private/x/" + p, "/vz/private/x");

    [Fact]
    public void A_running_VM_with_an_attached_shared_folder_is_refused_with_the_reason()
    {
        var facts = Facts(Vm(new VmDisk { Id = "disk0", Path = "disk0.qcow2", Format = "qcow2" })) with { SharedFolderBlocker = "virtio-fs share 'data' attached" };
        var entry = Assert.Single(MigrationChecks.Source(facts));
        Assert.Equal("VzMigrationSharedFolderAttached", entry.MessageId);
        Assert.Equal("vm1", entry.Source);
        Assert.Contains("virtio-fs", entry.Message);
    }

    [Fact]
    public void A_running_VM_with_its_disk_in_its_folder_has_no_incompatibility() =>
        Assert.Empty(MigrationChecks.Source(Facts(Vm(new VmDisk { Id = "disk0", Path = "disk0.qcow2", Format = "qcow2" }))));

    [Fact]
    public void Each_source_problem_is_one_entry_with_its_message_id_and_object()
    {
        var c = Vm(new VmDisk { Id = "disk0", Path = "/srv/elsewhere.qcow2", Format = "qcow2" });
        var found = MigrationChecks.Source(Facts(c, "Paused", new MigrationProgress { Status = "none", BlockedReasons = ["virtio-fs device"] },
            new BlockJobInfo("backup0", "backup", 10, 5, false)));
        Assert.Equal(["VzMigrationTransitionalState", "VzMigrationBlockedByQemu", "VzMigrationBlockJobRunning", "VzMigrationDiskOutsideVe"], found.Select(f => f.MessageId));
        Assert.Equal("backup0", found[2].Source);
        Assert.Equal("disk0", found[3].Source);
        Assert.All(found, f => Assert.Equal(MigrationSide.Source, f.Side));
    }

    [Fact]
    public void Ssh_always_checks_host_keys_in_batch_mode_and_quotes_the_remote_command()
    {
        var ssh = new SshTransport(new MigrationDestination("b", 2222, "root", "/k/id"));
        var args = ssh.CommandArguments(["/usr/bin/dotnet", "/opt/vz dir/svc.dll", "migrate-agent", "probe"]);
        Assert.Contains("StrictHostKeyChecking=yes", args);
        Assert.Contains("BatchMode=yes", args);
        Assert.Equal(["-p", "2222"], args.SkipWhile(a => a != "-p").Take(2));
        Assert.Equal("/usr/bin/dotnet '/opt/vz dir/svc.dll' migrate-agent probe", args[^1]);
        Assert.Equal("b", args[^3]);
    }

    [Theory]
    [InlineData("Host key verification failed.", "VzMigrationHostKeyUntrusted")]
    [InlineData("root@b: Permission denied (publickey).", "VzMigrationAuthenticationFailed")]
    [InlineData("ssh: Could not resolve hostname nosuch: Name or service not known", "VzMigrationHostUnreachable")]
    [InlineData("ssh: connect to host 198.19.10.9 port 22: No route to host", "VzMigrationHostUnreachable")]
    public void Ssh_failures_become_the_error_that_names_the_cause(string stderr, string id) =>
        Assert.Equal(id, new SshTransport(new MigrationDestination("b")).ConnectionError(stderr).ErrorId);
}
