namespace Virtuozzo.Engine.Concurrency;

/// <summary>A mutual-exclusion section for async code: <c>using (await gate.EnterAsync(ct)) { ... }</c>.</summary>
public sealed class AsyncGate
{
    private readonly SemaphoreSlim semaphore = new(1, 1);

    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        await semaphore.WaitAsync(ct);
        return new Exit(semaphore);
    }

    private sealed class Exit(SemaphoreSlim semaphore) : IDisposable
    {
        private int done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0) semaphore.Release();
        }
    }
}
