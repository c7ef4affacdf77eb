using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Virtuozzo.Engine.Store;

/// <summary>Writes timestamps as ISO 8601 strings (YamlDotNet would otherwise walk DateTimeOffset's properties).</summary>
internal sealed class DateTimeOffsetYamlConverter : IYamlTypeConverter
{
    public bool Accepts(Type type) => type == typeof(DateTimeOffset) || type == typeof(DateTimeOffset?);

    public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer)
    {
        var scalar = parser.Consume<Scalar>();
        if (type == typeof(DateTimeOffset?) && scalar.Value is "" or "~" or "null") return null;
        if (DateTimeOffset.TryParse(scalar.Value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value)) return value;
        throw new YamlException(scalar.Start, scalar.End, $"'{scalar.Value}' is not a timestamp (expected ISO 8601, e.g. 2026-01-31T12:00:00Z).");
    }

    public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
        emitter.Emit(new Scalar(value is DateTimeOffset d ? d.ToString("O", CultureInfo.InvariantCulture) : ""));
}
