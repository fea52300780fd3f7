using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Abstractions.Manifests;
using Distillery.Abstractions.Plugins;

namespace Distillery.Engine.Manifests;

/// <summary>
/// Binds a manifest's <c>options</c> object to a plugin's options class. Every problem is reported with its
/// manifest path and what is allowed: unknown option (lists the known ones), wrong type, out of range.
/// </summary>
public static class OptionsBinder
{
    public static object Bind(Type optionsType, JsonObject? json, string path, List<string> problems)
    {
        var options = Activator.CreateInstance(optionsType)
            ?? throw new InvalidOperationException($"{optionsType} has no public parameterless constructor");
        var schema = OptionsSchema.Describe(optionsType);
        var givenAs = new Dictionary<string, string>(StringComparer.Ordinal); // option name → the key that set it
        var unbound = new HashSet<string>(StringComparer.Ordinal); // options whose value was refused: their default is not what was asked

        foreach (var (key, value) in json ?? [])
        {
            var option = schema.FirstOrDefault(o => string.Equals(o.Name, key, StringComparison.OrdinalIgnoreCase));
            if (option is null)
            {
                var allowed = schema.Count == 0 ? "this plugin takes no options" : "allowed: " + string.Join(", ", schema.Select(o => o.Name));
                problems.Add($"{path}.{key}: unknown option; {allowed}");
                continue;
            }
            // Keys match options whatever their case, so two spellings of one option would otherwise let the later
            // silently win.
            if (!givenAs.TryAdd(option.Name, key))
            {
                problems.Add($"{path}.{key}: option {option.Name} is already given as '{givenAs[option.Name]}'; give it once");
                continue;
            }
            if (!TryConvert(value, option.Property.PropertyType, out var converted))
                problems.Add($"{path}.{option.Name}: expected {Article(option.Type)}, got {Show(value)}");
            else if (converted is double number && !double.IsFinite(number))
                // JSON has no infinity: a literal such as 1e400 overflows to it, and a range check would then report "Infinity".
                problems.Add($"{path}.{option.Name}: {Show(value)} is beyond the largest number (about 1.8e308); expected a finite number");
            else
            {
                option.Property.SetValue(options, converted);
                continue;
            }
            unbound.Add(option.Name);
        }

        foreach (var option in schema.Where(o => !unbound.Contains(o.Name)))
        {
            var value = option.Property.GetValue(options);
            foreach (var attribute in option.Property.GetCustomAttributes<ValidationAttribute>())
            {
                if (attribute.IsValid(value)) continue;
                problems.Add($"{path}.{option.Name}: {Violation(option, attribute, value)}");
            }
        }

        if (options is IValidatableOptions validatable)
        {
            try
            {
                foreach (var (name, message) in validatable.Validate())
                    problems.Add($"{path}.{ManifestPaths.OptionName(name)}: {message}");
            }
            catch (OptionException e) // the same (option, message), thrown instead of returned
            {
                problems.Add($"{path}.{ManifestPaths.OptionName(e.Option)}: {e.Problem}");
            }
        }

        return options;
    }

    /// <summary>What is wrong with <paramref name="value"/>, which breaks <paramref name="attribute"/>, and what to do.</summary>
    private static string Violation(OptionInfo option, ValidationAttribute attribute, object? value) => attribute switch
    {
        RequiredAttribute when option.Required => "must be given" + (option.Description.Length == 0 ? "" : $" ({option.Description.TrimEnd('.')})"),
        RequiredAttribute => $"must not be empty; leave it out for the default, {option.Default}", // given as null or ""
        _ => $"{OptionsSchema.ConstraintText(attribute) ?? attribute.FormatErrorMessage(option.Name)}, got {OptionsSchema.FormatValue(value)}",
    };

    private static bool TryConvert(JsonNode? value, Type type, out object? converted)
    {
        converted = null;
        if (value is null) return OptionsSchema.AcceptsNull(type);
        // A string where a number or boolean is expected is a mistake, not something to coerce.
        var target = Nullable.GetUnderlyingType(type) ?? type;
        var kind = value.GetValueKind();
        if (target == typeof(string) && kind != JsonValueKind.String) return false;
        if ((target == typeof(int) || target == typeof(long) || target == typeof(double)) && kind != JsonValueKind.Number) return false;
        try
        {
            converted = value.Deserialize(type, OptionsSchema.Json);
            return true;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }
    }

    private static string Show(JsonNode? value) => value is null ? "null" : value.ToJsonString();

    private static string Article(string typeName) =>
        typeName.StartsWith("one of", StringComparison.Ordinal) || typeName.StartsWith("true", StringComparison.Ordinal)
            ? typeName
            : (typeName.StartsWith('i') || typeName.StartsWith('a') || typeName.StartsWith('o') ? "an " : "a ") + typeName;
}
