namespace Virtuozzo.Engine.Progress;

/// <summary>
/// One progress report from a long engine operation. The cmdlet layer turns it into Write-Progress;
/// a daemon could log it. <see cref="Percent"/> is null when the total is unknown.
/// </summary>
public sealed record VzProgress(string Activity, string Status, int? Percent = null, bool Completed = false);
