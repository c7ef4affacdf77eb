using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes host-wide Virtuozzo settings: the data root and the OCI runtime containers use.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzHost", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HostInfo))]
public sealed class SetVzHostCommand : VzCmdlet
{
    /// <summary>Folder that holds VEs and templates (default /vz).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DataRoot { get; set; }

    /// <summary>OCI runtime to use for containers; Auto lets the probe pick one that works.</summary>
    [Parameter]
    [ValidateSet("Auto", "crun", "runc")]
    public string? ContainerRuntime { get; set; }

    /// <summary>Whether the host service balloons VMs at all (per VM: Set-VzVm -AutoBalloon).</summary>
    [Parameter]
    public bool? AutoBalloon { get; set; }

    /// <summary>Memory left to a VM over its working set, in percent (5-200, default 20). Not range-checked here: the engine's error names the limit.</summary>
    [Parameter]
    public int? BalloonBufferPercent { get; set; }

    /// <summary>At most one balloon command per VM in this many seconds in steady state (5-600, default 30).</summary>
    [Parameter]
    public int? BalloonIntervalSeconds { get; set; }

    /// <summary>A guest with less available memory than this share of its memory is deflated at once (2-50, default 10).</summary>
    [Parameter]
    public int? BalloonLowAvailablePercent { get; set; }

    /// <summary>Whether the host service serves Prometheus metrics (off by default).</summary>
    [Parameter]
    public bool? MetricsEnabled { get; set; }

    /// <summary>host:port the metrics endpoint listens on (default 127.0.0.1:9784); an address other hosts reach needs -AllowRemoteMetrics.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MetricsAddress { get; set; }

    /// <summary>Allows a metrics address that is not loopback (the endpoint has no authentication: firewall it).</summary>
    [Parameter]
    public SwitchParameter AllowRemoteMetrics { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var balloon = AutoBalloon is not null || BalloonBufferPercent is not null || BalloonIntervalSeconds is not null || BalloonLowAvailablePercent is not null;
            var metrics = MetricsEnabled is not null || MetricsAddress is not null || MyInvocation.BoundParameters.ContainsKey(nameof(AllowRemoteMetrics));
            var change = string.Join(", ", new[]
            {
                DataRoot is null ? null : $"data root '{DataRoot}'", ContainerRuntime is null ? null : $"container runtime {ContainerRuntime}",
                balloon ? "the autoballoon policy" : null,
                metrics ? "the metrics endpoint" : null,
            }.Where(s => s is not null));
            if (change.Length == 0 || !ShouldProcess("localhost", $"Set {change}")) return;
            var dataRoot = DataRoot is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(DataRoot);
            if (balloon)
                Run(() => HostSettingsEditor.ApplyBalloon(b => b with
                {
                    Enabled = AutoBalloon ?? b.Enabled,
                    BufferPercent = BalloonBufferPercent ?? b.BufferPercent,
                    MinIntervalSeconds = BalloonIntervalSeconds ?? b.MinIntervalSeconds,
                    LowAvailablePercent = BalloonLowAvailablePercent ?? b.LowAvailablePercent,
                }));
            if (metrics)
            {
                var service = Virtuozzo.Engine.Service.HostServicePaths.For(Engine.Paths);
                Run(() => Virtuozzo.Engine.Metrics.MetricsSettingsEditor.Apply(MetricsEnabled, MetricsAddress, MyInvocation.BoundParameters.ContainsKey(nameof(AllowRemoteMetrics)) ? AllowRemoteMetrics.IsPresent : null, service));
            }
            if (dataRoot is not null || ContainerRuntime is not null) Run(() => { HostSettingsEditor.Apply(dataRoot, ContainerRuntime); return true; });
            if (PassThru) { var engine = Engine; WriteObject(Run(ct => engine.Host.GetAsync(false, ct))); }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "localhost"); }
        finally { base.EndProcessing(); }
    }
}
