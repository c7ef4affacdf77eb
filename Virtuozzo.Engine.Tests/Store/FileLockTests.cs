using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Store;

public sealed class FileLockTests
{
    [Fact]
    public void A_held_lock_times_out_a_second_taker_with_a_typed_error()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine(".lock");
        using var held = FileLock.Acquire(path, TimeSpan.FromSeconds(1), "x");
        var ex = Assert.Throws<VzTimeoutException>(() => FileLock.Acquire(path, TimeSpan.FromMilliseconds(200), "x"));
        Assert.Equal("VzLockTimeout", ex.ErrorId);
    }

    [Fact]
    public void A_released_lock_can_be_taken_again()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine(".lock");
        FileLock.Acquire(path, TimeSpan.FromSeconds(1), "x").Dispose();
        using var again = FileLock.Acquire(path, TimeSpan.FromMilliseconds(200), "x");
        Assert.Equal(path, again.Path);
    }
}
