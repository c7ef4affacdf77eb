using System.Net;
using System.Net.Sockets;
using System.Text;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Metrics;

namespace Virtuozzo.Engine.Tests.Metrics;

/// <summary>The endpoint over a real loopback socket, and the address rules (form, scope, in use).</summary>
public sealed class MetricsEndpointTests
{
    private static async Task<string> GetAsync(string address, string request)
    {
        var ep = MetricsAddress.Parse(address);
        using var client = new TcpClient();
        await client.ConnectAsync(ep.Address, ep.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task Get_metrics_answers_the_exposition_with_its_content_type_and_length()
    {
        var renders = 0;
        await using var endpoint = new MetricsEndpoint(new IPEndPoint(IPAddress.Loopback, 0), () => { renders++; return "# HELP vz_x x\n# TYPE vz_x gauge\nvz_x 1\n"; });
        var answer = await GetAsync(endpoint.Address, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
        Assert.Contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n", answer);
        Assert.Contains("Content-Length: 39\r\n", answer);
        Assert.EndsWith("\r\n\r\n# HELP vz_x x\n# TYPE vz_x gauge\nvz_x 1\n", answer);
        Assert.Equal(1, renders);

        Assert.StartsWith("HTTP/1.1 404 ", await GetAsync(endpoint.Address, "GET /other HTTP/1.1\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 405 ", await GetAsync(endpoint.Address, "POST /metrics HTTP/1.1\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 400 ", await GetAsync(endpoint.Address, "nonsense\r\n\r\n"));
        Assert.Equal(1, renders);
    }

    [Fact]
    public async Task A_second_listener_on_the_same_address_is_a_typed_in_use_error()
    {
        await using var first = new MetricsEndpoint(new IPEndPoint(IPAddress.Loopback, 0), () => "");
        var ex = Assert.Throws<VzUnavailableException>(() => MetricsAddress.CheckFree(MetricsAddress.Parse(first.Address)));
        Assert.Equal("VzMetricsAddressInUse", ex.ErrorId);
        Assert.Equal(first.Address, ex.Target);
    }

    [Theory]
    [InlineData("127.0.0.1:9784", "127.0.0.1:9784")]
    [InlineData("localhost:9784", "127.0.0.1:9784")]
    [InlineData("[::1]:9000", "[::1]:9000")]
    [InlineData(" 0.0.0.0:80 ", "0.0.0.0:80")]
    public void Addresses_parse_to_one_form(string text, string expected) =>
        Assert.Equal(expected, MetricsAddress.Format(MetricsAddress.Parse(text)));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("::1:9000")]
    [InlineData("example.org:9000")]
    [InlineData("127.1:9000")]
    public void Malformed_addresses_are_a_typed_error(string text)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => MetricsAddress.Parse(text));
        Assert.Equal("VzInvalidMetricsAddress", ex.ErrorId);
    }

    [Fact]
    public void Only_loopback_is_allowed_without_the_explicit_switch()
    {
        MetricsAddress.CheckScope(MetricsAddress.Parse("127.0.0.1:1"), allowRemote: false);
        MetricsAddress.CheckScope(MetricsAddress.Parse("[::1]:1"), allowRemote: false);
        MetricsAddress.CheckScope(MetricsAddress.Parse("0.0.0.0:1"), allowRemote: true);
        var ex = Assert.Throws<VzInvalidArgumentException>(() => MetricsAddress.CheckScope(MetricsAddress.Parse("0.0.0.0:1"), allowRemote: false));
        Assert.Equal("VzMetricsAddressNotLocal", ex.ErrorId);
        Assert.Equal("MetricsAddress", ex.ParameterName);
    }
}
