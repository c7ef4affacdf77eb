using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Configuration;

/// <summary>Validates and applies host setting changes under a lock, so two sessions cannot lose each other's edit.</summary>
public static class HostSettingsEditor
{
    public static HostSettings Apply(string? dataRoot, string? containerRuntime)
    {
        if (dataRoot is not null && !Path.IsPathFullyQualified(dataRoot))
            throw new VzInvalidArgumentException("VzInvalidDataRoot", $"The data root '{dataRoot}' is not an absolute path.", dataRoot, "DataRoot");
        if (containerRuntime is not null and not ("Auto" or "crun" or "runc"))
            throw new VzInvalidArgumentException("VzInvalidRuntime", $"'{containerRuntime}' is not a supported OCI runtime (crun, runc or Auto).", containerRuntime, "ContainerRuntime");
        var path = HostSettings.FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var _ = FileLock.Acquire(path + ".lock", VeStore.LockTimeout, path);
        var settings = HostSettings.Load();
        if (dataRoot is not null) settings.DataRoot = dataRoot;
        if (containerRuntime is not null) settings.ContainerRuntime = containerRuntime == "Auto" ? null : containerRuntime;
        settings.Save();
        return settings;
    }

    /// <summary>Stores who decides KSM's settings (Set-VzKsm -Policy).</summary>
    public static HostSettings ApplyKsmPolicy(Ksm.KsmPolicyMode mode)
    {
        var path = HostSettings.FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var _ = FileLock.Acquire(path + ".lock", VeStore.LockTimeout, path);
        var settings = HostSettings.Load();
        settings.KsmPolicy = mode == Ksm.KsmPolicyMode.Manual ? null : mode;
        settings.Save();
        return settings;
    }

    /// <summary>Changes the autoballoon policy; the result is validated as a whole before it is saved.</summary>
    public static HostSettings ApplyBalloon(Func<Memory.Balloon.BalloonPolicySettings, Memory.Balloon.BalloonPolicySettings> change)
    {
        var path = HostSettings.FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var _ = FileLock.Acquire(path + ".lock", VeStore.LockTimeout, path);
        var settings = HostSettings.Load();
        var balloon = change(settings.Balloon ?? new Memory.Balloon.BalloonPolicySettings());
        balloon.Validate();
        settings.Balloon = balloon;
        settings.Save();
        return settings;
    }
}
