using System.Text.Json;

namespace Distillery.Abstractions.Manifests;

/// <summary>
/// How messages name a place in a manifest, so that the host's validation, the host's report of an
/// <see cref="OptionException"/> and a plugin's advice (<see cref="Runs.RunContext.OptionPath"/>) all spell an option the
/// same way: <c>&lt;section&gt;.options.&lt;option&gt;</c>, the option in camelCase as manifests write it.
/// </summary>
public static class ManifestPaths
{
    /// <summary>An option's manifest name: the camelCase of a property name (<c>LearningRate</c> → <c>learningRate</c>); a manifest name is unchanged.</summary>
    public static string OptionName(string option) => JsonNamingPolicy.CamelCase.ConvertName(option);

    /// <summary>
    /// The path of option <paramref name="option"/> of the plugin configured at <paramref name="section"/>
    /// (<c>algorithm</c>, <c>kernel</c>, <c>dataset</c>, <c>preprocess[2]</c>, <c>evaluation[1]</c>):
    /// <c>evaluation[1].options.depth</c>.
    /// </summary>
    public static string Option(string section, string option) => $"{section}.options.{OptionName(option)}";
}
