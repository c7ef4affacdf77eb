using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Service;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// Set-VzHost's metrics parameters: validates the address (form, scope, free) before saving, under the host config
/// lock. The running service picks the change up within a few seconds.
/// </summary>
public static class MetricsSettingsEditor
{
    public static MetricsSettings Apply(bool? enabled, string? address, bool? allowRemote, HostServicePaths service)
    {
        var path = HostSettings.FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var _ = FileLock.Acquire(path + ".lock", VeStore.LockTimeout, path);
        var settings = HostSettings.Load();
        var current = settings.Metrics ?? new MetricsSettings();
        var endpoint = MetricsAddress.Parse(address ?? current.Address);
        var updated = current with
        {
            Enabled = enabled ?? current.Enabled,
            Address = MetricsAddress.Format(endpoint),
            AllowRemote = allowRemote ?? current.AllowRemote,
        };
        MetricsAddress.CheckScope(endpoint, updated.AllowRemote);
        // Our own service listening there is not "in use"; anything else is, and is refused before it is saved.
        var ownService = MetricsEndpointState.ReadLive(service) is { Listening: true } live && live.Address == updated.Address;
        if (updated.Enabled && !ownService) MetricsAddress.CheckFree(endpoint);
        settings.Metrics = updated;
        settings.Save();
        return updated;
    }
}
