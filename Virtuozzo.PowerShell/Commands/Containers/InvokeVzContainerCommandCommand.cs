using Virtuozzo.Commands.Completion;
using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Runs a program inside running containers and returns its exit code and output (prlctl exec).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "VzContainerCommand", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerCommandResult))]
[OutputType(typeof(string))]
public sealed class InvokeVzContainerCommandCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Name", ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "NameShell", ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = "IdShell", ValueFromPipelineByPropertyName = true)]
    public Guid[] Id { get; set; } = [];

    /// <summary>The program to run (looked up in the container's PATH).</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = "Name")]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = "Id")]
    [ValidateNotNullOrEmpty]
    public string Command { get; set; } = "";

    /// <summary>
    /// Arguments, each passed to the program as it is (no shell in between). A list, not the rest of the command
    /// line: a misspelt parameter is a binding error, never an argument for the program.
    /// </summary>
    [Parameter(Position = 2, ParameterSetName = "Name")]
    [Parameter(Position = 2, ParameterSetName = "Id")]
    public string[] ArgumentList { get; set; } = [];

    /// <summary>A command line for the container's /bin/sh -c.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "NameShell")]
    [Parameter(Mandatory = true, ParameterSetName = "IdShell")]
    [ValidateNotNullOrEmpty]
    public string Shell { get; set; } = "";

    /// <summary>Write output lines as they come (stdout to the pipeline, stderr as warnings) and set $LASTEXITCODE, instead of one result object.</summary>
    [Parameter] public SwitchParameter Stream { get; set; }

    /// <summary>Seconds the command may run before it is stopped.</summary>
    [Parameter][ValidateRange(1, 86400)] public int Timeout { get; set; } = 300;

    /// <summary>Text fed to the command's standard input.</summary>
    [Parameter] public string? InputString { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        var byId = ParameterSetName.StartsWith("Id", StringComparison.Ordinal);
        string[] command = ParameterSetName.EndsWith("Shell", StringComparison.Ordinal) ? ["/bin/sh", "-c", Shell] : [Command, .. ArgumentList];
        foreach (var r in VeSelector.Select(engine.Store, VeType.Container, byId ? null : Name, byId ? Id : null, (e, t) => WriteVzError(e, t)).ToList())
            ForItem(r.DisplayName, () => RunIn(engine, r, command));
    }

    private void RunIn(Engine.VzEngine engine, VeRecord r, string[] command)
    {
        if (!ShouldProcess(r.DisplayName, $"Run '{string.Join(' ', command)}'")) return;
        var result = Run(ct =>
        {
            // Captured here, inside the operation, where the sink of this cmdlet is current.
            var sink = CmdletSink.Current;
            Action<string>? onOut = Stream ? line => sink?.Post(c => c.WriteObject(line)) : null;
            Action<string>? onErr = Stream ? line => sink?.Post(c => c.WriteWarning(line)) : null;
            return engine.Containers.ExecAsync(r.Id, command, TimeSpan.FromSeconds(Timeout), onOut, onErr, InputString, ct);
        });
        if (Stream) SessionState.PSVariable.Set("global:LASTEXITCODE", result.ExitCode);
        else WriteObject(result);
    }
}
