using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Tests.Host;

public sealed class AcceleratorTrialTests
{
    [Fact]
    public void The_trial_boot_sector_is_bootable_and_writes_the_exit_port()
    {
        var sector = AcceleratorTrial.BootSector();
        Assert.Equal(512, sector.Length);
        Assert.Equal(0x55, sector[510]);
        Assert.Equal(0xAA, sector[511]);
        Assert.Equal([0xB0, 0x31, 0xE6, 0xF4], sector[..4]);
    }
}
