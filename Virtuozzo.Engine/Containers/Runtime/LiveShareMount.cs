using System.Globalization;
using System.Runtime.InteropServices;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>
/// Attaches a shared folder to a running container, and detaches it, without a restart: a detached copy of the host
/// folder (open_tree OPEN_TREE_CLONE, recursive like the start's rbind), given nosuid, nodev, ro when asked and, where
/// the start would idmap it, the container's own user namespace as its idmapping (mount_setattr), then moved onto
/// the guest path inside the container's mount namespace (setns + move_mount). The same mount the runtime makes at
/// start, so a share looks the same whichever way it came.
/// </summary>
/// <remarks>
/// setns into a mount namespace is refused to a multithreaded process, so it cannot be done from .NET: a small helper
/// does it. It is a Perl script run by <c>/usr/bin/perl</c>, because perl-base is Essential on Debian (on every
/// host, unlike python3) and its built-in <c>syscall</c> reaches the new mount API without a compiler or a
/// library binding; util-linux's mount cannot (bookworm's 2.38 has no X-mount.idmap, and it mounts by path from
/// inside the namespace, where the host folder is not visible). The syscall numbers are passed in per architecture.
/// </remarks>
public static class LiveShareMount
{
    public const string PerlPath = "/usr/bin/perl";

    private const int AttrReadOnly = 0x1, AttrNoSuid = 0x2, AttrNoDev = 0x4, AttrIdmap = 0x100000;

    /// <summary>The helper's exit code for a guest path (or a folder on the way to it) that is not a folder in the container.</summary>
    private const int NotAFolderExit = 2;

    private static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(20) };

    /// <summary>The helper: attach or detach, as described above. Arguments only; nothing is interpolated.</summary>
    private const string Script = """
        use strict;
        use warnings;
        my ($mode, $pid, $guest, $source, $attrs, $nr_open_tree, $nr_mount_setattr, $nr_move_mount, $nr_setns, $nr_umount2) = @ARGV;
        sub fail { my $what = shift; print STDERR "$what: $!\n"; exit 1; }
        # syscall() passes a string as a pointer to a buffer it may write: a variable, never a literal.
        my $empty = '';
        open(my $mntns, '<', "/proc/$pid/ns/mnt") or fail("open /proc/$pid/ns/mnt");
        opendir(my $root, "/proc/$pid/root/") or fail("open /proc/$pid/root");
        my $tree;
        if ($mode eq 'attach') {
            open(my $userns, '<', "/proc/$pid/ns/user") or fail("open /proc/$pid/ns/user");
            # OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE: a detached copy of the folder and the mounts below it.
            $tree = syscall($nr_open_tree, -100, $source, 0x1 | 0x80000 | 0x8000);
            fail("open_tree $source") if $tree < 0;
            my $attr = pack('QQQQ', $attrs, 0, 0, ($attrs & 0x100000) ? fileno($userns) : 0);
            # AT_EMPTY_PATH | AT_RECURSIVE: on the detached tree itself, all of it.
            syscall($nr_mount_setattr, $tree, $empty, 0x1000 | 0x8000, $attr, length($attr)) == 0 or fail("mount_setattr");
        }
        # This process is single-threaded, so it may enter the container's mount namespace; then its root.
        syscall($nr_setns, fileno($mntns), 0x20000) == 0 or fail("setns");
        chdir($root) or fail("chdir to the container root");
        chroot('.') or fail("chroot");
        chdir('/') or fail("chdir /");
        if ($mode eq 'attach') {
            my $path = '';
            for my $part (grep { length } split(m{/}, $guest)) {
                $path .= "/$part";
                next if -d $path;
                if (-e $path || -l $path) { print STDERR "$path is not a folder\n"; exit 2; }
                mkdir($path, 0755) or fail("mkdir $path");
            }
            # MOVE_MOUNT_F_EMPTY_PATH: the detached tree goes onto the guest path.
            syscall($nr_move_mount, $tree, $empty, -100, $guest, 0x4) == 0 or fail("move_mount to $guest");
        } else {
            # MNT_DETACH: a process still inside the folder keeps it until it leaves; nothing new finds it.
            syscall($nr_umount2, $guest, 0x2) == 0 or fail("umount $guest");
        }
        exit 0;
        """;

    public static Task AttachAsync(ProcessRunner runner, int initPid, string hostPath, string guestPath, bool readOnly, bool idMapped, string veName, CancellationToken ct)
    {
        var attrs = AttrNoSuid | AttrNoDev | (readOnly ? AttrReadOnly : 0) | (idMapped ? AttrIdmap : 0);
        return RunAsync(runner, "attach", initPid, guestPath, hostPath, attrs, veName, ct);
    }

    public static Task DetachAsync(ProcessRunner runner, int initPid, string guestPath, string veName, CancellationToken ct) =>
        RunAsync(runner, "detach", initPid, guestPath, "", 0, veName, ct);

    private static async Task RunAsync(ProcessRunner runner, string mode, int pid, string guestPath, string hostPath, int attrs, string veName, CancellationToken ct)
    {
        if (!File.Exists(PerlPath))
            throw new VzCapabilityMissingException("VzLiveShareUnavailable",
                $"Cannot {mode} a shared folder of the running container '{veName}' live: {PerlPath} is missing.", veName, "perl-base")
            { RecommendedAction = "Install perl-base (Essential on Debian), or restart the container to apply the change." };
        var nr = SyscallNumbers() ?? throw new VzCapabilityMissingException("VzLiveShareUnavailable",
            $"Cannot {mode} a shared folder of the running container '{veName}' live on {RuntimeInformation.OSArchitecture}.", veName, "x86-64 or arm64")
        { RecommendedAction = "Restart the container to apply the change." };
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        var r = await runner.RunAsync(PerlPath, ["-e", Script, "--", mode, I(pid), guestPath, hostPath, I(attrs), .. nr.Select(I)],
            Quick with { Target = veName, ThrowOnFailure = false }, ct);
        if (r.ExitCode == NotAFolderExit)
            throw new VzInvalidArgumentException("VzSharedFolderGuestPathNotFolder",
                $"The guest path '{guestPath}' of the running container '{veName}' is not a folder: {r.StandardError.Trim()}.", veName, "GuestPath")
            { RecommendedAction = "Choose a -GuestPath that is a folder in the container, or one that does not exist yet (it is created)." };
        if (r.ExitCode != 0) throw new VzExternalToolException("perl (shared folder helper)", r.Arguments, r.ExitCode, r.StandardError, veName);
    }

    /// <summary>open_tree, mount_setattr, move_mount (numbered alike on every architecture), setns, umount2.</summary>
    private static int[]? SyscallNumbers() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => [428, 442, 429, 308, 166],
        Architecture.Arm64 => [428, 442, 429, 268, 39],
        _ => null,
    };
}
