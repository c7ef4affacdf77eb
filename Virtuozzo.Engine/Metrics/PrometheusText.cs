using System.Globalization;
using System.Text;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4): per metric family one HELP and one TYPE line,
/// then its samples, label values escaped. Families must be written whole, one after another (a family split in
/// two is an error to promtool and to Prometheus).
/// </summary>
public sealed class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder text = new(16 * 1024);
    private readonly HashSet<string> families = [];

    /// <summary>Starts a family; <paramref name="type"/> is counter or gauge.</summary>
    public PrometheusText Family(string name, string type, string help)
    {
        if (!families.Add(name)) throw new InvalidOperationException($"The metric family {name} was already written.");
        text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    /// <summary>One sample of the family last started. Labels are name/value pairs.</summary>
    public PrometheusText Sample(string name, double value, params (string Name, string Value)[] labels)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0) text.Append(',');
                text.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }
            text.Append('}');
        }
        text.Append(' ').Append(Format(value)).Append('\n');
        return this;
    }

    public override string ToString() => text.ToString();

    /// <summary>Label values escape backslash, double quote and newline; nothing else.</summary>
    public static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    public static string Format(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
