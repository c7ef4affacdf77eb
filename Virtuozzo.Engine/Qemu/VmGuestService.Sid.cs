using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qemu;

public sealed partial class VmGuestService
{
    /// <summary>
    /// prlctl set --changesid: a new Windows security identifier. Only Windows has SIDs, so for any other guest the
    /// answer names the guest OS the agent reports; a Windows guest needs Sysprep run inside it, which this module
    /// does not drive. Nothing in the guest changes either way.
    /// </summary>
    public async Task ChangeSidAsync(Guid id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (_, name) = vms.Running(id);
        var info = await GetInfoAsync(id, timeout, cancellationToken);
        var os = info.OsName ?? (info.KernelRelease is { } k ? $"Linux {k}" : "an OS the agent does not name");
        if (os.Contains("Windows", StringComparison.OrdinalIgnoreCase))
            throw new VzNotSupportedException("VzChangeSidNotSupported", $"'{name}' runs {os}; a new SID needs Sysprep in the guest, which Virtuozzo for PowerShell does not run.", name)
            { RecommendedAction = "Run 'sysprep /generalize /oobe' in the guest (Invoke-VzVmCommand), or clone from a generalized image." };
        throw new VzNotSupportedException("VzChangeSidNotSupported", $"'{name}' runs {os}: a security identifier (SID) exists only on Windows guests, so there is nothing to change.", name)
        { RecommendedAction = "Leave out -ChangeSid for Linux guests; a clone gets a new machine identity (UUID, MAC) anyway." };
    }
}
