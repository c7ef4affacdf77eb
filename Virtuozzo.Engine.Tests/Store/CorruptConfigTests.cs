using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Store;

/// <summary>A hand-broken ve.yaml is reported in YAML's words, for the VE a user knows by name.</summary>
public sealed class CorruptConfigTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly VeStore store;

    public CorruptConfigTests() =>
        store = new VeStore(new VzPaths(temp.Combine("data"), temp.Combine("run"), "vz-xunit"), NullLogger<VeStore>.Instance);

    public void Dispose() => temp.Dispose();

    private VeRecord Broken(string appended)
    {
        var record = store.BeginCreate(new VeConfig
        {
            Name = "c2", Type = VeType.Container, Memory = new MemorySettings { MemorySize = 128 << 20 },
            Container = new ContainerSettings { Template = "busybox" },
        }, CancellationToken.None);
        store.CompleteCreation(record.Id);
        File.AppendAllText(Path.Combine(record.Directory, "ve.yaml"), appended);
        return store.TryGet(record.Id)!;
    }

    [Theory]
    [InlineData("memory: 5\n", "the value has the wrong form for its key")]
    [InlineData("bogusKey: 1\n", "'bogusKey' is not a known key here")]
    [InlineData("memory:\n  size: abc\n", "the value is not a number")]
    [InlineData("type: Bogus\n", "'Bogus' is not one of the values this key allows")]
    [InlineData("memory: [unclosed\n", "the value has the wrong form for its key")]
    public void NamesTheVeTheFileAndWhatIsWrongWithoutDotNetTypeNames(string appended, string expected)
    {
        var r = Broken(appended);
        Assert.Equal(VeRegistrationState.Corrupt, r.State);
        Assert.Equal("c2", r.NameHint);
        Assert.Equal(VeType.Container, r.TypeHint);
        var message = r.Error!.Message;
        Assert.StartsWith($"The container 'c2' (id {r.Id}) cannot be read: the configuration file '{Path.Combine(r.Directory, "ve.yaml")}' is not valid at line ", message);
        Assert.Contains(expected, message);
        Assert.DoesNotMatch(@"System\.|Virtuozzo\.|YamlDotNet|Version=", message);
        Assert.Contains($"-Id {r.Id}", r.Error.RecommendedAction);
    }

    [Fact]
    public void AFileWithoutAReadableNameKeepsThePlainMessage()
    {
        var r = Broken("");
        File.WriteAllText(Path.Combine(r.Directory, "ve.yaml"), "\tgarbage: [\n");
        r = store.TryGet(r.Id)!;
        Assert.Null(r.NameHint);
        Assert.StartsWith("The configuration file '", r.Error!.Message);
        Assert.IsType<VzConfigCorruptException>(r.Error);
    }
}
