using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Network.Adapters;

/// <summary>
/// The added adapters of a settings file entry, checked as Add-VzNetworkAdapter checks them (same rules, same error
/// ids) and turned into what ve.yaml would hold, before anything changes. The file's list is the VE's whole list: an
/// adapter it names is kept (with its slot) or added, one it leaves out is removed by the import.
/// </summary>
public sealed class NetworkAdapterImport(VeStore store, VirtualNetworkStore networks)
{
    /// <summary>MACs given to earlier entries of the same file, so two VEs of one file cannot share one.</summary>
    private readonly Dictionary<string, string> claimed = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The adapters <paramref name="desired"/> (the entry's planned configuration) is to have; null for none, as
    /// ve.yaml has it. <paramref name="current"/> is the VE of that name on this host, null when the import creates it.
    /// </summary>
    public List<VeNetworkAdapter>? Plan(IReadOnlyList<VeAdapterSettings?> listed, VeConfig desired, VeConfig? current)
    {
        var kind = desired.Type == VeType.Container ? "container" : "VM";
        var given = listed.OfType<VeAdapterSettings>().ToList();
        if (given.Count > AdapterNames.MaxSlot)
            throw new VzInsufficientResourcesException("VzTooManyNetworkAdapters", $"The file gives {given.Count} adapters; a VE can have at most {AdapterNames.MaxSlot}.", desired.Name);
        var kept = current?.NetworkAdapters ?? [];
        var result = new List<VeNetworkAdapter>();
        foreach (var s in given)
        {
            NetworkSetup.ValidateInterfaceName(s.Name, "Name");
            if (NetworkAdapterRules.IsPrimaryName(desired, s.Name) || result.Any(a => a.Name == s.Name))
                throw NetworkAdapterRules.NameTaken(kind, desired.Name, s.Name);
            if (string.IsNullOrEmpty(s.Network))
                throw new VzInvalidArgumentException("VzNetworkRequired", $"The adapter '{s.Name}' has no network.", s.Name, "Network")
                { RecommendedAction = "Give it 'network:' with a name from Get-VzNetwork." };
            var network = NetworkAdapterRules.FindNetwork(networks, s.Network).Name;
            var same = kept.FirstOrDefault(a => a.Name == s.Name);
            result.Add(new VeNetworkAdapter
            {
                Name = s.Name, Network = network, Slot = same?.Slot ?? 0, HotplugPort = same?.HotplugPort,
                MacAddress = Mac(s, same, current, result),
                IpAddresses = NetworkAdapterRules.Addresses(desired.Type, desired.Name, s.Name, s.IpAddresses),
                Connected = s.Connected == false ? false : null,
            });
        }
        // New adapters take the lowest slots the kept ones leave free, as Add-VzNetworkAdapter would give them.
        var free = new Queue<int>(Enumerable.Range(1, AdapterNames.MaxSlot).Where(n => result.All(a => a.Slot != n)));
        foreach (var a in result.Where(a => a.Slot == 0)) a.Slot = free.Dequeue();
        foreach (var a in result) claimed[a.MacAddress] = desired.Name;
        return result.Count == 0 ? null : result;
    }

    private string Mac(VeAdapterSettings s, VeNetworkAdapter? same, VeConfig? current, List<VeNetworkAdapter> earlier)
    {
        if (s.MacAddress is not { Length: > 0 } text)
            return same?.MacAddress ?? MacAddresses.NewLocal([.. NetworkAdapterRules.AllMacs(store), .. claimed.Keys, .. earlier.Select(a => a.MacAddress)]);
        var mac = MacAddresses.Normalize(text, s.Name);
        if (claimed.TryGetValue(mac, out var other)) throw NetworkAdapterRules.MacInUse(mac, other);
        if (earlier.FirstOrDefault(a => string.Equals(a.MacAddress, mac, StringComparison.OrdinalIgnoreCase)) is { } twin)
            throw NetworkAdapterRules.MacInUse(mac, $"{current?.Name ?? s.Name}:{twin.Name}");
        // The VE's own added adapters are replaced by the file's list, so a MAC may move between them; its first NIC's may not.
        var owner = store.List().FirstOrDefault(r => r.Config is { } c &&
            (string.Equals(c.Container?.Network.MacAddress, mac, StringComparison.OrdinalIgnoreCase) ||
             string.Equals(c.Vm?.MacAddress, mac, StringComparison.OrdinalIgnoreCase) ||
             (c.Id != current?.Id && (c.NetworkAdapters ?? []).Any(a => string.Equals(a.MacAddress, mac, StringComparison.OrdinalIgnoreCase)))));
        if (owner is not null) throw NetworkAdapterRules.MacInUse(mac, owner.DisplayName);
        return mac;
    }

    /// <summary>
    /// The same error with the file, line and VE in front of its message: its id and category stay those
    /// Add-VzNetworkAdapter gives, so a script handles a bad file as it handles a bad parameter.
    /// </summary>
    public static VzException InFile(VzException ex, string path, int line, string veName)
    {
        var message = $"{path} line {line}, '{veName}' networkAdapters: {ex.Message}";
        var action = (ex.RecommendedAction is { } a ? a + " " : "") + "Nothing was imported.";
        return ex switch
        {
            VzNotFoundException => new VzNotFoundException(ex.ErrorId, message, ex.Target) { RecommendedAction = action },
            VzAlreadyExistsException => new VzAlreadyExistsException(ex.ErrorId, message, ex.Target) { RecommendedAction = action },
            VzInvalidArgumentException arg => new VzInvalidArgumentException(ex.ErrorId, message, ex.Target, arg.ParameterName) { RecommendedAction = action },
            VzInsufficientResourcesException => new VzInsufficientResourcesException(ex.ErrorId, message, ex.Target) { RecommendedAction = action },
            _ => ex,
        };
    }
}
