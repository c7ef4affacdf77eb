using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;
using Xunit;

namespace Virtuozzo.Engine.Tests.Network;

public sealed class NetworkSetupTests
{
    [Theory]
    [InlineData("198.18.0.2/24", "198.18.0.2/24")]
    [InlineData(" 198.18.0.2 ", "198.18.0.2/32")]
    [InlineData("fd00::5/64", "fd00::5/64")]
    [InlineData("fd00::5", "fd00::5/128")]
    public void AddressesAreNormalized(string input, string expected) => Assert.Equal(expected, NetworkSetup.NormalizeAddress(input));

    [Theory]
    [InlineData("198.18.0.2/33")]
    [InlineData("198.18.0/24")]
    [InlineData("host.example")]
    [InlineData("198.18.0.2/x")]
    [InlineData("")]
    public void BadAddressesAreTypedErrors(string input)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => NetworkSetup.NormalizeAddress(input));
        Assert.Equal("VzInvalidIpAddress", ex.ErrorId);
    }

    [Fact]
    public void HostInterfaceNamesStartWithVzAndFit()
    {
        var name = NetworkSetup.HostInterfaceName(Guid.NewGuid());
        Assert.StartsWith("vz", name);
        Assert.True(name.Length <= 15);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("has space")]
    [InlineData("")]
    public void BadInterfaceNamesAreRefused(string name) =>
        Assert.Throws<VzInvalidArgumentException>(() => NetworkSetup.ValidateInterfaceName(name, "Bridge"));
}
