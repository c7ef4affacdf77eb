using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Network.Adapters;

/// <summary>
/// Network adapters of containers and VMs (Add/Get/Set/Remove-VzNetworkAdapter). The first adapter (eth0) is the one
/// the single-NIC settings describe and is listed here read-only; the others are stored in <c>ve.yaml</c>'s
/// <c>networkAdapters</c>, each on a virtual network, and are plumbed live when the VE runs: a veth moved into a
/// container's namespace, a tap and a hot-plugged virtio-net device in a VM. Every change is made under the VE's lock;
/// on a running VE the host is changed first and the file after, and a failure undoes what was done on the host.
/// </summary>
public sealed class NetworkAdapterService(VzEngine engine, ILogger<NetworkAdapterService> logger)
{
    /// <summary>The name of the first adapter, the one the single-NIC settings describe.</summary>
    public const string PrimaryName = NetworkAdapterRules.PrimaryName;

    private ContainerAdapterPlumbing Veths => new(engine.Runner);
    private VirtualNetworkStore NetworkStore => new(engine.Paths);

    public IReadOnlyList<NetworkAdapterInfo> List(Guid veId)
    {
        var config = Require(veId);
        var result = new List<NetworkAdapterInfo>();
        if (DescribePrimary(config) is { } primary) result.Add(primary);
        foreach (var a in config.NetworkAdapters ?? []) result.Add(Describe(config, a));
        return result;
    }

    public async Task<NetworkAdapterInfo> AddAsync(Guid veId, string? name, NetworkAdapterChanges spec, CancellationToken ct)
    {
        using var held = engine.Store.AcquireVeLock(veId, ct);
        var config = Require(veId);
        var live = RequireSteady(config, "add an adapter to");
        var adapters = config.NetworkAdapters ?? [];
        name ??= Enumerable.Range(1, AdapterNames.MaxSlot).Select(i => $"eth{i}").First(n => !Taken(config, n));
        NetworkSetup.ValidateInterfaceName(name, "Name");
        if (Taken(config, name)) throw NetworkAdapterRules.NameTaken(Kind(config), config.Name, name);
        var slot = Enumerable.Range(1, AdapterNames.MaxSlot).FirstOrDefault(s => adapters.All(a => a.Slot != s));
        if (slot == 0)
            throw new VzInsufficientResourcesException("VzTooManyNetworkAdapters", $"The {Kind(config)} '{config.Name}' has {AdapterNames.MaxSlot} adapters, the most it can have.", config.Name);
        var network = spec.Network ?? throw new VzInvalidArgumentException("VzNetworkRequired", "An adapter needs the network it joins.", name, "Network")
        { RecommendedAction = "Give -Network with a name from Get-VzNetwork." };
        var adapter = new VeNetworkAdapter
        {
            Name = name, Network = FindNetwork(network).Name, Slot = slot,
            MacAddress = spec.MacAddress is { } mac ? UniqueMac(config.Id, null, MacAddresses.Normalize(mac, name)) : MacAddresses.NewLocal(NetworkAdapterRules.AllMacs(engine.Store)),
            IpAddresses = NetworkAdapterRules.Addresses(config.Type, config.Name, name, spec.IpAddresses), Connected = spec.Connected == false ? false : null,
        };
        var bridge = FindNetwork(adapter.Network).Bridge;
        // The ruleset learns the adapter's MAC and addresses before its first packet: file first, firewall, then the host.
        engine.Store.UpdateLocked(held, veId, c => (c.NetworkAdapters ??= []).Add(adapter));
        try
        {
            await engine.Firewall.EnsureAsync(veId, ct);
            if (live && await PlugAsync(config, adapter, bridge, ct) is { } port)
                engine.Store.UpdateLocked(held, veId, c => c.NetworkAdapters!.First(a => a.Slot == slot).HotplugPort = port);
        }
        catch
        {
            engine.Store.UpdateLocked(held, veId, c => { c.NetworkAdapters?.RemoveAll(a => a.Slot == slot); if (c.NetworkAdapters is { Count: 0 }) c.NetworkAdapters = null; });
            await RefreshFirewallQuietlyAsync(veId);
            throw;
        }
        logger.LogInformation("Added network adapter {Adapter} ({Mac}) on {Network} to {Name}{Live}.", name, adapter.MacAddress, adapter.Network, config.Name, live ? " (live)" : "");
        return Describe(Require(veId), adapter);
    }

