using System.Net;
using System.Text.RegularExpressions;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Checks container settings against prlctl's ranges and this host, applies them to a config, and turns a config
/// into cgroup limits. Every check runs before anything is written, so bad input changes nothing.
/// </summary>
/// <remarks>
/// The memory size is called MemorySize from the -MemorySize parameter to the cgroup file write, and reaches it
/// through three files of code. A file counts when its code reads or assigns the value by that name; declaring
/// a carrier property (ContainerChanges, Store's MemorySettings whose YAML key stays "size", CgroupLimits) does not,
/// nor does passing a whole carrier on (ContainerService, ContainerCgroup):
/// 1. Virtuozzo.PowerShell/Commands/Containers/ContainerSettingsParameters.cs binds -MemorySize into ContainerChanges;
/// 2. this file checks it (Apply), stores it in ve.yaml's record and maps it to CgroupLimits.MemorySize (ToLimits);
/// 3. Cgroups/V1/CgroupV1Backend.cs or Cgroups/V2/CgroupV2Backend.cs writes memory.limit_in_bytes or memory.max.
/// At a start the runtime also gets it from the bundle (Runtime/OciBundle.cs) before the backend's write.
/// </remarks>
public static partial class ContainerConfigurator
{
    public const long DefaultMemorySize = 512L << 20;
    public const long MinMemorySize = 16L << 20;

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    internal static partial Regex HostnamePattern();

    /// <summary>Validates <paramref name="c"/> and writes it into <paramref name="cfg"/> (a copy the caller owns).</summary>
    public static void Apply(VeConfig cfg, ContainerChanges c, HostLimits host)
    {
        var ct = cfg.Container ??= new ContainerSettings();
        if (c.MemorySize is { } mem)
        {
            CheckMemoryRange("VzInvalidMemorySize", "MemorySize", "memory size", mem, host, zeroAllowed: false);
            cfg.Memory.MemorySize = mem;
        }
        if (c.SwapSize is { } swap)
        {
            CheckMemoryRange("VzInvalidSwapSize", "SwapSize", "swap size", swap, host, zeroAllowed: true);
            cfg.Memory.SwapSize = swap;
        }
        if (c.MemGuarantee is { } g) cfg.Memory.GuaranteePercent = g.Validate(cfg.Name).Percent;
        if (c.CpuCount is { } count) cfg.Cpu.Count = Virtuozzo.Engine.Host.CpuCountRule.Validate(count, host.CpuCount, cfg.Name);
        if (c.CpuUnits is { } units)
        {
            if (units is < CgroupUnits.MinCpuUnits or > CgroupUnits.MaxCpuUnits)
                throw Invalid("VzInvalidCpuUnits", "CpuUnits", units, $"{units} CPU units is outside {CgroupUnits.MinCpuUnits}-{CgroupUnits.MaxCpuUnits}.", "Give 8-500000 (1000 is the default weight).");
            cfg.Cpu.Units = units;
        }
        CpuLimit.Validate(c.CpuLimit, c.CpuLimitMhz, host.CpuCount, host.CpuMhz, cfg.Name);
        CpuLimit.Store(cfg.Cpu, c.CpuLimit, c.CpuLimitMhz);
        if (c.CpuMask is { } mask)
        {
            var normalized = CpuList.Normalize(mask, host.CpuCount);
            cfg.Cpu.Mask = string.Equals(mask.Trim(), "all", StringComparison.OrdinalIgnoreCase) ? null : normalized;
        }
        if (c.PidsLimit is { } pids)
        {
            if (pids < 0) throw Invalid("VzInvalidPidsLimit", "PidsLimit", pids, "The process limit cannot be negative.", "Give 0 (no limit) or a positive number.");
            ct.PidsLimit = pids == 0 ? null : pids;
        }
        if (c.Hostname is { } hn && hn != (ct.Hostname ?? cfg.Name))
        {
            if (!HostnamePattern().IsMatch(hn))
                throw Invalid("VzInvalidHostname", "Hostname", hn, $"'{hn}' is not a valid hostname.", "Use letters, digits and '-', with dots between labels (for example web01.example.com).");
            ct.Hostname = hn;
        }
        if (c.Nameserver is { } ns)
        {
            foreach (var s in ns)
                if (!IPAddress.TryParse(s, out _))
                    throw Invalid("VzInvalidNameserver", "Nameserver", s, $"'{s}' is not an IP address.", "Give DNS servers as IP addresses.");
            ct.Nameservers = ns.Distinct().ToList();
        }
        if (c.IpAddress is { } ips) ct.Network.IpAddresses = ips.Select(NetworkSetup.NormalizeAddress).Distinct().ToList();
        if (c.NetworkMode is { } mode) ct.Network.Mode = mode;
        if (c.Bridge is { } br) { NetworkSetup.ValidateInterfaceName(br, "Bridge"); ct.Network.Bridge = br; }
        if (c.Gateway is { } gw)
        {
            if (gw.Length > 0 && !IPAddress.TryParse(gw, out _))
                throw Invalid("VzInvalidGateway", "Gateway", gw, $"'{gw}' is not an IP address.", "Give the gateway as an IP address, or '' for none.");
            ct.Network.Gateway = gw.Length == 0 ? null : gw;
        }
        if (c.SeccompProfile is { } seccomp) ct.SeccompProfile = Containers.Runtime.SeccompProfile.Validate(seccomp, cfg.Name);
        if (c.OnBoot is { } onBoot) cfg.OnBoot = onBoot;
        if (c.Description is { } d) cfg.Description = d.Length == 0 ? null : d;
        if (c.Layout is { } layout) ct.Layout = layout;
        if (c.DiskSize is { } disk)
        {
            if (disk < (300L << 20)) throw Invalid("VzInvalidDiskSize", "DiskSize", disk, "An image disk must be at least 300 MiB (XFS's minimum).", "Give a size such as 1GB.");
            ct.DiskSize = disk;
        }
    }

