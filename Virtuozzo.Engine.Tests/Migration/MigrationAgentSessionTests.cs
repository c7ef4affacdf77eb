using System.Text;
using System.Text.Json;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Migration;

namespace Virtuozzo.Engine.Tests.Migration;

/// <summary>
/// The agent's session verb (one ssh session for a whole move): one answer line per request line, in order, errors
/// as lines that do not end the session, end of input ends it. An empty data root, so a commit or abort of an
/// unknown VE answers with its typed error and nothing is made.
/// </summary>
public sealed class MigrationAgentSessionTests : IDisposable
{
    private readonly string scratch = Path.Combine(Path.GetTempPath(), "vzagent-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly MigrationAgent agent;

    public MigrationAgentSessionTests()
    {
        Directory.CreateDirectory(scratch);
        agent = new MigrationAgent(new VzEngine(new VzPaths(Path.Combine(scratch, "data"), Path.Combine(scratch, "run"), "vzagent-test")));
    }

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private async Task<(int Code, List<JsonElement> Answers)> SessionAsync(params string[] lines)
    {
        var output = new StringWriter();
        var input = new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));
        var code = await agent.RunAsync(["session"], input, output, CancellationToken.None);
        var answers = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        return (code, answers);
    }

    private static string Request(string verb, params string[] args) =>
        JsonSerializer.Serialize(new AgentSessionRequest { Verb = verb, Args = [.. args] }, AgentJson.Options);

    private static string? ErrorId(JsonElement answer) =>
        answer.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e.GetProperty("errorId").GetString() : null;

    [Fact]
    public async Task Answers_every_request_in_order_and_an_error_does_not_end_the_session()
    {
        var id = Guid.NewGuid().ToString("D");
        var (code, answers) = await SessionAsync(Request("commit", id), Request("frobnicate"), Request("abort", id));
        Assert.Equal(0, code);
        Assert.Equal(3, answers.Count);
        Assert.Equal("VzMigrationNotIncoming", ErrorId(answers[0]));
        Assert.Equal("VzMigrationAgentVerb", ErrorId(answers[1]));
        // Aborting a VE this host never heard of is a no-op answer, not an error.
        Assert.Null(ErrorId(answers[2]));
        Assert.False(answers[2].GetProperty("reply").GetProperty("aborted").GetBoolean());
    }

    [Fact]
    public async Task A_line_that_is_not_a_request_and_a_streaming_verb_are_refused_and_the_session_goes_on()
    {
        var (code, answers) = await SessionAsync("not json", Request("receive", Guid.NewGuid().ToString("D")), Request("abort", Guid.NewGuid().ToString("D")));
        Assert.Equal(0, code);
        Assert.Equal(["VzMigrationAgentArgument", "VzMigrationAgentArgument", null], answers.Select(ErrorId));
    }

    [Fact]
    public async Task The_request_of_a_line_reaches_its_verb()
    {
        // A probe whose request carries a broken configuration is refused by the probe itself (not as a protocol error).
        var line = JsonSerializer.Serialize(new AgentSessionRequest { Verb = "probe", Request = JsonSerializer.SerializeToElement(new AgentProbeRequest { ConfigYaml = "{" }, AgentJson.Options) }, AgentJson.Options);
        var (_, answers) = await SessionAsync(line);
        var id = ErrorId(Assert.Single(answers));
        Assert.NotNull(id);
        Assert.NotEqual("VzMigrationAgentArgument", id);
        Assert.False(Directory.Exists(Path.Combine(scratch, "data", "private")) && Directory.EnumerateFileSystemEntries(Path.Combine(scratch, "data", "private")).Any());
    }

    [Fact]
    public async Task End_of_input_ends_an_idle_session_at_once()
    {
        var (code, answers) = await SessionAsync();
        Assert.Equal(0, code);
        Assert.Empty(answers);
    }
}