    public async Task<NetworkAdapterInfo> SetAsync(Guid veId, string name, NetworkAdapterChanges changes, CancellationToken ct)
    {
        using var held = engine.Store.AcquireVeLock(veId, ct);
        var config = Require(veId);
        var before = Find(config, name);
        var live = RequireSteady(config, "change an adapter of");
        var after = VeConfigFile.Clone(config).NetworkAdapters!.First(a => a.Slot == before.Slot);
        if (changes.Network is { } n) after.Network = FindNetwork(n).Name;
        if (changes.MacAddress is { } mac)
        {
            after.MacAddress = UniqueMac(config.Id, before.Slot, MacAddresses.Normalize(mac, name));
            if (live && !string.Equals(after.MacAddress, before.MacAddress, StringComparison.OrdinalIgnoreCase))
                throw new VzInvalidStateException("VzVeRunning", $"The MAC address of '{name}' cannot change while '{config.Name}' runs.", config.Name)
                { RecommendedAction = $"Stop '{config.Name}' first, or remove the adapter and add it again with the new -MacAddress." };
        }
        if (changes.IpAddresses is { } ips) after.IpAddresses = NetworkAdapterRules.Addresses(config.Type, config.Name, name, ips);
        if (changes.Connected is { } connected) after.Connected = connected ? null : false;
        var oldBridge = FindNetwork(before.Network).Bridge;
        var newBridge = FindNetwork(after.Network).Bridge;
        engine.Store.UpdateLocked(held, veId, c => c.NetworkAdapters![c.NetworkAdapters.FindIndex(a => a.Slot == before.Slot)] = after);
        try
        {
            await engine.Firewall.EnsureAsync(veId, ct);
            if (live) await ReconfigureAsync(config, before, after, oldBridge, newBridge, ct);
        }
        catch
        {
            engine.Store.UpdateLocked(held, veId, c => c.NetworkAdapters![c.NetworkAdapters.FindIndex(a => a.Slot == before.Slot)] = before);
            await RefreshFirewallQuietlyAsync(veId);
            if (live) { try { await ReconfigureAsync(config, after, before, newBridge, oldBridge, CancellationToken.None); } catch (VzException) { } }
            throw;
        }
        return Describe(Require(veId), after);
    }

    /// <summary>Removes the adapter; returns it as it was.</summary>
    public async Task<NetworkAdapterInfo> RemoveAsync(Guid veId, string name, CancellationToken ct)
    {
        using var held = engine.Store.AcquireVeLock(veId, ct);
        var config = Require(veId);
        var adapter = Find(config, name);
        var live = RequireSteady(config, "remove an adapter from");
        var before = Describe(config, adapter);
        if (live) await UnplugAsync(config, adapter, ct);
        engine.Store.UpdateLocked(held, veId, c => { c.NetworkAdapters!.RemoveAll(a => a.Slot == adapter.Slot); if (c.NetworkAdapters.Count == 0) c.NetworkAdapters = null; });
        await engine.Firewall.EnsureAsync(veId, ct);
        logger.LogInformation("Removed network adapter {Adapter} from {Name}{Live}.", name, config.Name, live ? " (live)" : "");
        return before;
    }

    /// <summary>
    /// Brings the VE's added adapters to <paramref name="desired"/> (Import-VzConfig, checked by
    /// <see cref="NetworkAdapterImport"/>) through Remove, Set and Add: the ones not named go first (freeing their MACs
    /// and slots), then the named ones change what differs, then the new ones are added.
    /// </summary>
    public async Task ReconcileAsync(Guid veId, IReadOnlyList<VeNetworkAdapter> desired, CancellationToken ct)
    {
        var current = Require(veId).NetworkAdapters ?? [];
        foreach (var gone in current.Where(c => desired.All(d => d.Name != c.Name)))
            await RemoveAsync(veId, gone.Name, ct);
        foreach (var d in desired)
        {
            var changes = new NetworkAdapterChanges
            {
                Network = d.Network, MacAddress = d.MacAddress, IpAddresses = d.IpAddresses ?? [], Connected = d.Connected != false,
            };
            if (current.FirstOrDefault(c => c.Name == d.Name) is not { } now) { await AddAsync(veId, d.Name, changes, ct); continue; }
            // Only what differs: a running VE refuses any MAC change, and a no-op needs no firewall pass.
            var differs = changes with
            {
                Network = now.Network == d.Network ? null : d.Network,
                MacAddress = string.Equals(now.MacAddress, d.MacAddress, StringComparison.OrdinalIgnoreCase) ? null : d.MacAddress,
                IpAddresses = (now.IpAddresses ?? []).SequenceEqual(d.IpAddresses ?? []) ? null : changes.IpAddresses,
                Connected = (now.Connected != false) == (d.Connected != false) ? null : changes.Connected,
            };
            if (differs != new NetworkAdapterChanges()) await SetAsync(veId, d.Name, differs, ct);
        }
    }

