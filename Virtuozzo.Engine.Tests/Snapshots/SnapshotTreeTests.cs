using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Snapshots;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Snapshots;

/// <summary>The snapshot tree kept in ve.yaml: parents, the current position, and what a removal does to both.</summary>
public sealed class SnapshotTreeTests
{
    private static VeConfig Vm() => new() { Id = Guid.NewGuid(), Name = "vm1", Type = VeType.VirtualMachine, Vm = new VmSettings() };

    private static VeSnapshot Take(VeConfig c, string name)
    {
        var s = new VeSnapshot { Id = Guid.NewGuid(), Name = name, CreatedAt = DateTimeOffset.UtcNow };
        SnapshotTree.Add(c, s);
        return s;
    }

    [Fact]
    public void A_new_snapshot_is_a_child_of_the_current_one_and_becomes_current()
    {
        var c = Vm();
        var a = Take(c, "a");
        var b = Take(c, "b");
        Assert.Null(a.ParentId);
        Assert.Equal(a.Id, b.ParentId);
        Assert.Equal(b.Id, c.CurrentSnapshotId);
        Assert.Equal("a", SnapshotTree.ParentName(c, b));
    }

    [Fact]
    public void Restoring_an_older_snapshot_starts_a_branch_under_it()
    {
        var c = Vm();
        var a = Take(c, "a");
        Take(c, "b");
        SnapshotTree.MarkRestored(c, a.Id);
        var x = Take(c, "x");
        Assert.Equal(a.Id, x.ParentId);
        Assert.Equal(2, SnapshotTree.All(c).Count(s => s.ParentId == a.Id));
    }

    [Fact]
    public void Removing_a_middle_snapshot_gives_its_children_its_parent()
    {
        var c = Vm();
        var a = Take(c, "a");
        var b = Take(c, "b");
        var d = Take(c, "d");
        SnapshotTree.Remove(c, b.Id);
        Assert.Equal(a.Id, d.ParentId);
        Assert.Equal(d.Id, c.CurrentSnapshotId);
        Assert.Equal(["a", "d"], SnapshotTree.All(c).Select(s => s.Name));
    }

    [Fact]
    public void Removing_the_current_snapshot_moves_the_VE_to_its_parent_and_the_last_one_clears_the_tree()
    {
        var c = Vm();
        var a = Take(c, "a");
        var b = Take(c, "b");
        SnapshotTree.Remove(c, b.Id);
        Assert.Equal(a.Id, c.CurrentSnapshotId);
        SnapshotTree.Remove(c, a.Id);
        Assert.Null(c.CurrentSnapshotId);
        Assert.Null(c.Snapshots); // no empty list written to ve.yaml
    }

    [Fact]
    public void A_taken_name_is_refused_and_an_unknown_one_is_not_found()
    {
        var c = Vm();
        Take(c, "a");
        Assert.Equal("VzSnapshotExists", Assert.Throws<VzAlreadyExistsException>(() => Take(c, "a")).ErrorId);
        Assert.Equal("VzSnapshotNotFound", Assert.Throws<VzNotFoundException>(() => SnapshotTree.Find(c, "nope")).ErrorId);
        Assert.Equal("a", SnapshotTree.Find(c, "a").Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("12")] // qemu-img would read it as a snapshot id
    [InlineData("a/b")]
    [InlineData("tab\there")]
    public void Names_qemu_img_would_misread_are_refused(string name)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => SnapshotTree.ValidateName(name, "vm1"));
        Assert.Equal("VzInvalidSnapshotName", ex.ErrorId);
    }

    [Fact]
    public void The_tree_round_trips_through_ve_yaml()
    {
        using var temp = new TempDirectory();
        var c = Vm();
        var a = Take(c, "a");
        a.Consistency = VeSnapshotConsistency.Application;
        a.FrozenMilliseconds = 42;
        a.Disks = ["disk0", "disk1"];
        Take(c, "b");
        var path = temp.Combine("ve.yaml");
        VeConfigFile.Write(path, c);
        var back = VeConfigFile.Read(path);
        Assert.Equal(c.CurrentSnapshotId, back.CurrentSnapshotId);
        Assert.Equal(["a", "b"], SnapshotTree.All(back).Select(s => s.Name));
        Assert.Equal(a.Id, SnapshotTree.Find(back, "b").ParentId);
        Assert.Equal(VeSnapshotConsistency.Application, SnapshotTree.Find(back, "a").Consistency);
        Assert.Equal(["disk0", "disk1"], SnapshotTree.Find(back, "a").Disks);
    }
}
