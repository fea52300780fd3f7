using System.Text.Json.Nodes;

namespace Distillery.Engine.Outputs;

public static class JsonNumbers
{
    /// <summary>JSON has no NaN or infinity: such a value is written as null.</summary>
    public static JsonNode? FiniteOrNull(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
