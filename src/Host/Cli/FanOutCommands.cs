using System.Globalization;
using Distillery.Abstractions;
using Distillery.Engine.Manifests;
using Distillery.Engine.Outputs;
using Distillery.Engine.Runs;
using Distillery.Engine.Sweeps;

namespace Distillery.Host.Cli;

/// <summary>
/// Fan-out beyond one machine. The points of one or more manifests (each sweep expanded, in order) form one list;
/// <c>distillery points</c> counts them, <c>distillery task</c> runs point i — i from --index, or from Slurm's
/// SLURM_ARRAY_TASK_ID, or Kubernetes' JOB_COMPLETION_INDEX — into a shared results folder, and
/// <c>distillery collect</c> builds the results table from whatever has finished there.
/// </summary>
public static class FanOutCommands
{
    public static readonly string[] IndexVariables = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

    public static int Points(string[] manifests, string[] pluginFolders, bool verbose)
    {
        try
        {
            var points = Expand(manifests, pluginFolders);
            for (var i = 0; i < points.Count; i++)
                Console.WriteLine($"{i}\t{points[i].Input.Manifest.Name}\t{points[i].Point.Point.Name}");
            Console.Error.WriteLine($"{points.Count} points: use --array=0-{points.Count - 1} (Slurm) or completions: {points.Count} (Kubernetes Indexed Job)");
            return ExitCodes.Success;
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, verbose);
        }
    }

    /// <param name="threads">Torch threads for the run (--threads, e.g. Slurm's --cpus-per-task); null: the default.</param>
    public static async Task<int> TaskAsync(string[] manifests, string results, int? index, string[] pluginFolders, int? threads, bool verbose,
                                            CancellationToken cancellation)
    {
        List<(ExperimentInput Input, PlannedPoint Point)> points;
        int taskIndex;
        try
        {
            if (threads is { } count) RunThreads.Require(count, "--threads");
            taskIndex = index ?? IndexFromEnvironment();
            points = Expand(manifests, pluginFolders);
            if (taskIndex < 0 || taskIndex >= points.Count)
                throw new DistilleryException($"task index {taskIndex} is out of range: the manifests have {points.Count} points (0–{points.Count - 1})");
            results = WritableFolder.Ensure(results, "--results");
            RunThreads.Apply(threads);
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, verbose);
        }

        var (input, point) = points[taskIndex];
        // The manifest name and the point name were checked to be single folder names (PathNames): both stay under --results.
        var folder = new RunFolder(point.RunFolder(Path.Combine(Path.GetFullPath(results), input.Manifest.Name)));
        return await RunCommand.RunPointAsync(input, point, folder, verbose, RunFolderLock.DefaultPatience, cancellation);
    }

    public static int Collect(string results, string[] figures, bool verbose)
    {
        if (!Directory.Exists(results))
        {
            Console.Error.WriteLine(File.Exists(results) ? $"error: {results} is a file, not a results folder" : $"error: {results} does not exist");
            return ExitCodes.InvalidInput;
        }
        var (finished, skipped) = PointRecord.Collect(results);
        foreach (var problem in skipped) Console.Error.WriteLine($"warning: skipped: {problem}");
        ResultsTable table;
        try
        {
            WritableFolder.Ensure(results, "results folder");
            table = new ResultsTable(finished, figures);
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, verbose);
        }
        table.Write(results);
        Console.WriteLine(table.ToMarkdown());
        Console.Error.WriteLine($"{finished.Count} finished runs in {table.RowCount} configurations → {Path.Combine(results, "results.md")} and results.csv");
        return ExitCodes.Success;
    }

    private static List<(ExperimentInput Input, PlannedPoint Point)> Expand(string[] manifests, string[] pluginFolders)
    {
        if (manifests.Length == 0) throw new DistilleryException("name at least one manifest");
        return manifests.Select(m => ExperimentInput.Load(m, [], pluginFolders))
            .SelectMany(input => input.Points.Select(point => (input, point)))
            .ToList();
    }

    private static int IndexFromEnvironment()
    {
        foreach (var variable in IndexVariables)
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text)
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                    ? value
                    : throw new DistilleryException($"{variable}={text} is not a task index");
        throw new DistilleryException($"no task index: pass --index N, or run under a Slurm job array ({IndexVariables[0]}) or a Kubernetes Indexed Job ({IndexVariables[1]})");
    }
}
