using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;

namespace Virtuozzo.Engine.Tests.Ksm;

public sealed class KsmControlTests
{
    private static TempDirectory Fixture()
    {
        var t = new TempDirectory();
        foreach (var (name, value) in new[] { ("run", "0"), ("pages_to_scan", "100"), ("sleep_millisecs", "20"), ("merge_across_nodes", "1"),
                     ("pages_shared", "10"), ("pages_sharing", "250"), ("pages_unshared", "5"), ("pages_volatile", "1"), ("full_scans", "7") })
            File.WriteAllText(t.Combine(name), value + "\n");
        return t;
    }

    [Fact]
    public void Reads_the_sysfs_files_and_computes_the_saving()
    {
        using var t = Fixture();
        var s = new KsmControl(t.Path).Read();
        Assert.True(s.Available);
        Assert.Equal(KsmRunMode.Stopped, s.Run);
        Assert.Equal(100, s.PagesToScan);
        Assert.Equal(250L * Environment.SystemPageSize, s.SavedBytes);
        Assert.True(s.MergeAcrossNodes);
        Assert.Null(s.GeneralProfitBytes);
    }

    [Fact]
    public void The_advisor_is_set_to_scan_time_with_its_cpu_cap_and_a_kernel_without_it_is_left_alone()
    {
        using var t = Fixture();
        var control = new KsmControl(t.Path);
        Assert.False(control.HasAdvisor);
        control.EnableAdvisor(15); // no advisor files: nothing written
        Assert.False(File.Exists(t.Combine("advisor_max_cpu")));
        File.WriteAllText(t.Combine("advisor_mode"), "[none] scan-time\n");
        File.WriteAllText(t.Combine("advisor_max_cpu"), "70\n");
        Assert.Throws<VzInvalidArgumentException>(() => control.EnableAdvisor(0));
        Assert.Equal("70\n", File.ReadAllText(t.Combine("advisor_max_cpu")));
        control.EnableAdvisor(15);
        Assert.Equal("scan-time", File.ReadAllText(t.Combine("advisor_mode")));
        Assert.Equal("15", File.ReadAllText(t.Combine("advisor_max_cpu")));
    }

    [Fact]
    public void Applies_only_what_is_given_and_refuses_bad_values_before_writing()
    {
        using var t = Fixture();
        var control = new KsmControl(t.Path);
        control.Apply(new KsmSettings { Run = KsmRunMode.Running, PagesToScan = 300 });
        Assert.Equal("1", File.ReadAllText(t.Combine("run")));
        Assert.Equal("300", File.ReadAllText(t.Combine("pages_to_scan")));
        Assert.Equal("20\n", File.ReadAllText(t.Combine("sleep_millisecs")));
        Assert.Throws<VzInvalidArgumentException>(() => control.Apply(new KsmSettings { Run = KsmRunMode.Stopped, PagesToScan = 0 }));
        Assert.Equal("1", File.ReadAllText(t.Combine("run")));
    }

    [Fact]
    public void A_host_without_ksm_reads_as_unavailable_and_refuses_changes()
    {
        using var t = new TempDirectory();
        var control = new KsmControl(t.Path);
        Assert.False(control.Read().Available);
        Assert.Throws<VzCapabilityMissingException>(() => control.Apply(new KsmSettings { Run = KsmRunMode.Running }));
    }
}
