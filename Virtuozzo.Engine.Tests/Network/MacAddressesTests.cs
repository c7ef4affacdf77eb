using Virtuozzo.Engine.Network;

namespace Virtuozzo.Engine.Tests.Network;

/// <summary>The one MAC generator containers and VMs share.</summary>
public sealed class MacAddressesTests
{
    [Fact]
    public void New_addresses_carry_the_virtuozzo_prefix_and_differ()
    {
        var a = MacAddresses.New();
        Assert.Matches("^00:1C:42(:[0-9A-F]{2}){3}$", a);
        Assert.NotEqual(a, MacAddresses.New());
    }
}
