using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Tests.Processes;

public sealed class ProcessRunnerTests
{
    private readonly ProcessRunner runner = new(NullLogger<ProcessRunner>.Instance);

    [Fact]
    public async Task Arguments_are_passed_verbatim_without_a_shell()
    {
        var r = await runner.RunAsync("printf", ["%s|", "a b", "$HOME", "'q'"]);
        Assert.Equal("a b|$HOME|'q'|", r.StandardOutput.TrimEnd('\n'));
    }

    [Fact]
    public async Task A_failing_program_raises_its_exit_code_and_stderr()
    {
        var ex = await Assert.ThrowsAsync<VzExternalToolException>(() => runner.RunAsync("sh", ["-c", "echo broken >&2; exit 3"]));
        Assert.Equal(3, ex.ExitCode);
        Assert.Contains("broken", ex.StandardError);
        Assert.Contains("exit code 3", ex.Message);
    }

    [Fact]
    public async Task A_program_past_its_timeout_is_killed_with_its_children()
    {
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<VzTimeoutException>(() =>
            runner.RunAsync("sh", ["-c", "sleep 30 & wait"], new ProcessRunOptions { Timeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Equal("VzToolTimedOut", ex.ErrorId);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Cancellation_stops_the_program()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync("sleep", ["30"], null, cts.Token));
    }

    [Fact]
    public async Task A_missing_program_is_a_capability_error()
    {
        var ex = await Assert.ThrowsAsync<VzCapabilityMissingException>(() => runner.RunAsync("no-such-tool-vz", []));
        Assert.Equal("no-such-tool-vz", ex.Capability);
    }

    [Fact]
    public async Task Standard_input_and_line_callbacks_work()
    {
        var lines = new List<string>();
        var r = await runner.RunAsync("cat", [], new ProcessRunOptions { StandardInput = "x\ny\n", OnStandardOutputLine = l => { lock (lines) lines.Add(l); } });
        Assert.Equal("x\ny\n", r.StandardOutput);
        Assert.Equal(["x", "y"], lines);
    }
}
