using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Engine.Tests.SharedFolders;

/// <summary>What a share may be called and point at, on real folders, files and links in a temp directory.</summary>
public sealed class SharedFolderRulesTests
{
    [Theory]
    [InlineData("data")]
    [InlineData("build-cache_2")]
    [InlineData("0")]
    [InlineData("abcdefghijklmnopqrstuvwxyz01234")] // 31: the 9p mount tag limit
    public void Accepts_names_that_make_mount_tags(string name) => SharedFolderRules.ValidateName(name, "ve");

    [Theory]
    [InlineData("")]
    [InlineData("a;b")]
    [InlineData("a b")]
    [InlineData("../x")]
    [InlineData("a.b")]
    [InlineData("-lead")]
    [InlineData("$(id)")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")] // 32
    public void Refuses_other_names(string name) =>
        Assert.Equal("VzSharedFolderNameInvalid", Assert.Throws<VzInvalidArgumentException>(() => SharedFolderRules.ValidateName(name, "ve")).ErrorId);

    [Fact]
    public void Takes_an_existing_folder_and_returns_it_canonical()
    {
        using var dir = new TempDirectory();
        var share = Directory.CreateDirectory(dir.Combine("share")).FullName;
        Assert.Equal(share, SharedFolderRules.ValidateHostPath(share + "/", dir.Combine("data"), "ve"));
        Assert.Equal(share, SharedFolderRules.ValidateHostPath(share.Replace("/share", "//share"), dir.Combine("data"), "ve"));
    }

    [Fact]
    public void Refuses_missing_paths_files_devices_dotdot_symlinks_and_reserved_trees()
    {
        using var dir = new TempDirectory();
        var data = Directory.CreateDirectory(dir.Combine("data")).FullName;
        var share = Directory.CreateDirectory(dir.Combine("share")).FullName;
        File.WriteAllText(dir.Combine("file"), "x");
        Directory.CreateSymbolicLink(dir.Combine("link"), share);
        string Id(string p) => Assert.ThrowsAny<VzException>(() => SharedFolderRules.ValidateHostPath(p, data, "ve")).ErrorId;
        Assert.Equal("VzSharedFolderPathNotFound", Id(dir.Combine("nope")));
        Assert.Equal("VzSharedFolderPathNotDirectory", Id(dir.Combine("file")));
        Assert.Equal("VzSharedFolderPathNotDirectory", Id("/dev/null"));
        Assert.Equal("VzSharedFolderPathTraversal", Id(share + "/../share"));
        Assert.Equal("VzSharedFolderPathTraversal", Id(share + "/./"));
        Assert.Equal("VzSharedFolderPathSymlink", Id(dir.Combine("link")));
        Assert.Equal("VzSharedFolderPathNotAbsolute", Id("share"));
        Assert.Equal("VzSharedFolderPathReserved", Id("/"));
        Assert.Equal("VzSharedFolderPathReserved", Id("/proc"));
        Assert.Equal("VzSharedFolderPathReserved", Id("/sys/kernel"));
        Assert.Equal("VzSharedFolderPathReserved", Id(data));
        Assert.Equal("VzSharedFolderPathReserved", Id(dir.Path)); // above the data root: it would expose it
        Assert.IsType<VzNotFoundException>(Assert.ThrowsAny<VzException>(() => SharedFolderRules.ValidateHostPath(dir.Combine("nope"), data, "ve")));
    }

    [Theory]
    [InlineData("/mnt/data", "/mnt/data")]
    [InlineData("/srv//shared/", "/srv/shared")]
    [InlineData("/run/x", "/run/x")]
    public void Takes_absolute_guest_paths(string given, string expected) => Assert.Equal(expected, SharedFolderRules.ValidateGuestPath(given, "ct"));

    [Theory]
    [InlineData("mnt/data")]
    [InlineData("/mnt/../etc")]
    [InlineData("/")]
    [InlineData("/proc/x")]
    [InlineData("/sys")]
    [InlineData("/dev/shm")]
    public void Refuses_relative_dotdot_and_runtime_guest_paths(string given) =>
        Assert.Equal("VzSharedFolderGuestPathInvalid", Assert.Throws<VzInvalidArgumentException>(() => SharedFolderRules.ValidateGuestPath(given, "ct")).ErrorId);

    [Fact]
    public void A_folder_replaced_by_a_link_after_it_was_added_is_refused_at_start()
    {
        using var dir = new TempDirectory();
        var data = Directory.CreateDirectory(dir.Combine("data")).FullName;
        var share = Directory.CreateDirectory(dir.Combine("share")).FullName;
        var cfg = new Virtuozzo.Engine.Store.VeConfig { Name = "ct", SharedFolders = [new Virtuozzo.Engine.Store.VeSharedFolder { Name = "s", Path = share }] };
        Assert.Equal(1, SharedFolderRules.RecheckAll(cfg, data));
        Directory.Delete(share);
        Directory.CreateSymbolicLink(share, "/etc");
        Assert.Equal("VzSharedFolderPathSymlink", Assert.ThrowsAny<VzException>(() => { SharedFolderRules.RecheckAll(cfg, data); }).ErrorId);
    }
}
