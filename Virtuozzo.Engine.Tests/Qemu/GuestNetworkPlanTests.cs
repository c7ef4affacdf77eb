using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;
using Xunit;

namespace Virtuozzo.Engine.Tests.Qemu;

public sealed class GuestNetworkPlanTests
{
    [Fact]
    public void StaticAddressGatewayDnsAndHostNameBecomeGuestCommandsWithValuesAsArguments()
    {
        var steps = GuestNetworkPlan.For(new GuestNetworkSettings
        {
            InterfaceName = "eth0", IPAddress = ["198.19.60.10/24"], Gateway = "198.19.60.1", Nameserver = ["198.19.60.53", "198.19.61.53"], HostName = "db01.example.test",
        }, "vm");
        Assert.Equal(["sh", "ip", "ip", "ip", "ip", "sh"], steps.Select(s => s.Path));
        Assert.Equal(["sh", "db01.example.test"], steps[0].Arguments.Skip(2));
        Assert.Equal(["addr", "flush", "dev", "eth0"], steps[1].Arguments);
        Assert.Equal(["addr", "add", "198.19.60.10/24", "dev", "eth0"], steps[2].Arguments);
        Assert.Equal(["route", "replace", "default", "via", "198.19.60.1", "dev", "eth0"], steps[4].Arguments);
        Assert.Equal(["sh", "198.19.60.53", "198.19.61.53"], steps[5].Arguments.Skip(2));
        // The scripts are constants: no value is ever part of the shell text.
        Assert.DoesNotContain("198.19", steps[5].Arguments[1]);
        Assert.DoesNotContain("db01", steps[0].Arguments[1]);
    }

    [Fact]
    public void DhcpRunsTheGuestsClientOnTheInterface()
    {
        var steps = GuestNetworkPlan.For(new GuestNetworkSettings { InterfaceName = "eth1", Dhcp = true }, "vm");
        var step = Assert.Single(steps);
        Assert.Equal("eth1", step.Arguments[^1]);
        Assert.Contains("udhcpc", step.Arguments[1]);
    }

    public static TheoryData<GuestNetworkSettings, string, string> Bad => new()
    {
        { new GuestNetworkSettings { IPAddress = ["198.19.60.10/24"] }, "VzGuestInterfaceMissing", "InterfaceName" },
        { new GuestNetworkSettings { InterfaceName = "eth0", IPAddress = ["198.19.60.10"] }, "VzInvalidIpAddress", "IPAddress" },
        { new GuestNetworkSettings { InterfaceName = "eth0", IPAddress = ["198.19.60.10/24"], Dhcp = true }, "VzConflictingGuestAddress", "Dhcp" },
        { new GuestNetworkSettings { InterfaceName = "eth0", Gateway = "gw" }, "VzInvalidGateway", "Gateway" },
        { new GuestNetworkSettings { Nameserver = ["dns.example"] }, "VzInvalidNameserver", "Nameserver" },
        { new GuestNetworkSettings { HostName = "bad_name;reboot" }, "VzInvalidHostname", "HostName" },
        { new GuestNetworkSettings { InterfaceName = "eth0;x y" , Dhcp = true }, "VzInvalidInterfaceName", "InterfaceName" },
        { new GuestNetworkSettings(), "VzNothingToSet", "IPAddress" },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void BadInputIsATypedErrorBeforeAnyStep(GuestNetworkSettings s, string id, string parameter)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => GuestNetworkPlan.For(s, "vm"));
        Assert.Equal((id, parameter), (ex.ErrorId, ex.ParameterName));
    }

    [Fact]
    public void ReadsDefaultGatewaysAndNameservers()
    {
        const string route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
                             "eth0\t00000000\t013C13C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
                             "eth0\t003C13C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        Assert.Equal("198.19.60.1", GuestNetworkPlan.DefaultGateways(route)["eth0"]);
        Assert.Equal(["198.19.60.53", "::1"], GuestNetworkPlan.Nameservers("# x\nnameserver 198.19.60.53\nsearch a\nnameserver ::1\nnameserver bogus\n"));
    }
}
