using System.Globalization;
using System.Runtime.InteropServices;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Ksm;

/// <summary>
/// Per-container KSM: prctl(PR_SET_MEMORY_MERGE) (Linux 6.4+) marks every anonymous mapping of a process mergeable,
/// the flag is inherited across fork and, since 6.7 ("mm/ksm: support fork/exec for prctl"), across exec. So the
/// OCI runtime is started with it set: the container's init it forks, and every process init starts, inherit it.
/// The engine's own process must not set it (that would make the whole .NET process, pwsh included, mergeable), so
/// the runtime is started through a one-line launcher in perl (perl-base is Essential in Debian: always there),
/// which sets the flag for itself and execs the runtime. Commands started from outside (Invoke-VzContainerCommand,
/// Enter-VzContainer: crun exec) are not the init's descendants and do not inherit it.
/// </summary>
public sealed class ProcessMerge(ProcessRunner runner)
{
    public const int PrSetMemoryMerge = 67, PrGetMemoryMerge = 68;
    public const string Perl = "/usr/bin/perl";
    private Task<string?>? probe;

    /// <summary>The prctl syscall number of this architecture; null where the engine does not know it.</summary>
    public static int? PrctlSyscall => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 157,
        Architecture.Arm64 => 167,
        _ => null,
    };

    /// <summary>The launcher's arguments before the program it execs (which follows as its own argument list).</summary>
    public static IReadOnlyList<string> LauncherPrefix(int prctl) =>
    [
        Perl, "-e",
        string.Create(CultureInfo.InvariantCulture, $"syscall({prctl}, {PrSetMemoryMerge}, 1, 0, 0, 0) == 0 or die \"PR_SET_MEMORY_MERGE: $!\\n\"; exec {{ $ARGV[0] }} @ARGV or die \"exec $ARGV[0]: $!\\n\";"),
        "--",
    ];

    /// <summary>
    /// Checks once, for real, that a process can set the flag and that it survives exec (the launcher sets it, execs
    /// perl again, which reads it back with PR_GET_MEMORY_MERGE). Throws naming what is missing.
    /// </summary>
    public async Task EnsureSupportedAsync(object target, CancellationToken ct)
    {
        var missing = await (probe ??= ProbeAsync(ct));
        if (missing is not null)
            throw new VzCapabilityMissingException("VzProcessMergeUnsupported", $"Per-container KSM merging is not possible on this host: {missing}.", target, "PR_SET_MEMORY_MERGE")
            { RecommendedAction = "Use a Linux 6.7 or newer kernel built with CONFIG_KSM (and perl-base), or leave -MemMerge off for containers; VMs merge through QEMU on any kernel." };
    }

    private async Task<string?> ProbeAsync(CancellationToken ct)
    {
        if (PrctlSyscall is not { } nr) return $"the engine does not know the prctl syscall number on {RuntimeInformation.ProcessArchitecture}";
        if (!File.Exists(Perl)) return $"{Perl} is missing";
        var check = string.Create(CultureInfo.InvariantCulture, $"exit(syscall({nr}, {PrGetMemoryMerge}, 0, 0, 0, 0) == 1 ? 0 : 3)");
        var r = await runner.RunAsync(Perl, [.. LauncherPrefix(nr).Skip(1), Perl, "-e", check],
            new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(10), ThrowOnFailure = false }, ct);
        return r.ExitCode switch
        {
            0 => null,
            3 => "the kernel drops PR_SET_MEMORY_MERGE across exec (it needs Linux 6.7 or newer)",
            _ => $"the kernel refused PR_SET_MEMORY_MERGE ({r.StandardError.Trim()}; it needs Linux 6.4 or newer with CONFIG_KSM)",
        };
    }
}
