using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Network;

/// <summary>
/// One Debian dnsmasq per HostOnly network with DHCP: DHCP only (no DNS, port 0), bound to the network's bridge,
/// its pid and lease files in the run folder. Started with the network and stopped with it.
/// </summary>
public sealed class DnsmasqProcess(ProcessRunner runner, ILogger logger)
{
    public const string Program = "/usr/sbin/dnsmasq";

    public static string PidFile(string runRoot, string network) => Path.Combine(runRoot, "networks", network.ToLowerInvariant() + ".dnsmasq.pid");

    /// <summary>The running dnsmasq of a network, checked by its /proc entry so a stale pid file counts as none.</summary>
    public static int? RunningPid(string runRoot, string network)
    {
        var file = PidFile(runRoot, network);
        if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), out var pid)) return null;
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim() == "dnsmasq" ? pid : null; }
        catch (IOException) { return null; }
    }

    public async Task StartAsync(string runRoot, VirtualNetwork network, string first, string last, string mask, CancellationToken ct)
    {
        if (RunningPid(runRoot, network.Name) is not null) return;
        Directory.CreateDirectory(Path.Combine(runRoot, "networks"));
        var leases = Path.Combine(runRoot, "networks", network.Name.ToLowerInvariant() + ".leases");
        // --user=root: the pid and lease files live in the root-only run folder; dnsmasq has no other privilege use.
        await runner.RunAsync(Program,
        [
            "--conf-file=/dev/null", "--port=0", "--bind-interfaces", "--except-interface=lo", $"--interface={network.Bridge}",
            $"--dhcp-range={first},{last},{mask},1h", $"--dhcp-leasefile={leases}", "--dhcp-authoritative",
            $"--pid-file={PidFile(runRoot, network.Name)}", "--user=root", "--group=root",
        ], new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(15), Target = network.Name }, ct);
        logger.LogInformation("dnsmasq serves DHCP {First}-{Last} on {Bridge}.", first, last, network.Bridge);
    }

    public async Task StopAsync(string runRoot, string network)
    {
        if (RunningPid(runRoot, network) is { } pid)
        {
            using (var p = System.Diagnostics.Process.GetProcessById(pid)) p.Kill();
            for (var i = 0; i < 100 && Directory.Exists($"/proc/{pid}"); i++) await Task.Delay(20);
        }
        if (File.Exists(PidFile(runRoot, network))) File.Delete(PidFile(runRoot, network));
    }
}
