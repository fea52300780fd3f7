namespace Distillery.Abstractions.Augmentation;

/// <summary>
/// A plugin option that names a DSA strategy (for example <c>"augmentation": "color_crop_cutout_flip_scale_rotate"</c>):
/// how its value is spelled, parsed and reported, so that every plugin that takes one (the bundled transfer evaluator,
/// <c>dsa</c>, <c>dm</c>, an outside author's) keeps one spelling and one set of messages.
/// </summary>
/// <remarks>
/// Keep the option's value in <see cref="Canonical"/> form in its setter: the host fingerprints a run folder by the
/// resolved options, so two spellings of one strategy (<c>Crop_Flip</c>, <c>crop_flip</c>) must be one value, and so must
/// <c>none</c> and null. Parse it with <see cref="Parse"/> when the plugin runs, and report it from
/// <see cref="Plugins.IValidatableOptions.Validate"/> with <see cref="Problems"/>.
/// </remarks>
public static class AugmentationOption
{
    /// <summary>The value that means no augmentation, as null does.</summary>
    public const string None = "none";

    /// <summary>
    /// The spelling a value is kept in: trimmed, lower case (family names are case-insensitive), and null for
    /// <see cref="None"/> in any case. Does not check the value: see <see cref="Parse"/>.
    /// </summary>
    /// <param name="value">The value as written in the manifest; may be null.</param>
    /// <returns>The canonical value; null for null or <c>none</c>.</returns>
    public static string? Canonical(string? value) =>
        value?.Trim().ToLowerInvariant() is var canonical && canonical == None ? null : canonical;

    /// <summary>The augmentation a value names, with DSA's strengths (<see cref="AugmentationSettings"/>'s defaults).</summary>
    /// <param name="option">The option's name, as the plugin's options class declares it (for the error).</param>
    /// <param name="value">The value; null or <c>none</c> mean no augmentation.</param>
    /// <param name="allowNone">Whether the plugin can run without augmentation; when false, null and <c>none</c> are errors.</param>
    /// <returns>The augmentation; null for no augmentation (only when <paramref name="allowNone"/>).</returns>
    /// <exception cref="OptionException">An empty value, an unknown or repeated family (the message lists the families),
    /// or no augmentation where <paramref name="allowNone"/> is false.</exception>
    public static DifferentiableAugmentation? Parse(string option, string? value, bool allowNone)
    {
        var orNone = allowNone ? "; or none (or null) for no augmentation" : "";
        var strategy = Canonical(value);
        if (strategy is null)
            return allowNone ? null : throw new OptionException(option, $"an augmentation is required here; give a strategy such as {DifferentiableAugmentation.DsaStrategy}");
        if (strategy.Length == 0)
            throw new OptionException(option, $"give a strategy such as {DifferentiableAugmentation.DsaStrategy}{orNone}");
        try
        {
            return DifferentiableAugmentation.Parse(strategy);
        }
        catch (FormatException problem)
        {
            throw new OptionException(option, problem.Message + orNone);
        }
    }

    /// <summary>The problem <see cref="Parse"/> finds with a value, in <see cref="Plugins.IValidatableOptions.Validate"/>'s form.</summary>
    /// <param name="option">The option's name, as the plugin's options class declares it.</param>
    /// <param name="value">The value.</param>
    /// <param name="allowNone">As for <see cref="Parse"/>.</param>
    /// <returns>One (option, message) pair, or none when the value parses.</returns>
    public static IEnumerable<(string Option, string Message)> Problems(string option, string? value, bool allowNone)
    {
        try
        {
            Parse(option, value, allowNone);
        }
        catch (OptionException problem)
        {
            return [(problem.Option, problem.Problem)];
        }
        return [];
    }
}
