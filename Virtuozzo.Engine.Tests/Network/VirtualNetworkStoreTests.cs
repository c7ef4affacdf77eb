using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;
using Xunit;

namespace Virtuozzo.Engine.Tests.Network;

/// <summary>Network names reach file names and nft comments: only a safe alphabet gets in; files round-trip.</summary>
public sealed class VirtualNetworkStoreTests
{
    [Theory]
    [InlineData("x;touch /tmp/pwned")]
    [InlineData("a b")]
    [InlineData("$(reboot)")]
    [InlineData("../etc")]
    [InlineData("")]
    [InlineData("-lead")]
    public void Names_with_shell_or_path_characters_are_refused(string name) =>
        Assert.Equal("VzInvalidNetworkName", Assert.Throws<VzInvalidArgumentException>(() => VirtualNetworkStore.ValidateName(name)).ErrorId);

    [Theory]
    [InlineData("backend")]
    [InlineData("lab-1.dmz_2")]
    public void Plain_names_pass(string name) => VirtualNetworkStore.ValidateName(name);

    [Fact]
    public void A_written_network_reads_back_and_is_found_case_insensitively()
    {
        var root = Path.Combine(Path.GetTempPath(), "vz-netstore-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var store = new VirtualNetworkStore(new VzPaths(root, Path.Combine(root, "run"), "vz"));
            using (store.AcquireLock(CancellationToken.None))
                store.Write(new VirtualNetwork { Name = "Lab", Type = VirtualNetworkType.HostOnly, Bridge = "vzn-lab", HostAddress = "198.19.21.1/24", Nat = true });
            var back = store.TryGet("lab");
            Assert.NotNull(back);
            Assert.Equal(("Lab", VirtualNetworkType.HostOnly, "vzn-lab", "198.19.21.1/24", true), (back.Name, back.Type, back.Bridge, back.HostAddress, back.Nat));
            store.Delete("Lab");
            Assert.Empty(store.List());
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
