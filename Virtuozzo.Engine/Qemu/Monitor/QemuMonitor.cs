using System.Text.Json.Nodes;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>
/// The typed QMP monitor of one running VM: one method per QMP command the engine uses, grouped in partial files
/// by concern (QemuMonitor.RunState, .Block, .Devices, .Objects, .Cpus, .Migration). No other part of the engine
/// spells a QMP command name; callers speak in these methods, so the protocol is tested here against a scripted
/// fake monitor and the services read as orchestration. A session holds QEMU's only monitor slot, so it is opened
/// for one operation and disposed.
/// </summary>
public sealed partial class QemuMonitor : IAsyncDisposable
{
    /// <summary>How long one command may take before the monitor counts as hung.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);

    private readonly QmpClient qmp;
    private readonly IDisposable? gate;

    /// <summary>Wraps a negotiated client (tests hand in one over an in-memory stream).</summary>
    public QemuMonitor(QmpClient qmp) : this(qmp, null) { }

    private QemuMonitor(QmpClient qmp, IDisposable? gate)
    {
        this.qmp = qmp;
        this.gate = gate;
    }

    /// <summary>The greeting's QEMU version ("7.2.19").</summary>
    public string QemuVersion => qmp.QemuVersion;

    /// <summary>
    /// Opens the VM's monitor for one operation. QEMU serves one client per socket and a second connect hangs without
    /// a greeting, so a flock in the run folder serializes pwsh processes on one host.
    /// </summary>
    public static async Task<QemuMonitor> OpenAsync(VmRuntimePaths paths, string name, CancellationToken cancellationToken)
    {
        var gate = FileLock.Acquire(paths.QmpLock, TimeSpan.FromSeconds(30), name, cancellationToken);
        try { return new QemuMonitor(await QmpClient.ConnectAsync(paths.QmpSocket, CommandTimeout, name, cancellationToken), gate); }
        catch
        {
            gate.Dispose();
            throw;
        }
    }

    private Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync(command, arguments, CommandTimeout, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await qmp.DisposeAsync();
        gate?.Dispose();
    }
}
