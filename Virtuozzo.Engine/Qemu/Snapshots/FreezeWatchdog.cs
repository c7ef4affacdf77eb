using Microsoft.Extensions.Logging;

namespace Virtuozzo.Engine.Qemu.Snapshots;

/// <summary>
/// The last-resort thaw of <see cref="GuestFreeze"/>: a small perl program (perl-base is part of every Debian) in its
/// own session, so neither Ctrl+C to the pwsh process group nor kill -9 of pwsh ends it. While the freeze marker
/// exists it watches the owning process; when that process is gone with the marker still there, it takes the agent
/// lock (the kernel released the dead owner's), connects to the agent socket and sends guest-fsfreeze-thaw. It ends
/// as soon as the marker is gone, which is what a normal thaw does.
/// </summary>
internal static class FreezeWatchdog
{
    private const string Script = """
        use strict; use IO::Socket::UNIX; use Fcntl qw(:flock); use IO::Select;
        open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
        my ($marker, $sock, $lock, $owner) = @ARGV;
        sub alive { open(my $f, '<', "/proc/$owner/stat") or return 0; my $s = <$f>; return $s !~ /\) [ZX] /; }
        my $started = time;
        while (-e $marker) {
            if (!alive()) {
                open(my $lf, '>>', $lock) or exit 1; flock($lf, LOCK_EX) or exit 1;
                exit 0 unless -e $marker;
                my $s = IO::Socket::UNIX->new(Peer => $sock, Type => SOCK_STREAM) or exit 1;
                syswrite($s, "\xff{\"execute\":\"guest-fsfreeze-thaw\"}\n");
                my $sel = IO::Select->new($s); my $buf = '';
                while ($sel->can_read(10)) { my $n = sysread($s, $buf, 4096, length $buf); last if !$n || $buf =~ /"return"/; }
                unlink $marker; exit 0;
            }
            exit 0 if time - $started > 3600;
            select(undef, undef, undef, 0.2);
        }
        """;

    public static void Start(string marker, string agentSocket, string agentLock, int ownerPid, ILogger logger)
    {
        var start = new System.Diagnostics.ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var a in new[] { "-f", "perl", "-e", Script, marker, agentSocket, agentLock, ownerPid.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        try
        {
            using var p = System.Diagnostics.Process.Start(start);
            p?.WaitForExit(5000);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            // The in-process paths (finally and the timer) still thaw; only a killed pwsh would go unguarded.
            logger.LogWarning("Could not start the freeze watchdog ({Error}); a killed snapshot job would leave the guest frozen.", ex.Message);
        }
    }
}
