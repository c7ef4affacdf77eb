using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine;
using Virtuozzo.Engine.Migration;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Commands;

/// <summary>How the cmdlets reach the migration service: with the destination's agent command filled in.</summary>
internal static class MigrationCmdlets
{
    /// <summary>The engine's migration service, told how to run the destination's agent (the host service laid out beside the module).</summary>
    public static MigrationService Service(VzEngine engine)
    {
        var service = engine.Migration;
        if (service.AgentCommand.Count == 0)
        {
            var launcher = HostServiceControl.FindLauncher(Path.GetDirectoryName(typeof(MigrationCmdlets).Assembly.Location)!);
            service.AgentCommand = [launcher.Program, .. launcher.Arguments];
        }
        return service;
    }
}
