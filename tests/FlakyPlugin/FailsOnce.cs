using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;

namespace Distillery.FlakyPlugin;

/// <summary>
/// Fails the run's first attempt and lets the next one through, as a transient fault would: while the marker file
/// does not exist it creates it and throws (the run ends with exit 3); once it exists it reports the support set's
/// size. The marker lives outside the run folder, so it survives the retry.
/// </summary>
[ExportEvaluator("fails-once", Description = "Test double: throws while Marker does not exist (creating it), then reports supportCount.")]
public sealed class FailsOnce : IEvaluator<FailsOnceOptions>
{
    public IReadOnlyDictionary<string, double> Evaluate(EvaluationContext evaluation, FailsOnceOptions options)
    {
        if (!File.Exists(options.Marker))
        {
            File.WriteAllText(options.Marker, "the first attempt failed here\n");
            throw new IOException($"fails-once: a transient fault on the first attempt (marker {options.Marker} created)");
        }
        return new Dictionary<string, double> { ["supportCount"] = evaluation.Support.Count };
    }
}

/// <summary>Options of <see cref="FailsOnce"/>.</summary>
public sealed class FailsOnceOptions
{
    [Required, Description("File whose absence makes this attempt fail (it is then created).")]
    public string Marker { get; set; } = "";
}
