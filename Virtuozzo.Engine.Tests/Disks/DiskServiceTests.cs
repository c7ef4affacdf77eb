using Virtuozzo.Engine.Disks.Compact;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Tests.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

/// <summary>The qemu-img driven operations (compact, convert) and the disk service's bookkeeping.</summary>
public sealed class DiskServiceTests
{
    [Theory]
    [InlineData("    (45.12/100%)", 45.12)]
    [InlineData("(100.00/100%)", 100.0)]
    [InlineData("    (0.00/100%)\r", 0.0)]
    [InlineData("qemu-img: error", null)]
    public void ProgressLinesAreParsed(string line, double? expected) => Assert.Equal(expected, QemuImgDriver.ParseProgress(line));

    private sealed class Recorder : IProgress<VzProgress>
    {
        public List<VzProgress> Reports { get; } = [];
        public void Report(VzProgress value) { lock (Reports) Reports.Add(value); }
    }

    private sealed class CancelOnReport(CancellationTokenSource cts) : IProgress<VzProgress>
    {
        public void Report(VzProgress value) => cts.Cancel();
    }

    [Fact]
    public async Task OptimizeReclaimsDiscardedSpaceKeepsContentSettingsAndBacking()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var baseImage = dir.File("base.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", baseImage, "64M");
        QemuTools.Io(baseImage, "qcow2", "write -P 7 0 4M");
        var image = dir.File("top.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096,lazy_refcounts=on,refcount_bits=8", "-b", "base.qcow2", "-F", "qcow2", image);
        QemuTools.Io(image, "qcow2", "write -P 1 8M 16M", "write -P 2 40M 1M", "discard 8M 16M");
        var reference = dir.File("reference.raw");
        QemuTools.Img("convert", "-O", "raw", image, reference);
        var before = new FileInfo(image).Length;

