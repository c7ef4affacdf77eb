namespace Virtuozzo.Engine.Store;

/// <summary>
/// What makes a VE itself rather than its settings: its template and uid/gid range, its MAC addresses, its init, its
/// disks and hot-plugged memory. A settings file (Import-VzConfig) never changes these, so importing another VE's
/// export cannot clone an identity, and a hand-edited file cannot detach a disk behind the VM's back.
/// </summary>
public static class VeIdentity
{
    /// <summary>Copies the identity of <paramref name="current"/> over whatever <paramref name="updated"/> says.</summary>
    public static void Keep(VeConfig current, VeConfig updated)
    {
        if (current.Container is { } cc && updated.Container is { } uc)
        {
            uc.Template = cc.Template;
            uc.UidBase = cc.UidBase;
            uc.UidCount = cc.UidCount;
            uc.Init = cc.Init;
            uc.StopSignal = cc.StopSignal;
            uc.Layout = cc.Layout;
            uc.DiskSize = cc.DiskSize;
            uc.Network.MacAddress = cc.Network.MacAddress;
        }
        if (current.Vm is { } cv && updated.Vm is { } uv)
        {
            uv.Disks = cv.Disks;
            uv.DvdDrives = cv.DvdDrives;
            uv.Dimms = cv.Dimms;
            uv.Pending = cv.Pending;
            uv.MacAddress = cv.MacAddress;
            uv.MemHotplug = cv.MemHotplug;
            uv.MaxMemorySize = cv.MaxMemorySize;
            uv.Firmware = cv.Firmware;
            uv.Machine = cv.Machine;
        }
    }
}
