using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>
/// Internal qcow2 snapshots of a running VM: a transaction of blockdev-snapshot-internal-sync (all disks at one
/// instant, or none), blockdev-snapshot-delete-internal-sync, and the snapshot-save / snapshot-load / snapshot-delete
/// jobs (RAM state too) with query-jobs and job-dismiss to follow them.
/// </summary>
public sealed partial class QemuMonitor
{
    /// <summary>
    /// Takes an internal snapshot named <paramref name="tag"/> in every node of <paramref name="nodeNames"/> in one
    /// QMP transaction: QEMU drains I/O once and either all nodes get it or none does.
    /// </summary>
    public Task SnapshotInternalTransactionAsync(IEnumerable<string> nodeNames, string tag, CancellationToken cancellationToken)
    {
        var actions = new JsonArray();
        foreach (var node in nodeNames)
            actions.Add(new JsonObject
            {
                ["type"] = "blockdev-snapshot-internal-sync",
                ["data"] = new JsonObject { ["device"] = node, ["name"] = tag },
            });
        return ExecuteAsync("transaction", new JsonObject { ["actions"] = actions }, cancellationToken);
    }

    /// <summary>Deletes the internal snapshot <paramref name="tag"/> of one node while the guest runs.</summary>
    public Task SnapshotDeleteInternalAsync(string nodeName, string tag, CancellationToken cancellationToken) =>
        ExecuteAsync("blockdev-snapshot-delete-internal-sync", new JsonObject { ["device"] = nodeName, ["name"] = tag }, cancellationToken);

    /// <summary>Starts a snapshot-save job: RAM and device state into <paramref name="vmstateNode"/>, disks in <paramref name="devices"/>.</summary>
    public Task SnapshotSaveAsync(string jobId, string tag, string vmstateNode, IEnumerable<string> devices, CancellationToken cancellationToken) =>
        ExecuteAsync("snapshot-save", new JsonObject
        {
            ["job-id"] = jobId, ["tag"] = tag, ["vmstate"] = vmstateNode, ["devices"] = new JsonArray([.. devices.Select(d => (JsonNode)d)]),
        }, cancellationToken);

    /// <summary>Starts a snapshot-load job: the disks revert and the saved RAM and device state replace the running ones.</summary>
    public Task SnapshotLoadAsync(string jobId, string tag, string vmstateNode, IEnumerable<string> devices, CancellationToken cancellationToken) =>
        ExecuteAsync("snapshot-load", new JsonObject
        {
            ["job-id"] = jobId, ["tag"] = tag, ["vmstate"] = vmstateNode, ["devices"] = new JsonArray([.. devices.Select(d => (JsonNode)d)]),
        }, cancellationToken);

    /// <summary>Starts a snapshot-delete job over <paramref name="devices"/>.</summary>
    public Task SnapshotDeleteJobAsync(string jobId, string tag, IEnumerable<string> devices, CancellationToken cancellationToken) =>
        ExecuteAsync("snapshot-delete", new JsonObject
        {
            ["job-id"] = jobId, ["tag"] = tag, ["devices"] = new JsonArray([.. devices.Select(d => (JsonNode)d)]),
        }, cancellationToken);

    /// <summary>The state of one job (null when QEMU does not know it): status ("running", "concluded"...) and its error.</summary>
    public async Task<JobStatus?> QueryJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var jobs = await ExecuteAsync("query-jobs", null, cancellationToken) as JsonArray;
        foreach (var job in jobs ?? [])
        {
            if (job?["id"]?.GetValue<string>() != jobId) continue;
            return new JobStatus(job["status"]?.GetValue<string>() ?? "", job["error"]?.GetValue<string>(),
                job["current-progress"]?.GetValue<long>() ?? 0, job["total-progress"]?.GetValue<long>() ?? 0);
        }
        return null;
    }

    /// <summary>Removes a concluded job from QEMU's list.</summary>
    public Task JobDismissAsync(string jobId, CancellationToken cancellationToken) =>
        ExecuteAsync("job-dismiss", new JsonObject { ["id"] = jobId }, cancellationToken);
}
