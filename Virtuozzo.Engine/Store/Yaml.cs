using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Virtuozzo.Engine.Store;

/// <summary>The YAML dialect of every file the engine writes: camelCase keys, nulls and defaults left out.</summary>
public static class Yaml
{
    public static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithTypeConverter(new DateTimeOffsetYamlConverter())
        .Build();

    public static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithTypeConverter(new DateTimeOffsetYamlConverter())
        .Build();
}