    /// <summary>
    /// Plumbs the added adapters of a container that is starting (its init is <paramref name="pid"/>); set by the engine
    /// as the container service's hook, so a start brings every adapter up as it brings up eth0.
    /// </summary>
    public async Task AttachAllAsync(VeConfig config, int pid, CancellationToken ct)
    {
        foreach (var a in config.NetworkAdapters ?? [])
        {
            var bridge = await BridgeForStartAsync(config, a, ct);
            await Veths.AttachAsync(config.Id, pid, a, bridge, ct);
        }
    }

    /// <summary>Removes the host ends a container run left (the namespace usually takes them with it).</summary>
    public async Task DetachAllAsync(VeConfig? config, CancellationToken ct)
    {
        foreach (var a in config?.NetworkAdapters ?? []) await Veths.DetachAsync(config!.Id, a.Slot, ct);
    }

    /// <summary>
    /// A VM that QEMU just launched: its added adapters' taps (made by QEMU from the command line) join their bridges,
    /// and the disconnected ones get their link set down.
    /// </summary>
    public async Task AttachVmTapsAsync(VeConfig config, CancellationToken ct)
    {
        if (config.NetworkAdapters is not { Count: > 0 } adapters) return;
        await engine.Firewall.EnsureAsync(config.Id, ct); // before any tap joins a bridge: a VM without a first NIC had no BeforeNetwork
        foreach (var a in adapters)
        {
            var bridge = await BridgeForStartAsync(config, a, ct);
            await engine.Runner.RunAsync("ip", ["link", "set", "dev", AdapterNames.Tap(config.Id, a.Slot), "master", bridge, "up"],
                new Processes.ProcessRunOptions { Target = config.Name, Timeout = TimeSpan.FromSeconds(15) }, ct);
        }
        if (adapters.All(a => a.Connected != false)) return;
        await using var monitor = await VmService.OpenMonitorAsync(engine.Vms.RuntimePaths(config.Id), config.Name, ct);
        foreach (var a in adapters.Where(a => a.Connected == false)) await monitor.SetLinkAsync(AdapterNames.Device(a.Slot), false, ct);
    }

    /// <summary>
    /// A copy of a VE (clone, restore beside the original) gets new MACs on its added adapters, and a container copy
    /// loses their addresses, as it loses eth0's: two VEs on one network with one address would fight over it.
    /// </summary>
    public static void PrepareForCopy(VeConfig copy)
    {
        foreach (var a in copy.NetworkAdapters ?? [])
        {
            a.MacAddress = MacAddresses.NewLocal([]);
            a.IpAddresses = null;
        }
    }

    // ---- live changes -------------------------------------------------------------------------------------

    /// <summary>Plumbs the adapter into the running VE; returns the hotplug port a VM's device took.</summary>
    private async Task<string?> PlugAsync(VeConfig config, VeNetworkAdapter adapter, string bridge, CancellationToken ct)
    {
        await engine.Networks.EnsureUpForBridgeAsync(bridge, ct);
        if (config.Type == VeType.Container)
        {
            await Veths.AttachAsync(config.Id, ContainerPid(config), adapter, bridge, ct);
            return null;
        }
        await using var monitor = await VmService.OpenMonitorAsync(engine.Vms.RuntimePaths(config.Id), config.Name, ct);
        return await NicHotplug.AddAsync(monitor, engine.Runner, config.Id, adapter, bridge, config.Vm!.Machine, ct);
    }

    private async Task UnplugAsync(VeConfig config, VeNetworkAdapter adapter, CancellationToken ct)
    {
        if (config.Type == VeType.Container)
        {
            await Veths.DetachAsync(config.Id, adapter.Slot, ct);
            return;
        }
        await using var monitor = await VmService.OpenMonitorAsync(engine.Vms.RuntimePaths(config.Id), config.Name, ct);
        await NicHotplug.RemoveAsync(monitor, adapter.Slot, ct);
        // netdev_del closes the tap; make sure, since a tap left behind would keep its bridge port.
        var tap = AdapterNames.Tap(config.Id, adapter.Slot);
        if (Directory.Exists($"/sys/class/net/{tap}"))
            await engine.Runner.RunAsync("ip", ["link", "del", tap], new Processes.ProcessRunOptions { ThrowOnFailure = false, Timeout = TimeSpan.FromSeconds(15) }, ct);
    }

