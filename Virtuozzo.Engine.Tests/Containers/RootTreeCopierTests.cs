using System.Diagnostics;
using Virtuozzo.Engine.Containers;

namespace Virtuozzo.Engine.Tests.Containers;

/// <summary>The template copy keeps what cp -a kept and gives every entry its owner in the container's id range.</summary>
public sealed class RootTreeCopierTests
{
    private static string Find(string root, string format) => Run("find", root, "-printf", format);

    private static string Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CopiesLinksModesTimesAndNodesWithShiftedOwners()
    {
        if (Environment.UserName != "root") return; // chown to another range needs root, as container creation does
        using var tmp = new TempDirectory();
        var src = tmp.Combine("src");
        Directory.CreateDirectory(tmp.Combine("src", "bin"));
        Directory.CreateDirectory(tmp.Combine("src", "tmp"));
        File.WriteAllText(tmp.Combine("src", "bin", "tool"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(tmp.Combine("src", "bin", "tool"), (UnixFileMode)0b100_111_101_101); // 4755: setuid survives the chown
        File.SetUnixFileMode(tmp.Combine("src", "tmp"), (UnixFileMode)0b1_111_111_111);              // 1777
        File.CreateSymbolicLink(tmp.Combine("src", "bin", "sh"), "/bin/busybox");                    // dangling on the host: copied as a link
        Run("ln", tmp.Combine("src", "bin", "tool"), tmp.Combine("src", "bin", "tool2"));            // a hard link
        Run("mkfifo", tmp.Combine("src", "tmp", "fifo"));
        Run("chown", "-h", "5:7", tmp.Combine("src", "bin", "sh"));                                   // ids inside the range keep their offset
        Run("chown", "70000:0", tmp.Combine("src", "tmp"));                                          // outside it: the range's root
        Run("touch", "-h", "-d", "2001-02-03 04:05:06.123456789", tmp.Combine("src", "bin", "sh"));

        var count = RootTreeCopier.Copy(src, tmp.Combine("dst"), 0, 200000, 65536);

        Assert.Equal(7, count);
        var dst = tmp.Combine("dst");
        // Same tree: types, modes, sizes, ns times, link targets and link counts.
        Assert.Equal(Find(src, "%M %s %T@ %n %l %P\\n"), Find(dst, "%M %s %T@ %n %l %P\\n"));
        Assert.Equal(Find(tmp.Combine("src", "bin"), "%i %P\\n").Split('\n').Select(l => l.Split(' ')[0]).Distinct().Count(),
            Find(tmp.Combine("dst", "bin"), "%i %P\\n").Split('\n').Select(l => l.Split(' ')[0]).Distinct().Count());
        Assert.Contains("200005 200007 bin/sh", Find(dst, "%U %G %P\\n"));
        Assert.Contains("200000 200000 tmp", Find(dst, "%U %G %P\\n"));
        Assert.Contains("200000 200000 bin/tool", Find(dst, "%U %G %P\\n"));
        Assert.Equal("200000 200000 ", Find(dst, "%U %G %P\\n").Split('\n').First(l => l.EndsWith(' ')));
    }

    [Fact]
    public void FillsAnExistingEmptyFolder()
    {
        if (Environment.UserName != "root") return;
        using var tmp = new TempDirectory();
        Directory.CreateDirectory(tmp.Combine("src", "etc"));
        File.WriteAllText(tmp.Combine("src", "etc", "hostname"), "x\n");
        Directory.CreateDirectory(tmp.Combine("mnt"));
        RootTreeCopier.Copy(tmp.Combine("src"), tmp.Combine("mnt"), 0, 300000, 65536);
        Assert.Equal("x\n", File.ReadAllText(tmp.Combine("mnt", "etc", "hostname")));
    }

    [Fact]
    public void RefusesASourceThatIsNotAFolder()
    {
        using var tmp = new TempDirectory();
        Assert.Throws<DirectoryNotFoundException>(() => RootTreeCopier.Copy(tmp.Combine("missing"), tmp.Combine("dst"), 0, 300000, 65536));
        Assert.False(Directory.Exists(tmp.Combine("dst")));
    }
}
