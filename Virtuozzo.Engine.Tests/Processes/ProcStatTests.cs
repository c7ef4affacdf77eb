using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Tests.Processes;

public sealed class ProcStatTests
{
    [Fact]
    public void Parses_a_command_with_spaces_and_parentheses()
    {
        var line = "4242 (qemu (x) y) Z 1 4242 4242 0 -1 4194624 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0";
        var s = ProcStat.Parse(line)!;
        Assert.Equal(4242, s.Pid);
        Assert.Equal("qemu (x) y", s.Command);
        Assert.Equal('Z', s.State);
        Assert.Equal(1, s.ParentPid);
        Assert.Equal(987654UL, s.StartTimeTicks);
        Assert.False(s.IsAlive);
    }

    [Fact]
    public void Reads_this_process_as_alive()
    {
        var s = ProcStat.Read(Environment.ProcessId)!;
        Assert.True(s.IsAlive);
        Assert.True(ProcStat.IsSameLiveProcess(s.Pid, s.StartTimeTicks));
        Assert.False(ProcStat.IsSameLiveProcess(s.Pid, s.StartTimeTicks + 1));
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("12 (x) R")]
    public void Malformed_lines_give_null(string line) => Assert.Null(ProcStat.Parse(line));
}
