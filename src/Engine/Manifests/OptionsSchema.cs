using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Distillery.Engine.Manifests;

/// <summary>One option of a plugin's options class, as a manifest author sees it.</summary>
/// <param name="Default">The default as the manifest would spell it, or <see cref="OptionsSchema.RequiredText"/> for a
/// [Required] option without one.</param>
/// <param name="Required">True when the manifest must give it: [Required] and no default.</param>
public sealed record OptionInfo(string Name, string Type, string Default, string Description, string? Constraint, PropertyInfo Property, bool Required);

/// <summary>
/// Reads a plugin's options class: its settable public properties, named in camelCase, with their types,
/// defaults, [Description], [Range], [AllowedValues] and [Required]. Used by the binder, by <c>distillery plugins</c> and to write the
/// resolved manifest with every default filled in.
/// </summary>
public static class OptionsSchema
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };

    /// <summary>What <c>distillery plugins</c> shows as the default of an option the manifest must give.</summary>
    public const string RequiredText = "(required)";

    public static IReadOnlyList<OptionInfo> Describe(Type optionsType)
    {
        var defaults = Activator.CreateInstance(optionsType);
        return optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetSetMethod() is not null)
            .Select(p =>
            {
                var value = p.GetValue(defaults);
                // A subclass may give a [Required] option a default (fashion-mnist's standard install folder): then the
                // manifest need not.
                var required = p.GetCustomAttribute<RequiredAttribute>() is { } rule && !rule.IsValid(value);
                return new OptionInfo(
                    JsonNamingPolicy.CamelCase.ConvertName(p.Name),
                    TypeName(p.PropertyType),
                    required ? RequiredText : FormatValue(value),
                    p.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "",
                    p.GetCustomAttributes<ValidationAttribute>().Select(ConstraintText).FirstOrDefault(text => text is not null),
                    p,
                    required);
            })
            .ToList();
    }

    /// <summary>True when the binder accepts a JSON null for an option of this type: reference types and nullable value types.</summary>
    public static bool AcceptsNull(Type type) => !type.IsValueType || Nullable.GetUnderlyingType(type) is not null;

    /// <summary>The options object as JSON, with every default filled in.</summary>
    public static JsonObject ToJson(object options) =>
        JsonSerializer.SerializeToNode(options, options.GetType(), Json) as JsonObject ?? new JsonObject();

    public static string TypeName(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null) return TypeName(underlying) + " or null";
        if (type.IsEnum) return "one of " + string.Join(", ", EnumNames(type));
        if (type == typeof(int) || type == typeof(long)) return "integer";
        if (type == typeof(double) || type == typeof(float)) return "number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(string)) return "string";
        if (type.IsArray || (type.IsGenericType && type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))))
            return "array";
        return "object";
    }

    public static IEnumerable<string> EnumNames(Type enumType) =>
        Enum.GetNames(enumType).Select(JsonNamingPolicy.CamelCase.ConvertName);

    public static string FormatValue(object? value) => value switch
    {
        null => "null",
        Enum e => JsonNamingPolicy.CamelCase.ConvertName(e.ToString()),
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        string s => s,
        _ => JsonSerializer.Serialize(value, Json).ReplaceLineEndings(" "),
    };

    /// <summary>A maximum of int.MaxValue or more (int.MaxValue, double.MaxValue) means "no upper bound".</summary>
    public static bool IsUnboundedAbove(RangeAttribute range) =>
        Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture) >= int.MaxValue;

    /// <summary>What a [Range] or [AllowedValues] attribute allows, as a manifest author reads it; null for other attributes
    /// ([Required] shows as the default, <see cref="RequiredText"/>).</summary>
    public static string? ConstraintText(ValidationAttribute attribute) => attribute switch
    {
        RangeAttribute range => RangeText(range),
        AllowedValuesAttribute allowed => "must be one of " + string.Join(", ", allowed.Values.Select(FormatValue)),
        _ => null,
    };

    /// <summary>"must be > 0", "must be ≥ 1", "must be between 0 and 64".</summary>
    public static string RangeText(RangeAttribute range)
    {
        var minText = FormatValue(range.Minimum);
        var maxText = FormatValue(range.Maximum);
        if (IsUnboundedAbove(range))
            return range.MinimumIsExclusive ? $"must be > {minText}" : $"must be ≥ {minText}";
        return $"must be between {minText} and {maxText}" +
               (range.MinimumIsExclusive || range.MaximumIsExclusive ? " (exclusive)" : "");
    }
}
