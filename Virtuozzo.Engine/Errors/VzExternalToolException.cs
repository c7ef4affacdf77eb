namespace Virtuozzo.Engine.Errors;

/// <summary>A program the engine ran (crun, qemu-img, ip...) failed. Carries its exit code and stderr.</summary>
public sealed class VzExternalToolException : VzException
{
    public VzExternalToolException(string tool, IReadOnlyList<string> arguments, int exitCode, string standardError, object? target)
        : base("VzExternalToolFailed", Describe(tool, exitCode, standardError), target)
    {
        Tool = tool;
        Arguments = arguments;
        ExitCode = exitCode;
        StandardError = standardError;
    }

    public string Tool { get; }
    public IReadOnlyList<string> Arguments { get; }
    public int ExitCode { get; }
    public string StandardError { get; }

    private static string Describe(string tool, int exitCode, string stderr)
    {
        var text = stderr.Trim();
        if (text.Length > 2000) text = text[..2000] + "...";
        return text.Length == 0
            ? $"'{tool}' failed with exit code {exitCode} and printed no error."
            : $"'{tool}' failed with exit code {exitCode}: {text}";
    }
}
