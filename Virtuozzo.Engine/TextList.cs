using System.Collections;
using System.Runtime.CompilerServices;

namespace Virtuozzo.Engine;

/// <summary>
/// A read-only list on an output object that also reads well as one piece of text: its <see cref="ToString"/> is the
/// items joined by ", " (what Export-Csv, string expansion and Format-List * show, where a plain array would print
/// "System.String[]"). Cmdlets that take such a list split that text back, so a CSV row binds to the parameter again.
/// </summary>
[CollectionBuilder(typeof(TextList), nameof(TextList.Create))]
public sealed class TextList<T> : IReadOnlyList<T>
{
    private readonly T[] items;

    public TextList(IEnumerable<T> items) => this.items = [.. items];

    public T this[int index] => items[index];
    public int Count => items.Length;
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => items.GetEnumerator();

    public override string ToString() => string.Join(", ", items);
}

/// <summary>Builds <see cref="TextList{T}"/> from collection expressions (<c>[.. items]</c>).</summary>
public static class TextList
{
    public static TextList<T> Create<T>(ReadOnlySpan<T> items) => new(items.ToArray());
}
