using Virtuozzo.Commands.Completion;
using System.Management.Automation;
using Virtuozzo.Engine.Containers.Templates;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists the cached OS templates containers are created from.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzTemplate")]
[OutputType(typeof(TemplateInfo))]
public sealed class GetVzTemplateCommand : Infrastructure.VzCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TemplateNameCompleter))]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            var all = Engine.Containers.Templates.List();
            if (Name is null || Name.Length == 0) { WriteObject(all, enumerateCollection: true); return; }
            foreach (var n in Name)
            {
                var pattern = WildcardPattern.Get(n, WildcardOptions.IgnoreCase);
                var hits = all.Where(t => pattern.IsMatch(t.Name)).ToList();
                if (hits.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(n))
                    WriteVzError(new Engine.Errors.VzNotFoundException("VzTemplateNotFound", $"No template named '{n}' exists on this host.", n)
                    { RecommendedAction = "Run Get-VzTemplate to list templates, or New-VzTemplate to build one." }, n);
                WriteObject(hits, enumerateCollection: true);
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, Name); }
    }
}
