using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Xunit.Abstractions;

namespace Virtuozzo.Engine.Tests.CgroupV2;

/// <summary>
/// The entry point of the test assembly. Under <c>dotnet test</c> the test host loads this assembly as a library and
/// Main never runs. In the cgroup v2 test host (a TCG guest, tools/testguest/init-cgroupv2) Main runs the facts of
/// one category in-process: vstest and its child test host would cost minutes of JIT under TCG, this costs seconds.
/// Usage: <c>dotnet Virtuozzo.Engine.Tests.dll --vz-guest-tests CATEGORY[:NAME-PART] --vz-result FILE.json</c>.
/// Facts only (the v2 tests use no theories or fixtures); a class is made per fact and disposed after it, as xunit does.
/// </summary>
public static class GuestTestRunner
{
    public static async Task<int> Main(string[] args)
    {
        var at = Array.IndexOf(args, "--vz-guest-tests");
        if (at < 0 || at + 1 >= args.Length) return 0;
        // "CATEGORY" or "CATEGORY:TEXT" (only the facts whose Class.Method name contains TEXT: a quick loop over one).
        var category = args[at + 1].Split(':')[0];
        var only = args[at + 1].Contains(':') ? args[at + 1][(args[at + 1].IndexOf(':') + 1)..] : "";
        var resultAt = Array.IndexOf(args, "--vz-result");
        var resultPath = resultAt >= 0 && resultAt + 1 < args.Length ? args[resultAt + 1] : "result.json";

        var results = new List<GuestTestResult>();
        foreach (var method in Discover(typeof(GuestTestRunner).Assembly, category))
        {
            var name = $"{method.DeclaringType!.Name}.{method.Name}";
            if (!name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var fact = method.GetCustomAttribute<FactAttribute>()!;
            if (fact.Skip is { } skip) { results.Add(new(name, "Skipped", 0, skip)); Console.WriteLine($"SKIP {name}: {skip}"); continue; }
            var watch = Stopwatch.StartNew();
            string? error = null;
            try { await RunAsync(method); }
            catch (Exception ex) { error = (ex is TargetInvocationException { InnerException: { } inner } ? inner : ex).ToString(); }
            var outcome = error is null ? "Passed" : "Failed";
            results.Add(new(name, outcome, Math.Round(watch.Elapsed.TotalSeconds, 1), error));
            Console.WriteLine($"{(error is null ? "PASS" : "FAIL")} {name} ({watch.Elapsed.TotalSeconds:0.0} s){(error is null ? "" : ": " + error)}");
        }
        var report = new GuestRunReport(category, results.Count(r => r.Outcome == "Passed"), results.Count(r => r.Outcome == "Failed"),
            results.Count(r => r.Outcome == "Skipped"), results, GuestMeasurements.All);
        File.WriteAllText(resultPath, JsonSerializer.Serialize(report));
        return report.Failed == 0 ? 0 : 1;
    }

    /// <summary>Facts whose class or method carries the trait Category=<paramref name="category"/>, in source order per class.</summary>
    public static IEnumerable<MethodInfo> Discover(Assembly assembly, string category) =>
        assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && t.IsPublic)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance)
                .Where(m => m.GetCustomAttribute<FactAttribute>() is not null)
                .Where(m => HasCategory(m.GetCustomAttributesData(), category) || HasCategory(t.GetCustomAttributesData(), category))
                .OrderBy(m => m.MetadataToken));

    /// <summary>xunit 2's TraitAttribute keeps its name and value only in the attribute data, not in properties.</summary>
    private static bool HasCategory(IEnumerable<CustomAttributeData> attributes, string category) =>
        attributes.Any(a => a.AttributeType == typeof(TraitAttribute) && a.ConstructorArguments.Count == 2 &&
                            (string?)a.ConstructorArguments[0].Value == "Category" && (string?)a.ConstructorArguments[1].Value == category);

    private static async Task RunAsync(MethodInfo method)
    {
        var type = method.DeclaringType!;
        var ctor = type.GetConstructors().OrderBy(c => c.GetParameters().Length).First();
        var ctorArgs = ctor.GetParameters().Select(p => p.ParameterType == typeof(ITestOutputHelper) ? (object)new ConsoleOutput() : throw new NotSupportedException($"{type.Name} takes a {p.ParameterType.Name}")).ToArray();
        var instance = ctor.Invoke(ctorArgs);
        try
        {
            if (instance is IAsyncLifetime life) await life.InitializeAsync();
            if (method.Invoke(instance, null) is Task task) await task;
        }
        finally
        {
            if (instance is IAsyncLifetime life) await life.DisposeAsync();
            if (instance is IDisposable d) d.Dispose();
        }
    }

    private sealed class ConsoleOutput : ITestOutputHelper
    {
        public void WriteLine(string message) => Console.WriteLine("  " + message);
        public void WriteLine(string format, params object[] args) => Console.WriteLine("  " + format, args);
    }
}

public sealed record GuestTestResult(string Name, string Outcome, double Seconds, string? Message);

public sealed record GuestRunReport(string Category, int Passed, int Failed, int Skipped, IReadOnlyList<GuestTestResult> Tests, IReadOnlyDictionary<string, double> Measurements);

/// <summary>Numbers a guest test measures (the benchmark's); the runner puts them in its report for the host to print.</summary>
public static class GuestMeasurements
{
    private static readonly Dictionary<string, double> Values = [];
    public static IReadOnlyDictionary<string, double> All => Values;
    public static void Record(string key, double value) { lock (Values) Values[key] = value; }
}
