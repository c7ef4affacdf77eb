using System.Text;
using System.Text.Json;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Migration;

namespace Virtuozzo.Engine.Tests.Migration;

/// <summary>
/// The commit a container move starts ahead (commit --after-go): it acts only on "go"; end of input withdraws it.
/// An empty data root, so a commit that does act finds no incoming VE and says so.
/// </summary>
public sealed class MigrationAgentCommitTests : IDisposable
{
    private readonly string scratch = Path.Combine(Path.GetTempPath(), "vzagent-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly MigrationAgent agent;

    public MigrationAgentCommitTests()
    {
        Directory.CreateDirectory(scratch);
        agent = new MigrationAgent(new VzEngine(new VzPaths(Path.Combine(scratch, "data"), Path.Combine(scratch, "run"), "vzagent-test")));
    }

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private async Task<(int Code, string ErrorId)> CommitAsync(string input)
    {
        var output = new StringWriter();
        var code = await agent.RunAsync(["commit", Guid.NewGuid().ToString("D"), "--start", "--after-go"], new MemoryStream(Encoding.UTF8.GetBytes(input)), output, CancellationToken.None);
        using var reply = JsonDocument.Parse(output.ToString());
        return (code, reply.RootElement.GetProperty("errorId").GetString()!);
    }

    [Fact]
    public async Task End_of_input_withdraws_the_commit()
    {
        var (code, errorId) = await CommitAsync("");
        Assert.Equal(1, code);
        Assert.Equal("VzMigrationCommitWithdrawn", errorId);
    }

    [Fact]
    public async Task Go_lets_the_commit_act()
    {
        var (code, errorId) = await CommitAsync("go\n");
        Assert.Equal(1, code);
        Assert.Equal("VzMigrationNotIncoming", errorId);
    }
}
