namespace Virtuozzo.Engine.Store;

/// <summary>
/// One VE in a <see cref="VeConfigDocument"/>. A section left out (null) means "leave it as it is" on import, so a
/// file can pin only what it cares about (say, memory) and leave the rest to the cmdlets.
/// The sections are the store's own settings classes, so a setting another area adds round-trips without changes here.
/// </summary>
public sealed class VeSettingsEntry
{
    public string Name { get; set; } = "";

    /// <summary>Required: the file says what kind of VE each entry is.</summary>
    public VeType? Type { get; set; }

    public string? Description { get; set; }
    public bool? OnBoot { get; set; }

    /// <summary>Host service start order and delay, and what it does at its stop; left out, a setting is left alone (0 and None are the defaults).</summary>
    public int? BootOrder { get; set; }
    public int? BootDelay { get; set; }
    public VeAutoStop? AutoStop { get; set; }
    public MemorySettings? Memory { get; set; }
    public CpuSettings? Cpu { get; set; }
    public ContainerSettings? Container { get; set; }
    public VmSettings? Vm { get; set; }

    /// <summary>
    /// Host folders shared with the VE (Add-VzSharedFolder): the whole list, so an import adds the ones missing and
    /// removes the ones not named (an empty list removes all); left out, the VE's shares are left alone.
    /// </summary>
    public List<VeSharedFolder>? SharedFolders { get; set; }

    /// <summary>
    /// The VE's adapters beyond eth0 (Add-VzNetworkAdapter): the whole list, as for shared folders; left out, its
    /// adapters are left alone. eth0 is the container's network section, or the VM's networkMode and bridge.
    /// </summary>
    public List<VeAdapterSettings?>? NetworkAdapters { get; set; }
}
