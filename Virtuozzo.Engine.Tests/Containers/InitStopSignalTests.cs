using Virtuozzo.Engine.Containers.Templates;

namespace Virtuozzo.Engine.Tests.Containers;

public sealed class InitStopSignalTests
{
    private static string Tree(TempDirectory tmp, string? inittab, (string Link, string Target)? init = null)
    {
        var root = tmp.Combine("root");
        Directory.CreateDirectory(Path.Combine(root, "sbin"));
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        Directory.CreateDirectory(Path.Combine(root, "lib", "systemd"));
        if (init is { } link) File.CreateSymbolicLink(Path.Combine(root, link.Link.TrimStart('/')), link.Target);
        else File.WriteAllText(Path.Combine(root, "sbin", "init"), "ELF");
        if (inittab is not null) File.WriteAllText(Path.Combine(root, "etc", "inittab"), inittab);
        return root;
    }

    [Fact]
    public void BusyboxInitPowersOffOnUsr2()
    {
        using var tmp = new TempDirectory();
        var root = Tree(tmp, "::sysinit:/etc/init.d/rcS\n", ("/sbin/init", "/bin/busybox"));
        File.WriteAllText(Path.Combine(root, "bin", "busybox"), "ELF");
        Assert.Equal("SIGUSR2", InitStopSignal.Detect(root));
    }

    [Fact]
    public void SystemdHaltsOnRtmin3()
    {
        using var tmp = new TempDirectory();
        var root = Tree(tmp, null, ("/sbin/init", "../lib/systemd/systemd"));
        File.WriteAllText(Path.Combine(root, "lib", "systemd", "systemd"), "ELF");
        Assert.Equal("SIGRTMIN+3", InitStopSignal.Detect(root));
    }

    [Fact]
    public void SysvinitWithTheDebianTemplatesCtrlAltDelHaltsOnInt()
    {
        using var tmp = new TempDirectory();
        var root = Tree(tmp, "id:2:initdefault:\nca:12345:ctrlaltdel:/sbin/shutdown -h now\npf::powerwait:/etc/init.d/powerfail start\n");
        Assert.Equal("SIGINT", InitStopSignal.Detect(root));
    }

    [Fact]
    public void SysvinitWithAPowerFailHaltUsesPwr()
    {
        using var tmp = new TempDirectory();
        var root = Tree(tmp, "ca:12345:ctrlaltdel:/sbin/shutdown -t1 -a -r now\np0::powerfail:/sbin/init 0\n");
        Assert.Equal("SIGPWR", InitStopSignal.Detect(root));
    }

    [Fact]
    public void AnUnknownInitGetsTerm()
    {
        using var tmp = new TempDirectory();
        var root = Tree(tmp, "# commented:x:ctrlaltdel:/sbin/halt\nca:12345:ctrlaltdel:/sbin/shutdown -r now\n");
        Assert.Equal("SIGTERM", InitStopSignal.Detect(root));
    }
}
