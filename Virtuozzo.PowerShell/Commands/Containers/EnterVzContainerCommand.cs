using System.Management.Automation;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Opens an interactive shell inside a running container on this terminal (prlctl enter).</para>
/// </summary>
[Cmdlet(VerbsCommon.Enter, "VzContainer", DefaultParameterSetName = "Name")]
[OutputType(typeof(void))]
public sealed class EnterVzContainerCommand : ContainerCmdlet
{
    /// <summary>The shell to run inside.</summary>
    [Parameter][ValidateNotNullOrEmpty] public string Shell { get; set; } = "/bin/sh";

    protected override void ProcessContainer(VeRecord record)
    {
        var tty = !Console.IsInputRedirected && !Console.IsOutputRedirected;
        if (!tty) WriteWarning("No terminal is attached; the shell runs without a tty.");
        var engine = Engine;
        var code = Run(ct => engine.Containers.EnterAsync(record.Id, Shell, tty, ct));
        SessionState.PSVariable.Set("global:LASTEXITCODE", code);
    }
}