        var progress = new Recorder();
        var result = await service.OptimizeAsync(image, progress);
        var after = result.Disk;
        Assert.Equal(DiskCompactMode.Offline, result.Mode);
        Assert.Contains("disk: no known file system", result.Skipped);
        Assert.True(after.FileSize < before / 4, $"{after.FileSize} vs {before}");
        Assert.Equal("base.qcow2", after.BackingFile);
        Assert.Equal(4096, after.ClusterSize);
        Assert.Equal(8, after.RefcountBits);
        Assert.True(after.LazyRefcounts);
        QemuTools.AssertClean(image);
        QemuTools.AssertSameContent(reference, image);
        Assert.Contains(progress.Reports, r => r.Completed);
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".vz-tmp"));
    }

    [Fact]
    public async Task ConvertToRawAndBackInPlaceOrToADestination()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("disk.img");
        service.Create(new DiskCreateOptions { Path = image, Size = 32L << 20 });
        QemuTools.Io(image, "qcow2", "write -P 3 1M 1M");
        var copy = dir.File("copy.qcow2");
        File.Copy(image, copy);

        var raw = await service.ConvertAsync(image, DiskFormat.Raw, null, null);
        Assert.Equal("raw", raw.Format);
        Assert.Equal(32L << 20, raw.VirtualSize);
        QemuTools.AssertSameContent(copy, image);

        var back = await service.ConvertAsync(image, DiskFormat.Qcow2, dir.File("again.qcow2"), null);
        Assert.Equal("qcow2", back.Format);
        QemuTools.AssertClean(back.Path);
        QemuTools.AssertSameContent(copy, back.Path);
        Assert.Equal("VzDiskAlreadyExists", (await Assert.ThrowsAsync<VzAlreadyExistsException>(() => service.ConvertAsync(image, DiskFormat.Qcow2, back.Path, null))).ErrorId);
    }

    [Fact]
    public async Task CancelledConvertLeavesTheOriginalAndNoTemporaryFile()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("big.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", image, "2G");
        QemuTools.Io(image, "qcow2", "write -P 9 0 256M");
        var original = File.ReadAllBytes(image).Length;
        // Cancelled at qemu-img's first progress line, while it copies: a timer could fire after a fast copy ended.
        using var cts = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.ConvertAsync(image, DiskFormat.Raw, null, new CancelOnReport(cts), cancellationToken: cts.Token));
        Assert.Equal("qcow2", service.Get(image).Format);
        Assert.Equal(original, new FileInfo(image).Length);
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".vz-tmp"));
    }

    [Fact]
    public async Task ImageHeldByQemuIsNotResizedOffline()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("busy.qcow2");
        service.Create(new DiskCreateOptions { Path = image, Size = 16L << 20 });
        // qemu-io in interactive mode keeps the image open (and locked) until its stdin closes.
        var psi = new System.Diagnostics.ProcessStartInfo("qemu-io") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-f"); psi.ArgumentList.Add("qcow2"); psi.ArgumentList.Add(image);
        using var qemu = System.Diagnostics.Process.Start(psi)!;
        try
        {
            await qemu.StandardInput.WriteLineAsync("read 0 512");
            await qemu.StandardInput.FlushAsync();
            await qemu.StandardOutput.ReadLineAsync(); // it has the image open once it answers
            var ex = await Assert.ThrowsAsync<VzInvalidStateException>(() => service.ResizeAsync(image, 32L << 20));
            Assert.Equal("VzDiskInUse", ex.ErrorId);
            Assert.Equal("VzDiskInUse", Assert.Throws<VzInvalidStateException>(() => service.Test(image, false)).ErrorId);
            Assert.Equal("VzDiskInUse", (await Assert.ThrowsAsync<VzInvalidStateException>(() => service.OptimizeAsync(image, null))).ErrorId);
            Assert.Equal(16L << 20, service.Get(image).VirtualSize); // describing needs no lock
        }
        finally
        {
            qemu.StandardInput.Close();
            if (!qemu.WaitForExit(10_000)) qemu.Kill();
        }
        Assert.Equal(16L << 20, service.Get(image).VirtualSize);
    }

    [Fact]
    public void DiskInAVeFolderNamesItsVe()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var paths = new Configuration.VzPaths(dir.Path, Path.Combine(dir.Path, "run"), "vztest");
        var store = new Virtuozzo.Engine.Store.VeStore(paths, Microsoft.Extensions.Logging.Abstractions.NullLogger<Virtuozzo.Engine.Store.VeStore>.Instance);
        var record = store.BeginCreate(new Virtuozzo.Engine.Store.VeConfig { Name = "web01", Type = Virtuozzo.Engine.Store.VeType.VirtualMachine, Vm = new() });
        store.CompleteCreation(record.Id);
        var disk = Path.Combine(paths.VeDirectory(record.Id), "root.qcow2");
        var info = service.Create(new DiskCreateOptions { Path = disk, Size = 1 << 20 });
        Assert.Equal("web01", info.VeName);
        Assert.Equal(record.Id, info.VeId);
        var loose = service.Create(new DiskCreateOptions { Path = dir.File("loose.qcow2"), Size = 1 << 20 });
        Assert.Null(loose.VeName);
    }

    [Fact]
    public async Task DriverCommitsAndRebasesWithProgress()
    {
        using var dir = new TempDir();
        var driver = new QemuImgDriver(new Virtuozzo.Engine.Processes.ProcessRunner(Microsoft.Extensions.Logging.Abstractions.NullLogger<Virtuozzo.Engine.Processes.ProcessRunner>.Instance));
        var baseImage = dir.File("base.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", baseImage, "64M");
        QemuTools.Io(baseImage, "qcow2", "write -P 1 0 8M");
        var top = dir.File("top.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-b", baseImage, "-F", "qcow2", top);
        QemuTools.Io(top, "qcow2", "write -P 2 1M 1M");

        // Rebase onto a copy of the base: same content, other file.
        var copy = dir.File("copy.qcow2");
        File.Copy(baseImage, copy);
        var progress = new Recorder();
        await driver.RebaseAsync(top, copy, "qcow2", progress, default);
        Assert.Equal(copy, QemuTools.Info(top).GetProperty("backing-filename").GetString());
        Assert.Contains(progress.Reports, r => r.Completed);

        // Commit writes the overlay's data down into (the new) base.
        var expected = dir.File("expected.raw");
        QemuTools.Img("convert", "-O", "raw", top, expected);
        await driver.CommitAsync(top, progress, default);
        QemuTools.AssertSameContent(expected, copy);
        QemuTools.AssertClean(copy);
    }
}
