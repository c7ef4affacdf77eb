namespace Virtuozzo.Engine.Service;

/// <summary>
/// How to run the service executable: the program and the arguments before the service's own
/// (<c>dotnet /path/Virtuozzo.HostService.dll</c>). The cmdlets know where the module is laid out; the engine does not.
/// </summary>
public sealed record HostServiceLauncher(string Program, IReadOnlyList<string> Arguments);
