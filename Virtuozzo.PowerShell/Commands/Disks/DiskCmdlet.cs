using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Commands;

/// <summary>
/// Base of the disk cmdlets that act on existing images: -Path (wildcards; binds FileInfo and DiskInfo objects from
/// the pipeline through PSPath/FullName/Path) or -InputObject (a DiskInfo from Get-VzDisk).
/// </summary>
public abstract class DiskCmdlet : VzCmdlet
{
    protected const string PathSet = "Path";
    protected const string InputObjectSet = "InputObject";

    /// <summary>Disk image files; wildcards are expanded.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("PSPath", "FullName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>A disk from Get-VzDisk.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public DiskInfo[] InputObject { get; set; } = [];

    /// <summary>The files this record names: one per existing match; a missing literal path is a VzDiskNotFound error.</summary>
    protected IEnumerable<string> ResolveDisks()
    {
        if (ParameterSetName == InputObjectSet)
        {
            foreach (var d in InputObject) yield return d.Path;
            yield break;
        }
        foreach (var p in Path)
            foreach (var f in ResolveExisting(p)) yield return f;
    }

    /// <summary>Resolves one -Path value to existing files, writing an error for what does not exist.</summary>
    protected IReadOnlyList<string> ResolveExisting(string path)
    {
        var wildcard = WildcardPattern.ContainsWildcardCharacters(path);
        try
        {
            var files = SessionState.Path.GetResolvedProviderPathFromPSPath(path, out var provider);
            if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
            {
                WriteVzError(new VzInvalidArgumentException("VzDiskNotAFile", $"'{path}' is not a file-system path.", path, "Path"), path);
                return [];
            }
            var result = new List<string>();
            // A literal path goes to the engine whatever it is, so the disk path gate names it ("a folder", "a FIFO");
            // a wildcard only picks files, not the folders it happens to match.
            foreach (var f in files)
                if (!wildcard || File.Exists(f)) result.Add(f);
            if (result.Count == 0 && files.Count == 0 && !wildcard) WriteVzError(NotFound(path), path);
            return result;
        }
        catch (ItemNotFoundException)
        {
            if (!wildcard) WriteVzError(NotFound(path), path);
            return [];
        }
        catch (System.Management.Automation.DriveNotFoundException)
        {
            WriteVzError(NotFound(path), path);
            return [];
        }
    }

    private static VzNotFoundException NotFound(string path) =>
        new("VzDiskNotFound", $"The disk image '{path}' does not exist.", path) { RecommendedAction = "Check the path; wildcards are allowed." };
}
