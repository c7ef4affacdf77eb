using System.Management.Automation;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// Turns -Name (with wildcards), -Id and piped objects into registry records of one VE type. A name without
/// wildcards that matches nothing is an error (as Get-Process does); a wildcard that matches nothing is silent.
/// </summary>
internal static class VeSelector
{
    public static IEnumerable<VeRecord> Select(VeStore store, VeType type, string[]? names, Guid[]? ids, Action<Exception, object> onMissing)
    {
        // Records whose config does not read (half-created, corrupt) have no type: they are offered to both kinds,
        // so either Remove- cmdlet can clean them up by id.
        static bool OfType(VeRecord r, VeType type) => r.Config is null || r.Config.Type == type;
        var seen = new HashSet<Guid>();
        if (ids is { Length: > 0 })
        {
            // By id (and piped objects, one pipeline item at a time): the VE's own folder, not a listing of all of
            // them, so piping hundreds of VEs costs one lookup each.
            foreach (var id in ids)
            {
                var hit = store.TryGet(id) is { } r && OfType(r, type) ? r : null;
                if (hit is null) onMissing(NotFound(type, id.ToString(), byId: true), id);
                else if (seen.Add(hit.Id)) yield return hit;
            }
            yield break;
        }
        var typed = store.List().Where(r => OfType(r, type)).ToList();
        if (names is null || names.Length == 0)
        {
            foreach (var r in typed) yield return r;
            yield break;
        }
        foreach (var name in names)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matched = false;
            foreach (var r in typed.Where(r => r.Config is not null && pattern.IsMatch(r.Config.Name)))
            {
                matched = true;
                if (seen.Add(r.Id)) yield return r;
            }
            // A VE whose config does not parse is still found by the name its file shows: the error says what is
            // broken and where, instead of "no container named ...". It is reported, not acted on.
            foreach (var r in typed.Where(r => r.Error is not null && r.NameHint is { } hint && (r.TypeHint is null || r.TypeHint == type) && pattern.IsMatch(hint)))
            {
                matched = true;
                if (seen.Add(r.Id)) onMissing(r.Error!, r.Error!.Path);
            }
            if (!matched && !WildcardPattern.ContainsWildcardCharacters(name)) onMissing(NotFound(type, name, byId: false), name);
        }
    }

    /// <summary>
    /// Like <see cref="Select"/> for commands that take containers and VMs alike (Export-VzConfig). A name or id
    /// that matches no VE of either kind is a VzVeNotFound error.
    /// </summary>
    public static IEnumerable<VeRecord> SelectAny(VeStore store, string[]? names, Guid[]? ids, Action<Exception, object> onMissing)
    {
        var all = store.List();
        var seen = new HashSet<Guid>();
        if (ids is { Length: > 0 })
        {
            foreach (var id in ids)
            {
                var hit = all.FirstOrDefault(r => r.Id == id);
                if (hit is null) onMissing(AnyNotFound($"No VE with id {id} exists on this host.", id), id);
                else if (seen.Add(hit.Id)) yield return hit;
            }
            yield break;
        }
        if (names is null || names.Length == 0)
        {
            foreach (var r in all) yield return r;
            yield break;
        }
        foreach (var name in names)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matched = false;
            foreach (var r in all.Where(r => r.Config is not null && pattern.IsMatch(r.Config.Name)))
            {
                matched = true;
                if (seen.Add(r.Id)) yield return r;
            }
            if (!matched && !WildcardPattern.ContainsWildcardCharacters(name)) onMissing(AnyNotFound($"No container or VM named '{name}' exists on this host.", name), name);
        }
    }

    internal static VzNotFoundException AnyNotFound(string message, object key) =>
        new("VzVeNotFound", message, key) { RecommendedAction = "Run Get-VzContainer and Get-VzVm to see the VEs on this host." };

    /// <summary>The typed not-found error for a VE of <paramref name="type"/>, with a stable id per type.</summary>
    public static VzNotFoundException NotFound(VeType type, string key, bool byId)
    {
        var noun = type == VeType.VirtualMachine ? "VM" : "container";
        var id = type == VeType.VirtualMachine ? "VzVmNotFound" : "VzContainerNotFound";
        var list = type == VeType.VirtualMachine ? "Get-VzVm" : "Get-VzContainer";
        return new VzNotFoundException(id, byId ? $"No {noun} with id {key} exists on this host." : $"No {noun} named '{key}' exists on this host.", key)
        { RecommendedAction = $"Run {list} to see the {noun}s on this host." };
    }
}
