using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Network.Adapters;

/// <summary>
/// An added adapter of a running container: a veth pair whose host end (<see cref="AdapterNames.VethHost"/>) joins the
/// network's bridge and whose other end is moved into the container's network namespace, renamed to the adapter's
/// name and given its MAC and addresses. The link state is the host end's: down is a pulled cable (NO-CARRIER inside).
/// </summary>
public sealed class ContainerAdapterPlumbing(ProcessRunner runner)
{
    private static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(15) };

    public static bool IsPlumbed(Guid id, int slot) => Directory.Exists($"/sys/class/net/{AdapterNames.VethHost(id, slot)}");

    /// <summary>Creates and configures the pair; a failure half-way removes it again, so nothing is left.</summary>
    public async Task AttachAsync(Guid id, int pid, VeNetworkAdapter adapter, string bridge, CancellationToken ct)
    {
        var host = AdapterNames.VethHost(id, adapter.Slot);
        var peer = AdapterNames.VethPeer(id, adapter.Slot);
        await DetachAsync(id, adapter.Slot, ct); // a pair left by a failed attempt
        await Ip(ct, "link", "add", "name", host, "type", "veth", "peer", "name", peer);
        try
        {
            await Ip(ct, "link", "set", host, "master", bridge);
            await Ip(ct, "link", "set", peer, "netns", pid.ToString());
            await InNetns(pid, ct, "link", "set", peer, "name", adapter.Name, "address", adapter.MacAddress);
            await InNetns(pid, ct, "link", "set", adapter.Name, "up");
            await SetAddressesAsync(pid, adapter, ct);
            await Ip(ct, "link", "set", host, adapter.Connected == false ? "down" : "up");
        }
        catch
        {
            await DetachAsync(id, adapter.Slot, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Sets the addresses inside to what the adapter says.</summary>
    public async Task SetAddressesAsync(int pid, VeNetworkAdapter adapter, CancellationToken ct)
    {
        await InNetns(pid, ct, "addr", "flush", "dev", adapter.Name);
        foreach (var a in adapter.IpAddresses ?? []) await InNetns(pid, ct, "addr", "add", a, "dev", adapter.Name);
    }

    public Task SetConnectedAsync(Guid id, int slot, bool connected, CancellationToken ct) =>
        Ip(ct, "link", "set", AdapterNames.VethHost(id, slot), connected ? "up" : "down");

    public Task SetBridgeAsync(Guid id, int slot, string bridge, CancellationToken ct) =>
        Ip(ct, "link", "set", AdapterNames.VethHost(id, slot), "master", bridge);

    /// <summary>Deleting the host end deletes the end inside the container too.</summary>
    public async Task DetachAsync(Guid id, int slot, CancellationToken ct)
    {
        foreach (var name in new[] { AdapterNames.VethHost(id, slot), AdapterNames.VethPeer(id, slot) })
            if (Directory.Exists($"/sys/class/net/{name}"))
                await runner.RunAsync("ip", ["link", "del", name], Quick with { ThrowOnFailure = false }, ct);
    }

    private Task Ip(CancellationToken ct, params string[] args) => runner.RunAsync("ip", args, Quick, ct);

    private Task InNetns(int pid, CancellationToken ct, params string[] args) =>
        runner.RunAsync("nsenter", [$"--net=/proc/{pid}/ns/net", "--", "ip", .. args], Quick, ct);
}
