using Virtuozzo.Commands.Completion;
using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// The container settings New-VzContainer and Set-VzContainer share, declared once: both cmdlets hand an instance
/// of this class to PowerShell as their dynamic parameters, so help, completion and Get-Command see the same
/// parameters on both, and the two lists cannot drift. Each parameter is named like the ContainerInfo property that
/// shows it and binds from the pipeline by that name, also from text (Import-Csv): a container exported to CSV and
/// read back sets what it had. Null means "not given": New-VzContainer uses the default, Set-VzContainer leaves the
/// setting alone.
/// </summary>
public sealed class ContainerSettingsParameters
{
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public long? MemorySize { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public long? SwapSize { get; set; }
    /// <summary>Auto (the container default, 0 %) or 0-100; checked by the engine (VzInvalidMemGuarantee).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public MemGuarantee? MemGuarantee { get; set; }
    /// <summary>1 to the host's CPU count; checked by the engine (VzInvalidCpuCount), as for VMs.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(1, int.MaxValue)] public int? CpuCount { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(8, 500000)] public int? CpuUnits { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(0, 409600)] public int? CpuLimit { get; set; }
    /// <summary>The limit in MHz of the host's CPU (Get-VzHost's CpuMhz); stored and shown as given. 0 beside a CpuLimit from the pipeline is no conflict.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(0, int.MaxValue)] public int? CpuLimitMhz { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public string? CpuMask { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public long? PidsLimit { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public string? Hostname { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText(List = true)] public string[]? Nameserver { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText(List = true)] public string[]? IpAddress { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public NetworkMode? NetworkMode { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public string? Bridge { get; set; }
    /// <summary>'' removes the gateway; so no empty-means-not-given here (a CSV cell of a container without one is '' too).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? Gateway { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText(Boolean = true)] public bool? OnBoot { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? Description { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public long? DiskSize { get; set; }
    /// <summary>The system call filter: Default (the built-in profile), Unconfined, or the absolute path of an OCI seccomp profile JSON file.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ArgumentCompleter(typeof(SeccompProfileCompleter))] public string? SeccompProfile { get; set; }

    /// <summary>The settings given, as engine changes (with the New-only layout).</summary>
    public ContainerChanges ToChanges(ContainerLayout? layout = null) => new()
    {
        MemorySize = MemorySize, SwapSize = SwapSize, MemGuarantee = MemGuarantee, CpuCount = CpuCount, CpuUnits = CpuUnits,
        CpuLimit = CpuLimit, CpuLimitMhz = CpuLimitMhz, CpuMask = CpuMask, PidsLimit = PidsLimit, Hostname = Hostname,
        Nameserver = Nameserver, IpAddress = IpAddress, NetworkMode = NetworkMode, Bridge = Bridge, Gateway = Gateway,
        OnBoot = OnBoot, Description = Description, DiskSize = DiskSize, Layout = layout, SeccompProfile = SeccompProfile,
    };
}