    private async Task ReconfigureAsync(VeConfig config, VeNetworkAdapter before, VeNetworkAdapter after, string oldBridge, string newBridge, CancellationToken ct)
    {
        if (config.Type == VeType.Container)
        {
            if (oldBridge != newBridge)
            {
                await engine.Networks.EnsureUpForBridgeAsync(newBridge, ct);
                await Veths.SetBridgeAsync(config.Id, after.Slot, newBridge, ct);
            }
            if (!(before.IpAddresses ?? []).SequenceEqual(after.IpAddresses ?? [])) await Veths.SetAddressesAsync(ContainerPid(config), after, ct);
            if (before.Connected != after.Connected) await Veths.SetConnectedAsync(config.Id, after.Slot, after.Connected != false, ct);
            return;
        }
        if (oldBridge != newBridge)
        {
            await engine.Networks.EnsureUpForBridgeAsync(newBridge, ct);
            await engine.Runner.RunAsync("ip", ["link", "set", "dev", AdapterNames.Tap(config.Id, after.Slot), "master", newBridge],
                new Processes.ProcessRunOptions { Target = config.Name, Timeout = TimeSpan.FromSeconds(15) }, ct);
        }
        if (before.Connected != after.Connected)
        {
            await using var monitor = await VmService.OpenMonitorAsync(engine.Vms.RuntimePaths(config.Id), config.Name, ct);
            await monitor.SetLinkAsync(AdapterNames.Device(after.Slot), after.Connected != false, ct);
        }
    }

    // ---- checks -------------------------------------------------------------------------------------------

    /// <summary>
    /// Whether the VE runs (changes go live) or is stopped (changes wait for the next start). A VE in between (a
    /// suspended container, a paused or saved VM, one being created) is refused: a saved VM must come back with the
    /// devices it was saved with, and a paused guest cannot let go of a device.
    /// </summary>
    private bool RequireSteady(VeConfig config, string what)
    {
        if (config.Type == VeType.Container)
        {
            var state = engine.Containers.Describe(engine.Store.TryGet(config.Id)!).StateValue;
            return state switch
            {
                ContainerState.Running => true,
                ContainerState.Stopped => false,
                _ => throw Transitional(config, state.ToString(), what, $"Resume-VzContainer {config.Name}"),
            };
        }
        var vmState = engine.Vms.Describe(engine.Store.TryGet(config.Id)!).StateValue;
        return vmState switch
        {
            VmState.Running => true,
            VmState.Stopped => false,
            _ => throw Transitional(config, vmState.ToString(), what, vmState == VmState.Paused ? $"Resume-VzVm {config.Name}" : $"Start-VzVm {config.Name}"),
        };
    }

    private static VzInvalidStateException Transitional(VeConfig config, string state, string what, string fix) =>
        new("VzVeStateTransitional", $"Cannot {what} the {Kind(config)} '{config.Name}' while it is {state}.", config.Name)
        { RecommendedAction = $"Bring it to Running or Stopped first ({fix}, or stop it), then try again." };

    private VeConfig Require(Guid veId)
    {
        var record = engine.Store.TryGet(veId) ?? throw new VzNotFoundException("VzVeNotFound", $"No VE with id {veId} exists on this host.", veId)
        { RecommendedAction = "See the VEs with Get-VzContainer and Get-VzVm." };
        if (record.Config is not { } config || record.State != VeRegistrationState.Ready)
            throw new VzInvalidStateException("VzVeStateTransitional", $"The VE '{record.DisplayName}' is {record.State}; its adapters cannot be listed or changed.", record.DisplayName)
            { RecommendedAction = "Wait for its creation to finish, or remove it." };
        return config;
    }

