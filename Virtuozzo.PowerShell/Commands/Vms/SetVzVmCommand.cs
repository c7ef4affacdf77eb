using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes a virtual machine's CPU, memory and boot settings; live where QEMU allows, otherwise at the next start.</para>
/// </summary>
/// <remarks>
/// Each setting is named like the VmInfo property that shows it and binds from the pipeline by that name, also from
/// text (Import-Csv), so a VM exported to CSV and read back sets what it had; an empty value leaves a setting alone.
/// </remarks>
[Cmdlet(VerbsCommon.Set, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class SetVzVmCommand : VzVmCmdlet, IDynamicParameters
{
    private readonly VmSettingsParameters settings = new();

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The settings shared with New-VzVm (<see cref="VmSettingsParameters"/>).</summary>
    public object GetDynamicParameters() => settings;

    protected override void ProcessVm(VeRecord record)
    {
        var options = settings.ToSetOptions();
        if (!ShouldProcess(record.DisplayName, "Change virtual machine settings")) return;
        var engine = Engine;
        var result = Run(ct => engine.Vms.SetAsync(record.Id, options, ct));
        foreach (var p in result.Pending) WriteWarning($"{record.DisplayName}: {p} is pending; it applies at the next start of the VM.");
        foreach (var n in result.Notes) WriteVerbose($"{record.DisplayName}: {n}");
        if (PassThru) WriteObject(result.Vm);
    }
}
