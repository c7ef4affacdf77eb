using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Virtuozzo.Engine.Store;

/// <summary>The YAML dialect of every file the engine writes: camelCase keys, nulls and defaults left out.</summary>
public static class Yaml
{
    public static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithTypeConverter(new DateTimeOffsetConverter())
        .Build();

    public static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithTypeConverter(new DateTimeOffsetConverter())
        .Build();

    /// <summary>
    /// Timestamps as one ISO 8601 scalar ("2026-11-26T10:51:51.7655185+00:00"). Without it YamlDotNet writes every
    /// property of DateTimeOffset as a map and cannot read it back.
    /// </summary>
    private sealed class DateTimeOffsetConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => type == typeof(DateTimeOffset) || type == typeof(DateTimeOffset?);

        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer)
        {
            var scalar = parser.Consume<Scalar>();
            if (type == typeof(DateTimeOffset?) && scalar.Value.Length == 0) return null;
            return DateTimeOffset.Parse(scalar.Value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        }

        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
            emitter.Emit(new Scalar(value is DateTimeOffset d ? d.ToString("O", CultureInfo.InvariantCulture) : ""));
    }
}
