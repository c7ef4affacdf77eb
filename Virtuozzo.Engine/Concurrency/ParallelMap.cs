namespace Virtuozzo.Engine.Concurrency;

/// <summary>
/// Applies a function to every item of a list on a few threads of its own, keeping the list's order, and hands back
/// each item's result or exception. For listings: hundreds of independent small reads (cgroup files, /proc) whose
/// cost is the kernel's open/read/close, so they overlap well; and on a loaded host each thread also waits for a
/// CPU on its own, so a listing is not queued behind every other task one read at a time. Own threads, not the thread
/// pool, whose few idle workers would make the width depend on whatever else the process runs.
/// </summary>
public static class ParallelMap
{
    /// <summary>Below this many items, threads cost more than they save: everything runs on the caller's thread.</summary>
    public const int ParallelFrom = 32;

    /// <summary>The results in the order of <paramref name="items"/>; an item whose call threw has its exception instead.</summary>
    public static (TResult? Result, Exception? Error)[] Run<TItem, TResult>(IReadOnlyList<TItem> items, Func<TItem, TResult> map, int width)
    {
        var results = new (TResult?, Exception?)[items.Count];
        var next = -1;
        void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < items.Count)
            {
                try { results[i] = (map(items[i]), null); }
                catch (Exception ex) { results[i] = (default, ex); }
            }
        }
        var helpers = items.Count < ParallelFrom ? 0 : Math.Min(width, items.Count / 8) - 1;
        var threads = new Thread[Math.Max(0, helpers)];
        for (var t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(Work) { IsBackground = true, Name = "vz-parallel-map" };
            threads[t].Start();
        }
        Work(); // the caller works too
        foreach (var t in threads) t.Join();
        return results;
    }
}