    /// <summary>
    /// The one range rule for memory-like sizes: at least <see cref="MinMemorySize"/> (a smaller limit is a typo such
    /// as a missing MB, not a plan) and at most the host's RAM; 0 too where it means "none" (swap).
    /// </summary>
    private static void CheckMemoryRange(string errorId, string parameter, string what, long value, HostLimits host, bool zeroAllowed)
    {
        if (zeroAllowed && value == 0) return;
        if (value >= MinMemorySize && value <= host.MemoryTotal) return;
        var range = $"{MinMemorySize >> 20} MiB - {host.MemoryTotal >> 20} MiB (the host's RAM)";
        throw Invalid(errorId, parameter, value,
            $"A {what} of {value} bytes is outside {(zeroAllowed ? "0 or " : "")}{range}.",
            zeroAllowed ? "Give 0 (none) or a size such as 512MB, no larger than the host's memory." : "Give a size such as 256MB, no larger than the host's memory.");
    }

    /// <summary>
    /// Settings the config holds that this host cannot enforce, each as a sentence for a warning and the container's
    /// StatusMessage: a stored setting that silently does nothing would mislead.
    /// </summary>
    public static IReadOnlyList<string> Unapplied(VeConfig cfg, bool swapAccounting) =>
        cfg.Memory.SwapSize > 0 && !swapAccounting
            ? [$"SwapSize {cfg.Memory.SwapSize >> 20} MB is stored but not enforced: this host has no swap accounting (boot the kernel with swapaccount=1, or use cgroup v2 with memory.swap.max)."]
            : [];

    /// <summary>The cgroup limits a container's config asks for, with every value set (a start writes them all).</summary>
    public static CgroupLimits ToLimits(VeConfig cfg, int hostCpuCount, double hostMhz = double.NaN)
    {
        var size = cfg.Memory.MemorySize > 0 ? cfg.Memory.MemorySize : DefaultMemorySize;
        // A MHz limit needs the host's frequency; read only then, so the common percent case stays pure.
        if (double.IsNaN(hostMhz)) hostMhz = cfg.Cpu.LimitMhz is > 0 ? Host.CpuInfo.NominalMhz() : 0;
        var quota = CpuLimit.QuotaMicroseconds(cfg.Cpu, hostMhz) ?? 0;
        if (cfg.Cpu.Count is { } count && (quota == 0 || quota > CgroupUnits.QuotaFromPercent(count * 100)))
            quota = CgroupUnits.QuotaFromPercent(count * 100); // CPU count caps the limit
        return new CgroupLimits
        {
            MemorySize = size,
            MemorySwapLimit = size + Math.Max(0, cfg.Memory.SwapSize),
            MemoryLow = Memory.MemoryPlanner.Guarantee(cfg),
            CpuUnits = cfg.Cpu.Units,
            CpuPeriodMicroseconds = CgroupUnits.DefaultCfsPeriod,
            CpuQuotaMicroseconds = quota > 0 ? quota : -1,
            CpuSet = cfg.Cpu.Mask ?? CpuList.Format(Enumerable.Range(0, hostCpuCount)),
            PidsLimit = cfg.Container?.PidsLimit ?? -1,
        };
    }

    private static VzInvalidArgumentException Invalid(string id, string parameter, object? value, string message, string action) =>
        new(id, message, value, parameter) { RecommendedAction = action };
}
