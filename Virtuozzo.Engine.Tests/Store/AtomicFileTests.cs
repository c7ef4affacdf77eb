using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Store;

public sealed class AtomicFileTests
{
    [Fact]
    public void Writes_replace_content_and_leave_no_temp_files()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("f.yaml");
        AtomicFile.WriteAllText(path, "one");
        AtomicFile.WriteAllText(path, "two");
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(temp.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}
