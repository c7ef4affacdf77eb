using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Commands;

/// <summary>Base of the *-VzHostService cmdlets: finds the service laid out beside the module.</summary>
public abstract class HostServiceCmdlet : VzCmdlet
{
    protected static HostServiceLauncher Launcher() =>
        HostServiceControl.FindLauncher(Path.GetDirectoryName(typeof(HostServiceCmdlet).Assembly.Location)!);
}