    private static VeNetworkAdapter Find(VeConfig config, string name)
    {
        if (string.Equals(name, PrimaryName, StringComparison.Ordinal) && HasPrimary(config))
            throw new VzInvalidArgumentException("VzPrimaryNetworkAdapter", $"'{PrimaryName}' is the first adapter of '{config.Name}', set by its own settings.", name, "Name")
            {
                RecommendedAction = config.Type == VeType.Container
                    ? $"Change it with Set-VzContainer {config.Name} -IpAddress/-Bridge/-NetworkMode (no -IpAddress at all removes it)."
                    : $"It is the NIC New-VzVm -Network made; remove the VM's extra adapters with Remove-VzNetworkAdapter instead.",
            };
        return config.NetworkAdapters?.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.Ordinal))
            ?? throw new VzNotFoundException("VzNetworkAdapterNotFound", $"The {Kind(config)} '{config.Name}' has no adapter named '{name}'.", name)
            { RecommendedAction = $"See its adapters with Get-VzNetworkAdapter -VeName {config.Name}." };
    }

    private static bool Taken(VeConfig config, string name) =>
        NetworkAdapterRules.IsPrimaryName(config, name) || (config.NetworkAdapters ?? []).Any(a => string.Equals(a.Name, name, StringComparison.Ordinal));

    private static bool HasPrimary(VeConfig c) => NetworkAdapterRules.HasPrimary(c);

    private VirtualNetwork FindNetwork(string name) => NetworkAdapterRules.FindNetwork(NetworkStore, name);

    private string UniqueMac(Guid veId, int? slot, string mac) => NetworkAdapterRules.UniqueMac(engine.Store, veId, slot, mac);

    private int ContainerPid(VeConfig config) => engine.Containers.Live(config.Id).Pid;

    private async Task<string> BridgeForStartAsync(VeConfig config, VeNetworkAdapter a, CancellationToken ct)
    {
        var network = NetworkStore.TryGet(a.Network) ?? throw new VzNotFoundException("VzNetworkNotFound",
            $"The network '{a.Network}' of adapter '{a.Name}' of '{config.Name}' does not exist.", a.Network)
        { RecommendedAction = $"Make it again with New-VzNetwork, or remove the adapter with Remove-VzNetworkAdapter -VeName {config.Name} -Name {a.Name}." };
        await engine.Networks.EnsureUpForBridgeAsync(network.Bridge, ct);
        return network.Bridge;
    }

    private async Task RefreshFirewallQuietlyAsync(Guid veId)
    {
        try { await engine.Firewall.EnsureAsync(veId, CancellationToken.None); }
        catch (VzException ex) { logger.LogWarning("Putting the firewall back after a failed adapter change failed: {Error}", ex.Message); }
    }

    // ---- views --------------------------------------------------------------------------------------------

    private NetworkAdapterInfo? DescribePrimary(VeConfig config)
    {
        if (!HasPrimary(config)) return null;
        string? bridge, mac, host, device = null;
        string[] ips = [];
        if (config.Container is { } ct)
        {
            bridge = ct.Network.Mode == NetworkMode.Bridged ? ct.Network.Bridge : null;
            mac = ct.Network.MacAddress;
            ips = [.. ct.Network.IpAddresses];
            host = NetworkSetup.HostInterfaceName(config.Id);
        }
        else
        {
            var vm = config.Vm!;
            bridge = vm.NetworkMode == VmNetworkMode.Bridge ? vm.Bridge : null;
            mac = vm.MacAddress;
            host = vm.NetworkMode == VmNetworkMode.Bridge ? QemuCommandLine.TapName(config.Id) : null;
            device = "nic0";
        }
        var counters = host is null ? null : NetDeviceReader.Read(host);
        return new NetworkAdapterInfo
        {
            VeName = config.Name, VeId = config.Id, VeType = config.Type, Name = PrimaryName, Primary = true,
            Network = bridge is null ? null : NetworkStore.List().FirstOrDefault(n => n.Bridge == bridge)?.Name,
            Bridge = bridge, MacAddress = mac, IpAddress = ips, HostInterface = host, DeviceId = device,
            Active = counters is not null, ReceiveBytes = counters?.ReceiveBytes, TransmitBytes = counters?.TransmitBytes,
        };
    }

    private NetworkAdapterInfo Describe(VeConfig config, VeNetworkAdapter a)
    {
        var host = config.Type == VeType.Container ? AdapterNames.VethHost(config.Id, a.Slot) : AdapterNames.Tap(config.Id, a.Slot);
        var counters = NetDeviceReader.Read(host);
        return new NetworkAdapterInfo
        {
            VeName = config.Name, VeId = config.Id, VeType = config.Type, Name = a.Name, Network = a.Network,
            Bridge = NetworkStore.TryGet(a.Network)?.Bridge, MacAddress = a.MacAddress, IpAddress = [.. a.IpAddresses ?? []],
            Connected = a.Connected != false, HostInterface = host,
            DeviceId = config.Type == VeType.VirtualMachine ? AdapterNames.Device(a.Slot) : null,
            Active = counters is not null, ReceiveBytes = counters?.ReceiveBytes, TransmitBytes = counters?.TransmitBytes,
        };
    }

    private static string Kind(VeConfig c) => c.Type == VeType.Container ? "container" : "VM";
}
