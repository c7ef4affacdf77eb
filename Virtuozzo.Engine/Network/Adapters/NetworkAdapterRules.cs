using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Network.Adapters;

/// <summary>
/// The checks an added adapter passes, whether it comes from Add/Set-VzNetworkAdapter or from a settings file
/// (Import-VzConfig): one rule, one error id, so a file is refused exactly as the cmdlet would refuse the same value.
/// Pure over the store and the network list: nothing here changes the host.
/// </summary>
public static class NetworkAdapterRules
{
    /// <summary>The name of the first adapter, the one the single-NIC settings describe.</summary>
    public const string PrimaryName = "eth0";

    /// <summary>Whether the VE has a first adapter (eth0) through its own settings.</summary>
    public static bool HasPrimary(VeConfig c) =>
        c.Container is { } ct ? ct.Network.IpAddresses.Count > 0 : c.Vm is { } vm && vm.NetworkMode != VmNetworkMode.None;

    /// <summary>
    /// Whether <paramref name="name"/> is the first adapter's: eth0 of a VE that has one, and always a container's eth0,
    /// so a later Set-VzContainer -IpAddress cannot clash with an added adapter.
    /// </summary>
    public static bool IsPrimaryName(VeConfig config, string name) =>
        name == PrimaryName && (HasPrimary(config) || config.Type == VeType.Container);

    /// <summary>The virtual network of that name, or VzNetworkNotFound.</summary>
    public static VirtualNetwork FindNetwork(VirtualNetworkStore networks, string name)
    {
        VirtualNetworkStore.ValidateName(name);
        return networks.TryGet(name) ?? throw new VzNotFoundException("VzNetworkNotFound", $"There is no network named '{name}'.", name)
        { RecommendedAction = "See the networks with Get-VzNetwork, or make one with New-VzNetwork." };
    }

    /// <summary>Every MAC on the host's VEs (first adapters and added ones), but the added one in <paramref name="skipSlot"/> of <paramref name="veId"/>.</summary>
    public static List<string> AllMacs(VeStore store, Guid? veId = null, int? skipSlot = null)
    {
        var macs = new List<string>();
        foreach (var r in store.List())
        {
            if (r.Config is not { } c) continue;
            if (c.Container?.Network.MacAddress is { Length: > 0 } cm) macs.Add(cm);
            if (c.Vm?.MacAddress is { Length: > 0 } vm) macs.Add(vm);
            macs.AddRange((c.NetworkAdapters ?? []).Where(a => !(c.Id == veId && a.Slot == skipSlot)).Select(a => a.MacAddress));
        }
        return macs;
    }

    /// <summary>
    /// <paramref name="mac"/> when no VE on the host uses it (the added adapter in <paramref name="slot"/> of
    /// <paramref name="veId"/> aside, so an adapter keeps its own); VzMacAddressInUse otherwise.
    /// </summary>
    public static string UniqueMac(VeStore store, Guid veId, int? slot, string mac)
    {
        var owner = store.List().FirstOrDefault(r => r.Config is { } c &&
            (string.Equals(c.Container?.Network.MacAddress, mac, StringComparison.OrdinalIgnoreCase) ||
             string.Equals(c.Vm?.MacAddress, mac, StringComparison.OrdinalIgnoreCase) ||
             (c.NetworkAdapters ?? []).Any(a => !(c.Id == veId && a.Slot == slot) && string.Equals(a.MacAddress, mac, StringComparison.OrdinalIgnoreCase))));
        if (owner is not null) throw MacInUse(mac, owner.DisplayName);
        return mac;
    }

    public static VzAlreadyExistsException MacInUse(string mac, string owner) =>
        new("VzMacAddressInUse", $"The MAC address {mac} is already used by '{owner}' on this host.", mac)
        { RecommendedAction = "Give another -MacAddress, or leave it out to get a generated one." };

    /// <summary>A container adapter's addresses, normalized; a VM adapter takes none (its guest sets them).</summary>
    public static List<string>? Addresses(VeType type, string veName, string adapterName, IReadOnlyList<string>? given)
    {
        if (given is null || given.Count == 0) return null;
        if (type == VeType.VirtualMachine)
            throw new VzInvalidArgumentException("VzAdapterAddressNotForVm", "A VM's guest sets its own addresses; an adapter of a VM takes none.", adapterName, "IpAddress")
            { RecommendedAction = $"Leave -IpAddress out; configure the guest with Set-VzVmGuestNetwork {veName}." };
        return given.Select(NetworkSetup.NormalizeAddress).Distinct().ToList();
    }

    public static VzAlreadyExistsException NameTaken(string kind, string veName, string name) =>
        new("VzNetworkAdapterExists", $"The {kind} '{veName}' already has an adapter named '{name}'.", name)
        { RecommendedAction = $"Choose another -Name, or change that adapter with Set-VzNetworkAdapter -VeName {veName} -Name {name}." };
}
