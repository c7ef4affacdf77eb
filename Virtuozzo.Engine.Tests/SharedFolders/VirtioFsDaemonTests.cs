using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Engine.Tests.SharedFolders;

/// <summary>A fact that needs root and QEMU 7.2's virtiofsd (qemu-system-common); skipped, with the reason, elsewhere.</summary>
public sealed class RootVirtiofsdFactAttribute : FactAttribute
{
    public RootVirtiofsdFactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root";
        else if (!File.Exists(VmSharePlan.VirtiofsdPath)) Skip = $"{VmSharePlan.VirtiofsdPath} is not installed";
    }
}

/// <summary>The real virtiofsd, without QEMU: started listening, recorded, its death described, ended with the run folder.</summary>
public sealed class VirtioFsDaemonTests
{
    [RootVirtiofsdFact]
    public async Task Starts_listening_is_seen_dying_and_is_ended_with_the_run_folder()
    {
        using var dir = new TempDirectory();
        var share = Directory.CreateDirectory(dir.Combine("share")).FullName;
        var rt = new VmRuntimePaths(dir.Combine("run"), Directory.CreateDirectory(dir.Combine("ve")).FullName);
        var runner = new ProcessRunner(NullLogger<ProcessRunner>.Instance);
        var first = new VmShareDevice("one", SharedFolderTransport.VirtioFs, share, false, rt.VirtioFsSocket("one"));
        var second = first with { Tag = "two", SocketPath = rt.VirtioFsSocket("two") };
        var pid1 = await VirtioFsDaemon.StartAsync(runner, rt, first, "vm", CancellationToken.None);
        var pid2 = await VirtioFsDaemon.StartAsync(runner, rt, second, "vm", CancellationToken.None);
        try
        {
            Assert.True(File.Exists(first.SocketPath));
            Assert.Equal(pid1, VirtioFsDaemon.AlivePid(rt, "one"));
            Assert.Contains("virtiofsd", File.ReadAllText($"/proc/{pid1}/cmdline"));
            // It leads its own session (setsid): a Ctrl+C or hang-up of the admin's terminal does not reach it.
            Assert.Equal(pid1, Session(pid1));
            Assert.NotEqual(Session(Environment.ProcessId), Session(pid1));

            VmShareState.Write(rt, [first, second]);
            Assert.Null(VmShareState.DeadDaemonReason(rt));
            Native.LibC.kill(pid1, 9);
            for (var i = 0; i < 100 && VirtioFsDaemon.AlivePid(rt, "one") is not null; i++) await Task.Delay(50);
            Assert.Equal($"The virtio-fs daemon of shared folder 'one' (pid {pid1}) exited: the guest's mount of 'one' hangs until the VM is stopped and started again.",
                VmShareState.DeadDaemonReason(rt));

            QemuProcess.CleanRunDirectory(rt);
            Assert.False(Directory.Exists(rt.RunDirectory));
            Assert.False(ProcStat.Read(pid2) is { IsAlive: true });
        }
        finally
        {
            foreach (var pid in new[] { pid1, pid2 }) if (ProcStat.Read(pid) is { IsAlive: true }) Native.LibC.kill(pid, 9);
        }
    }

    /// <summary>The session id: the fourth field after the command in /proc/PID/stat.</summary>
    private static int Session(int pid)
    {
        var text = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(text[(text.LastIndexOf(')') + 2)..].Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture);
    }

    [RootVirtiofsdFact]
    public async Task A_daemon_that_cannot_start_is_an_error_with_its_log()
    {
        using var dir = new TempDirectory();
        var rt = new VmRuntimePaths(dir.Combine("run"), Directory.CreateDirectory(dir.Combine("ve")).FullName);
        var bad = new VmShareDevice("bad", SharedFolderTransport.VirtioFs, dir.Combine("missing"), false, rt.VirtioFsSocket("bad"));
        var ex = await Assert.ThrowsAsync<Errors.VzExternalToolException>(() =>
            VirtioFsDaemon.StartAsync(new ProcessRunner(NullLogger<ProcessRunner>.Instance), rt, bad, "vm", CancellationToken.None));
        Assert.Equal("virtiofsd", ex.Tool);
        Assert.Contains("exited at start-up", ex.Message);
    }
}
