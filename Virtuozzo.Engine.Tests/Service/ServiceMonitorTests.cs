using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Engine.Tests.Service;

/// <summary>
/// The service's kept monitor connection, against a QMP server on a real unix socket that counts its clients:
/// one connection serves every pass; a closed, hung or restarted QEMU gets a new one; an error answer does not.
/// </summary>
public sealed class ServiceMonitorTests : IDisposable
{
    private readonly TempDirectory dir = new();
    private readonly VmRuntimePaths rt;

    public ServiceMonitorTests()
    {
        rt = new VmRuntimePaths(dir.Combine("run"), dir.Combine("ve"));
        Directory.CreateDirectory(rt.RunDirectory);
    }

    public void Dispose() => dir.Dispose();

    /// <summary>A QMP server: greets, negotiates, and answers other commands as <see cref="Mode"/> says: "ok", "hang" (never), "fail" (an error).</summary>
    private sealed class FakeQmpServer : IDisposable
    {
        private readonly Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly List<Socket> clients = [];
        private int accepted;

        public FakeQmpServer(string path)
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(4);
            _ = Task.Run(AcceptLoopAsync);
        }

        public int Accepted => Volatile.Read(ref accepted);
        public volatile string Mode = "ok";

        /// <summary>Closes the connections served so far, as a QEMU that exits does.</summary>
        public void DropClients() { lock (clients) { foreach (var c in clients) c.Dispose(); clients.Clear(); } }

        private async Task AcceptLoopAsync()
        {
            try
            {
                while (true)
                {
                    var client = await listener.AcceptAsync();
                    Interlocked.Increment(ref accepted);
                    lock (clients) clients.Add(client);
                    _ = Task.Run(() => ServeAsync(client));
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        }

        private async Task ServeAsync(Socket client)
        {
            try
            {
                await using var stream = new NetworkStream(client, ownsSocket: false);
                using var reader = new StreamReader(stream, Encoding.UTF8);
                async Task Send(string s) => await stream.WriteAsync(Encoding.UTF8.GetBytes(s + "\n"));
                await Send("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 19, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}");
                while (await reader.ReadLineAsync() is { } line)
                {
                    var req = (JsonObject)JsonNode.Parse(line)!;
                    var id = req["id"]!.ToJsonString();
                    var mode = req["execute"]!.GetValue<string>() == "qmp_capabilities" ? "ok" : Mode;
                    if (mode == "hang") continue;
                    if (mode == "fail") await Send($"{{\"error\": {{\"class\": \"GenericError\", \"desc\": \"no\"}}, \"id\": {id}}}");
                    else await Send($"{{\"return\": {{\"status\": \"running\", \"running\": true}}, \"id\": {id}}}");
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException) { }
        }

        public void Dispose()
        {
            listener.Dispose();
            DropClients();
        }
    }

    private static Func<QemuMonitor, CancellationToken, Task<bool>> Ask() =>
        async (mon, ct) => await mon.QueryStatusAsync(ct) == "running";

    [Fact]
    public async Task One_connection_serves_every_pass_and_a_new_qemu_gets_a_new_one()
    {
        using var server = new FakeQmpServer(rt.ServiceQmpSocket);
        await using var monitors = new ServiceMonitor();
        for (var i = 0; i < 5; i++) Assert.True(await monitors.RunAsync(rt, 100, "vm1", TimeSpan.FromSeconds(10), Ask(), CancellationToken.None));
        Assert.Equal(1, server.Accepted);
        // The same run folder with another QEMU pid: a restarted VM.
        await monitors.RunAsync(rt, 101, "vm1", TimeSpan.FromSeconds(10), Ask(), CancellationToken.None);
        Assert.Equal(2, server.Accepted);
        // The VM stopped: its connection is closed when the loop says which VMs run.
        await monitors.ForgetAllButAsync([]);
        await monitors.RunAsync(rt, 101, "vm1", TimeSpan.FromSeconds(10), Ask(), CancellationToken.None);
        Assert.Equal(3, server.Accepted);
    }

    [Fact]
    public async Task An_error_answer_keeps_the_connection_and_a_closed_one_is_replaced()
    {
        using var server = new FakeQmpServer(rt.ServiceQmpSocket);
        await using var monitors = new ServiceMonitor();
        server.Mode = "fail";
        await Assert.ThrowsAsync<QmpException>(() => monitors.RunAsync(rt, 100, "vm1", TimeSpan.FromSeconds(10), Ask(), CancellationToken.None));
        server.Mode = "ok";
        await monitors.RunAsync(rt, 100, "vm1", TimeSpan.FromSeconds(10), Ask(), CancellationToken.None);
        Assert.Equal(1, server.Accepted);
        server.DropClients();
        // The drop may reach the client during the next call (then that call fails and drops it) or before it.
        for (var i = 0; i < 2; i++)
        {
            try { await monitors.RunAsync(rt, 100, "vm1", TimeSpan.FromSeconds(10), Ask(), CancellationToken.None); break; }
            catch (VzInvalidStateException ex) { Assert.Equal("VzVmMonitorClosed", ex.ErrorId); }
        }
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task A_monitor_that_does_not_answer_is_a_typed_timeout_and_the_next_pass_connects_again()
    {
        using var server = new FakeQmpServer(rt.ServiceQmpSocket);
        await using var monitors = new ServiceMonitor();
        server.Mode = "hang";
        var ex = await Assert.ThrowsAsync<VzTimeoutException>(() => monitors.RunAsync(rt, 100, "vm1", TimeSpan.FromMilliseconds(300), Ask(), CancellationToken.None));
        server.Mode = "ok";
        Assert.Equal("VzVmMonitorTimeout", ex.ErrorId);
        Assert.Equal("vm1", ex.Target);
        await monitors.RunAsync(rt, 100, "vm1", TimeSpan.FromSeconds(10), Ask(), CancellationToken.None);
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task A_vm_started_without_the_service_monitor_gets_a_session_on_its_own_monitor_per_pass()
    {
        using var server = new FakeQmpServer(rt.QmpSocket);
        await using var monitors = new ServiceMonitor();
        for (var i = 0; i < 3; i++) await monitors.RunAsync(rt, 100, "vm1", TimeSpan.FromSeconds(10), Ask(), CancellationToken.None);
        Assert.Equal(3, server.Accepted);
    }
}
