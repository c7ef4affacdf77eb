using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Processes;

/// <summary>
/// The one way the engine runs programs: an argument list (never a shell string), a timeout, cancellation,
/// captured output, and a typed error when it fails. A timed-out or cancelled program is killed with its children.
/// </summary>
public sealed class ProcessRunner(ILogger<ProcessRunner> logger)
{
    public async Task<ProcessResult> RunAsync(string tool, IEnumerable<string> arguments, ProcessRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ProcessRunOptions.Default;
        var args = arguments.ToArray();
        var path = ToolLocator.Find(tool) ?? throw new VzCapabilityMissingException("VzToolNotInstalled",
            $"The program '{tool}' is not installed on this host.", options.Target ?? tool, tool)
        { RecommendedAction = "Run './build.ps1 -Task Bootstrap' to install what Virtuozzo needs." };

        logger.LogDebug("run {Tool} {Arguments}", tool, options.RedactArgumentsInLog ? "(redacted)" : string.Join(' ', args.Select(Quote)));
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? "/",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (options.Environment is not null)
            foreach (var (k, v) in options.Environment)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var outDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { outDone.TrySetResult(); return; }
            lock (stdout) stdout.Append(e.Data).Append('\n');
            options.OnStandardOutputLine?.Invoke(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { errDone.TrySetResult(); return; }
            lock (stderr) stderr.Append(e.Data).Append('\n');
            options.OnStandardErrorLine?.Invoke(e.Data);
        };

        // Exited fires when the program is reaped; WaitForExitAsync would also wait for the end of its output, which
        // a background process it leaves behind (a daemon started through 'crun exec') may hold open for hours.
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.Exited += (_, _) => exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            if (options.StandardInput is not null) await process.StandardInput.WriteAsync(options.StandardInput.AsMemory(), cancellationToken);
            process.StandardInput.Close();
        }
        catch (IOException) { /* the program exited without reading its input; its exit code tells the story */ }

        using var timeout = new CancellationTokenSource(options.Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            if (process.HasExited) exited.TrySetResult();
            await exited.Task.WaitAsync(linked.Token);
            // Output pipes can close after exit (a background grandchild may hold them); do not wait forever for them.
            await Task.WhenAny(Task.WhenAll(outDone.Task, errDone.Task), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (cancellationToken.IsCancellationRequested) throw;
            throw new VzTimeoutException("VzToolTimedOut",
                $"'{tool}' did not finish within {options.Timeout.TotalSeconds:0.#} s and was stopped.", options.Target ?? tool, options.Timeout);
        }

        string outText, errText;
        lock (stdout) outText = stdout.ToString();
        lock (stderr) errText = stderr.ToString();
        var result = new ProcessResult(tool, args, process.ExitCode, outText, errText, watch.Elapsed);
        logger.LogTrace("{Tool} exited {ExitCode} after {Elapsed} ms", tool, result.ExitCode, (int)watch.Elapsed.TotalMilliseconds);
        if (options.ThrowOnFailure && !options.SuccessExitCodes.Contains(result.ExitCode))
            throw new VzExternalToolException(tool, options.RedactArgumentsInLog ? [] : args, result.ExitCode, errText.Length > 0 ? errText : outText, options.Target);
        return result;
    }

    /// <summary>
    /// Runs a program on the caller's terminal (stdin, stdout and stderr inherited), for interactive sessions such
    /// as a shell inside a container. Returns its exit code; cancellation kills it.
    /// </summary>
    public async Task<int> RunInteractiveAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var args = arguments.ToArray();
        var path = ToolLocator.Find(tool) ?? throw new VzCapabilityMissingException("VzToolNotInstalled",
            $"The program '{tool}' is not installed on this host.", tool, tool);
        logger.LogDebug("run (interactive) {Tool} {Arguments}", tool, string.Join(' ', args.Select(Quote)));
        var psi = new ProcessStartInfo(path) { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        try { await process.WaitForExitAsync(cancellationToken); }
        catch (OperationCanceledException) { Kill(process); throw; }
        return process.ExitCode;
    }

    private static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); process.WaitForExit(2000); }
        catch (InvalidOperationException) { /* already gone */ }
    }

    private static string Quote(string a) => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=:,@%+".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";
}
