using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using static TorchSharp.torch;

namespace Distillery.Engine.Runs;

/// <summary>
/// The host's own checks between the plugins of a run, so that no dataset, preprocessor, algorithm or evaluator — a
/// third party's included — can turn NaN or infinity into a written result. Each throws
/// <see cref="NumericalFailureException"/> (exit 3, one error line naming who and what) before anything is written.
/// </summary>
public static class ResultGuards
{
    /// <summary>Train and test images [N, C, H, W] must be finite after <paramref name="where"/> (a dataset or a preprocess step).</summary>
    /// <param name="verb">"loaded" or "preprocessed", for the message.</param>
    public static void RequireFiniteImages(string where, string verb, Tensor train, Tensor test, string remedy)
    {
        FiniteCheck.Require(train, where, $"the {verb} training images", remedy);
        FiniteCheck.Require(test, where, $"the {verb} test images", remedy);
    }

    /// <summary>The support set an algorithm returned (finally, or for a periodic evaluation) must be finite.</summary>
    public static void RequireFiniteSupport(string algorithm, SupportSet support)
    {
        const string remedy = "the distillation diverged: lower its learning rate or raise its regularization, or run in float64 (\"dtype\": \"float64\")";
        FiniteCheck.Require(support.Images, $"algorithm '{algorithm}'", "the support images it returned", remedy);
        FiniteCheck.Require(support.Targets, $"algorithm '{algorithm}'", "the support targets it returned", remedy);
    }

    /// <summary>Every figure of an evaluator must be finite; returns them unchanged when they are.</summary>
    public static IReadOnlyDictionary<string, double> RequireFiniteFigures(string evaluator, IReadOnlyDictionary<string, double> figures)
    {
        var bad = figures.Where(f => !double.IsFinite(f.Value)).Select(f => $"{f.Key} = {f.Value}").ToList();
        if (bad.Count > 0)
            throw new NumericalFailureException(
                $"evaluator '{evaluator}': {string.Join(", ", bad)} is not finite, so no figure was written; " +
                "the support set or the evaluator's own computation overflowed: try a smaller learning rate or \"dtype\": \"float64\"");
        return figures;
    }
}
