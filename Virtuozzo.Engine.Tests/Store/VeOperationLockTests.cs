using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Store;

/// <summary>One long operation (snapshot, backup, restore, migration) per VE: the second fails fast or waits, and says who holds it.</summary>
public sealed class VeOperationLockTests
{
    private static (VzPaths Paths, Guid Id) Ve(TempDirectory temp)
    {
        var paths = new VzPaths(temp.Combine("root"), temp.Combine("run"), "vz");
        var id = Guid.NewGuid();
        Directory.CreateDirectory(paths.VeDirectory(id));
        return (paths, id);
    }

    [Fact]
    public void A_second_operation_fails_fast_naming_the_first()
    {
        using var temp = new TempDirectory();
        var (paths, id) = Ve(temp);
        using var backup = VeOperationLock.Acquire(paths, id, "vm1", "backup", TimeSpan.Zero);
        var ex = Assert.Throws<VzUnavailableException>(() => VeOperationLock.Acquire(paths, id, "vm1", "migration", TimeSpan.Zero));
        Assert.Equal("VzVeOperationInProgress", ex.ErrorId);
        Assert.Contains("backup (pid", ex.Message);
        Assert.Equal("vm1", ex.Target);
    }

    [Fact]
    public async Task A_waiting_operation_gets_the_lock_when_the_first_ends()
    {
        using var temp = new TempDirectory();
        var (paths, id) = Ve(temp);
        var first = VeOperationLock.Acquire(paths, id, "vm1", "snapshot", TimeSpan.Zero);
        var second = Task.Run(() => VeOperationLock.Acquire(paths, id, "vm1", "backup", TimeSpan.FromSeconds(20)));
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        first.Dispose();
        using var got = await second;
        Assert.Equal("backup", got.Operation);
    }

    [Fact]
    public void Operations_on_different_VEs_do_not_wait_for_each_other()
    {
        using var temp = new TempDirectory();
        var (paths, id) = Ve(temp);
        var other = Guid.NewGuid();
        Directory.CreateDirectory(paths.VeDirectory(other));
        using var a = VeOperationLock.Acquire(paths, id, "vm1", "backup", TimeSpan.Zero);
        using var b = VeOperationLock.Acquire(paths, other, "vm2", "backup", TimeSpan.Zero);
        Assert.Equal("backup", b.Operation);
    }

    [Fact]
    public void A_VE_that_does_not_exist_is_not_found()
    {
        using var temp = new TempDirectory();
        var (paths, _) = Ve(temp);
        Assert.Equal("VzVeNotFound", Assert.Throws<VzNotFoundException>(() => VeOperationLock.Acquire(paths, Guid.NewGuid(), "x", "backup", TimeSpan.Zero)).ErrorId);
    }
}
