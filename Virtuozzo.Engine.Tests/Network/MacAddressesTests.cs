using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Network.Adapters;

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

    [Fact]
    public void Added_adapter_addresses_are_locally_administered_unicast_and_avoid_the_taken_ones()
    {
        var taken = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            var mac = MacAddresses.NewLocal(taken);
            Assert.Matches("^02:1C:42(:[0-9A-F]{2}){3}$", mac);
            Assert.DoesNotContain(mac, taken);
            taken.Add(mac);
        }
    }

    [Theory]
    [InlineData("02-1c-42-0a-0b-0c", "02:1C:42:0A:0B:0C")]
    [InlineData(" 00:1C:42:AA:BB:CC ", "00:1C:42:AA:BB:CC")]
    public void Given_addresses_are_normalized(string given, string expected) => Assert.Equal(expected, MacAddresses.Normalize(given, "eth1"));

    [Theory]
    [InlineData("01:00:5E:00:00:01", "VzMulticastMacAddress")]
    [InlineData("FF:FF:FF:FF:FF:FF", "VzMulticastMacAddress")]
    [InlineData("03:1C:42:00:00:01", "VzMulticastMacAddress")]
    [InlineData("00:00:00:00:00:00", "VzInvalidMacAddress")]
    [InlineData("02:1C:42:00:00", "VzInvalidMacAddress")]
    [InlineData("02:1C:42:00:00:0G", "VzInvalidMacAddress")]
    public void Multicast_and_malformed_addresses_are_refused(string given, string errorId)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => MacAddresses.Normalize(given, "eth1"));
        Assert.Equal(errorId, ex.ErrorId);
    }

    [Fact]
    public void Adapter_host_interfaces_fit_ifnamsiz_and_never_equal_the_first_nics()
    {
        var id = Guid.Parse("3f2a9c1e-5b7d-4e8f-9a01-23456789abcd");
        foreach (var slot in new[] { 1, 42, AdapterNames.MaxSlot })
            foreach (var name in new[] { AdapterNames.Tap(id, slot), AdapterNames.VethHost(id, slot), AdapterNames.VethPeer(id, slot) })
            {
                Assert.Equal(15, name.Length);
                Assert.NotEqual(Virtuozzo.Engine.Qemu.CommandLine.QemuCommandLine.TapName(id), name);
                Assert.NotEqual(NetworkSetup.HostInterfaceName(id), name);
            }
        Assert.Equal("vzx3f2a9c1e5b01", AdapterNames.Tap(id, 1));
    }
}
