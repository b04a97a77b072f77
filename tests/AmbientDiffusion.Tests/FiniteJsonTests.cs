using System.Reflection;
using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

public class FiniteJsonTests
{
    private sealed record Values(double Nan, double PlusInfinity, double MinusInfinity, float Single, double Finite, double[] List);

    [Fact]
    public void Non_finite_doubles_and_floats_are_written_as_named_strings_and_read_back()
    {
        var values = new Values(double.NaN, double.PositiveInfinity, double.NegativeInfinity, float.NaN, 0.1, [1.5, double.NaN]);
        foreach (var options in new[] { FiniteJson.Options, FiniteJson.SnakeCase(indented: true), FiniteJson.Indented() })
        {
            var json = JsonSerializer.Serialize(values, options);
            Assert.Contains("\"NaN\"", json, StringComparison.Ordinal);
            Assert.Contains("\"Infinity\"", json, StringComparison.Ordinal);
            Assert.Contains("\"-Infinity\"", json, StringComparison.Ordinal);
            Assert.Contains("0.1", json, StringComparison.Ordinal);
            var back = JsonSerializer.Deserialize<Values>(json, options)!;
            Assert.True(double.IsNaN(back.Nan) && float.IsNaN(back.Single) && double.IsNaN(back.List[1]));
            Assert.Equal(double.PositiveInfinity, back.PlusInfinity);
            Assert.Equal(double.NegativeInfinity, back.MinusInfinity);
            Assert.Equal(0.1, back.Finite);
            Assert.Equal(1.5, back.List[0]);
        }
        // Boxed values and anonymous objects (done.json, summaries) go through the same policy.
        var boxed = JsonSerializer.Serialize(new Dictionary<string, object> { ["kimg"] = double.PositiveInfinity, ["nested"] = new { loss = double.NaN } }, FiniteJson.Options);
        Assert.Equal("{\"kimg\":\"Infinity\",\"nested\":{\"loss\":\"NaN\"}}", boxed);
    }

    [Fact]
    public void Every_json_options_object_of_the_product_follows_the_finite_policy()
    {
        var checkedOptions = 0;
        foreach (var assembly in new[] { typeof(FiniteJson).Assembly, typeof(Cli.CommandRunner).Assembly })
            foreach (var type in assembly.GetTypes())
                foreach (var field in type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (field.FieldType != typeof(JsonSerializerOptions) || type.ContainsGenericParameters) continue;
                    var options = (JsonSerializerOptions)field.GetValue(null)!;
                    Assert.True(FiniteJson.Follows(options), $"{type.FullName}.{field.Name} does not derive from FiniteJson.Options: a NaN would throw");
                    checkedOptions++;
                }
        Assert.True(checkedOptions >= 10, $"only {checkedOptions} options objects found");
    }

    [Fact]
    public void A_metrics_line_with_a_nan_loss_and_an_infinite_gradient_norm_is_written_and_parses()
    {
        using var dir = new TempDir();
        var log = new MetricsLog(dir.File("metrics.jsonl"));
        log.Append(new TrainingTick(3, 0.024, double.NaN, 1e-3, 120, 0.2, 3, double.PositiveInfinity));
        var line = Assert.Single(File.ReadAllLines(log.Path));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("NaN", json.RootElement.GetProperty("loss").GetString());
        Assert.Equal("Infinity", json.RootElement.GetProperty("grad_norm").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("step").GetInt64());
    }
}
