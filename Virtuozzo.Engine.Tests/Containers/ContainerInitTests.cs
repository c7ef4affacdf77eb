using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Tests.Containers;

/// <summary>The run folder's init record, as listings read it (this test process stands in for a container's init).</summary>
public sealed class ContainerInitTests
{
    private static readonly int Self = Environment.ProcessId;
    private static readonly ulong SelfStart = ProcStat.Read(Environment.ProcessId)!.StartTimeTicks;

    [Fact]
    public void A_recorded_start_is_read_from_the_one_record_line()
    {
        using var dir = new TempDirectory();
        var init = new ContainerInit(dir.Combine("run"));
        init.Prepare("crun");
        File.WriteAllText(init.PidFile, Self.ToString());
        Assert.Equal(Self, init.Record("ct1", "crun"));
        Assert.Equal($"{SelfStart} {Self} crun", File.ReadAllText(init.StartFile));
        // The record line alone says it all: the other two files are not needed to read it.
        File.Delete(init.PidFile);
        File.Delete(init.RuntimeFile);
        Assert.Equal((true, Self, "crun"), init.Live());
    }

    [Fact]
    public void A_run_folder_written_before_the_record_line_still_reads()
    {
        using var dir = new TempDirectory();
        var init = new ContainerInit(dir.Combine("run"));
        init.Prepare("runc");
        File.WriteAllText(init.PidFile, Self.ToString());
        File.WriteAllText(init.StartFile, SelfStart.ToString());
        Assert.Equal((true, Self, "runc"), init.Live());
    }

    [Fact]
    public void A_recycled_pid_a_start_under_way_and_no_run_folder_are_not_running()
    {
        using var dir = new TempDirectory();
        var init = new ContainerInit(dir.Combine("run"));
        Assert.Equal((false, 0, (string?)null), init.Live());
        init.Prepare("crun");
        Assert.Equal((false, 0, "crun"), init.Live()); // runtime noted, init not recorded yet
        File.WriteAllText(init.StartFile, $"{SelfStart + 1} {Self} crun");
        Assert.Equal((false, Self, "crun"), init.Live());
    }
}
