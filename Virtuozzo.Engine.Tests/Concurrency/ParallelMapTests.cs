using Virtuozzo.Engine.Concurrency;

namespace Virtuozzo.Engine.Tests.Concurrency;

public sealed class ParallelMapTests
{
    [Fact]
    public void Keeps_the_order_and_gives_each_failing_item_its_own_exception()
    {
        var items = Enumerable.Range(0, 500).ToList();
        var results = ParallelMap.Run(items, i => i % 97 == 5 ? throw new InvalidOperationException($"item {i}") : i * 2, width: 8);
        Assert.Equal(500, results.Length);
        for (var i = 0; i < items.Count; i++)
        {
            if (i % 97 == 5)
            {
                Assert.Equal(0, results[i].Result);
                Assert.Equal($"item {i}", Assert.IsType<InvalidOperationException>(results[i].Error).Message);
            }
            else
            {
                Assert.Null(results[i].Error);
                Assert.Equal(i * 2, results[i].Result);
            }
        }
    }

    [Fact]
    public void Many_items_run_on_several_threads_and_few_on_the_caller_alone()
    {
        int[] ThreadsUsed(int count)
        {
            var seen = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
            // Each item waits a little, so the helper threads get items even when the caller starts first.
            ParallelMap.Run(Enumerable.Range(0, count).ToList(), i => { seen[Environment.CurrentManagedThreadId] = true; Thread.Sleep(2); return i; }, width: 4);
            return [.. seen.Keys];
        }
        Assert.Equal([Environment.CurrentManagedThreadId], ThreadsUsed(ParallelMap.ParallelFrom - 1));
        Assert.True(ThreadsUsed(200).Length > 1);
    }
}
