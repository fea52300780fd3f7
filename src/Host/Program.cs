using System.CommandLine;
using System.Runtime.InteropServices;
using Distillery.Engine.Runs;
using Distillery.Host.Cli;

// distillery: run, validate and list dataset-distillation experiments built from plugins.

// Before libtorch allocates anything: freed tensors stay in the C heap for reuse instead of costing a fresh mapping
// and a page fault per 4 KiB on every step (NativeHeap; README "Native heap").
NativeHeap.KeepFreedMemory();
// A failed write to standard output (`plugins > /dev/full`) becomes one error line and exit 2 (see the end).
Console.SetOut(new StandardOutput(Console.Out));
var manifestArgument = new Argument<string>("manifest") { Description = "Experiment manifest (.json, .yaml or .yml)." };
var setOption = new Option<string[]>("--set") { Description = "Override a manifest value: path=value (repeatable), e.g. algorithm.options.steps=10.", AllowMultipleArgumentsPerToken = false };
var outputOption = new Option<string?>("--output") { Description = "Run folder (default: the manifest's output.directory, else runs/<name>)." };
var pluginsOption = new Option<string[]>("--plugins") { Description = "Extra plugin folder (repeatable), searched after the one next to the executable." };
var freshOption = new Option<bool>("--fresh") { Description = "Delete the run folder first instead of resuming from its checkpoints." };
var verboseOption = new Option<bool>("--verbose") { Description = "Show debug logging and stack traces.", Recursive = true };
var kindOption = new Option<string?>("--kind") { Description = "Only plugins of this kind: algorithm, kernel, dataset, preprocessor, evaluator." };

// Set by `distillery serve` on the runs it starts: a run whose service died stops (with a checkpoint) instead of living on.
var parentOption = new Option<int?>("--parent-pid") { Description = "Stop with a checkpoint when this process exits.", Hidden = true };
// Set by `distillery serve` on queued manifests (untrusted) unless its operator passed --allow-manifest-plugins.
var noManifestPluginsOption = new Option<bool>("--no-manifest-plugins") { Description = "Refuse the manifest's own plugins entry.", Hidden = true };
var threadsOption = new Option<int?>("--threads") { Description = "CPU threads for the run's tensor work (default: OMP_NUM_THREADS, else one per core)." };

var run = new Command("run", "Run an experiment (or every point of its sweep); resumes from the run folder's checkpoints when it holds the same experiment.")
{
    manifestArgument, setOption, outputOption, pluginsOption, freshOption, threadsOption, parentOption, noManifestPluginsOption,
};
run.SetAction((result, cancellation) => RunCommand.ExecuteAsync(new RunCommand.Arguments(
    result.GetValue(manifestArgument)!, result.GetValue(setOption) ?? [], result.GetValue(outputOption),
    result.GetValue(pluginsOption) ?? [], result.GetValue(freshOption), result.GetValue(verboseOption),
    // A service's run waits for the folder's previous process (an orphan finishing its step) however long it takes.
    result.GetValue(parentOption) is null ? RunFolderLock.DefaultPatience : Timeout.InfiniteTimeSpan,
    result.GetValue(threadsOption), !result.GetValue(noManifestPluginsOption)), cancellation));

var validate = new Command("validate", "Parse the manifest, resolve plugins and validate every option; run nothing.")
{
    manifestArgument, setOption, pluginsOption,
};
validate.SetAction(result => ValidateCommand.Execute(result.GetValue(manifestArgument)!, result.GetValue(setOption) ?? [],
    result.GetValue(pluginsOption) ?? [], result.GetValue(verboseOption)));

var plugins = new Command("plugins", "List every discovered plugin with its options, types, defaults and descriptions.")
{
    kindOption, pluginsOption,
};
plugins.SetAction(result => PluginsCommand.Execute(result.GetValue(kindOption), result.GetValue(pluginsOption) ?? []));

var schemaOutputOption = new Option<string?>("--output") { Description = "Write the schema to this file instead of standard output." };
var schema = new Command("schema", "Write the manifest's JSON Schema (draft 2020-12), generated from the plugins found, for editors to complete and check manifests.")
{
    schemaOutputOption, pluginsOption,
};
schema.SetAction(result => SchemaCommand.Execute(result.GetValue(schemaOutputOption), result.GetValue(pluginsOption) ?? []));

var queueOption = new Option<string>("--queue") { Description = "Queue folder (inbox/, running/, done/, failed/, runs/).", Required = true };
var concurrencyOption = new Option<int>("--concurrency") { Description = "Runs at once (default 1: one per device).", DefaultValueFactory = _ => 1 };
var statusPortOption = new Option<int?>("--status-port") { Description = "Serve the read-only status page and JSON API on 127.0.0.1:PORT (off by default)." };
var shutdownOption = new Option<int>("--shutdown-timeout") { Description = "Seconds a stop waits for runs to checkpoint (default 90).", DefaultValueFactory = _ => 90 };
var retriesOption = new Option<int>("--retries") { Description = "Times a run that failed (exit 3) is run again from its last checkpoint (default 2).", DefaultValueFactory = _ => 2 };
var leaseOption = new Option<int>("--lease") { Description = "Seconds a claim holds an item without renewal before another service may take it over (default 60; renewed every third).", DefaultValueFactory = _ => 60 };
var threadsPerRunOption = new Option<int?>("--threads-per-run") { Description = "CPU threads of each run (default: cores / concurrency, at least 1)." };
var allowManifestPluginsOption = new Option<bool>("--allow-manifest-plugins")
{
    Description = "Load the plugin folders a queued manifest lists. Anyone who can write inbox/ can then run code as this service.",
};

var serve = new Command("serve", "Work through a queue folder as a long-lived service: claim manifests from inbox/, run, file under done/ or failed/.")
{
    queueOption, concurrencyOption, statusPortOption, shutdownOption, retriesOption, leaseOption, pluginsOption, threadsPerRunOption,
    allowManifestPluginsOption,
};
retriesOption.Validators.Add(result => { if (result.GetValueOrDefault<int>() < 0) result.AddError("--retries must be 0 or more"); });
leaseOption.Validators.Add(result => { if (result.GetValueOrDefault<int>() < 3) result.AddError("--lease must be at least 3 seconds"); });
serve.SetAction(result => ServeCommand.ExecuteAsync(new ServeCommand.Arguments(result.GetValue(queueOption)!,
    result.GetValue(concurrencyOption), result.GetValue(statusPortOption), result.GetValue(pluginsOption) ?? [],
    TimeSpan.FromSeconds(result.GetValue(shutdownOption)), result.GetValue(verboseOption),
    result.GetValue(retriesOption), TimeSpan.FromSeconds(result.GetValue(leaseOption)),
    result.GetValue(threadsPerRunOption), result.GetValue(allowManifestPluginsOption))));

var status = new Command("status", "Print a queue's items and each running item's progress.") { queueOption };
status.SetAction(result => StatusCommand.Execute(result.GetValue(queueOption)!));

var manifestsArgument = new Argument<string[]>("manifests") { Description = "Manifests whose points (sweeps expanded) form the task list.", Arity = ArgumentArity.OneOrMore };
var resultsOption = new Option<string>("--results") { Description = "Shared results folder (one sub-folder per experiment and point).", Required = true };
var indexOption = new Option<int?>("--index") { Description = "Task index (default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)." };
var resultsArgument = new Argument<string>("results") { Description = "Results folder to scan for finished runs." };

var points = new Command("points", "List the points of the manifests, numbered as task indices.") { manifestsArgument, pluginsOption };
points.SetAction(result => FanOutCommands.Points(result.GetValue(manifestsArgument)!, result.GetValue(pluginsOption) ?? [], result.GetValue(verboseOption)));

var task = new Command("task", "Run point i of the manifests (a Slurm array task or Kubernetes Indexed Job pod) into a shared results folder.")
{
    manifestsArgument, resultsOption, indexOption, pluginsOption, threadsOption,
};
task.SetAction((result, cancellation) => FanOutCommands.TaskAsync(result.GetValue(manifestsArgument)!, result.GetValue(resultsOption)!,
    result.GetValue(indexOption), result.GetValue(pluginsOption) ?? [], result.GetValue(threadsOption), result.GetValue(verboseOption), cancellation));

var figuresOption = new Option<string[]>("--figures")
{
    Description = "Only these figures, in this order (e.g. krr.testAccuracy transfer.testAccuracy); default: every figure.",
    AllowMultipleArgumentsPerToken = true,
};
var collect = new Command("collect", "Build the results table (results.md, results.csv) from the finished runs in a folder.") { resultsArgument, figuresOption };
collect.SetAction(result => FanOutCommands.Collect(result.GetValue(resultsArgument)!, result.GetValue(figuresOption) ?? [], result.GetValue(verboseOption)));

var root = new RootCommand("Distillery: dataset distillation (KIP, Label Solve, …) from plug-in algorithms, kernels and datasets.")
{
    run, validate, plugins, schema, serve, status, points, task, collect, verboseOption,
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Try 'distillery --help'.");
    return ExitCodes.InvalidInput;
}

// `serve` leaves Ctrl+C and SIGTERM to the generic host, which stops the service (and so its runs) gracefully.
if (parsed.CommandResult.Command == serve) return await parsed.InvokeAsync();

// Ctrl+C and SIGTERM cancel the run, which stops after the current step and writes a checkpoint.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
if (parsed.GetValue(parentOption) is { } parentId) ParentWatch.CancelWhenGone(parentId, stop);
try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false }, stop.Token);
}
catch (StandardOutputException error)
{
    return Errors.InvalidInput(error, parsed.GetValue(verboseOption));
}
catch (Exception error)
{
    // What System.CommandLine's default handler did for a bug no command catches: the whole exception, exit 1.
    Console.Error.WriteLine($"Unhandled exception: {error}");
    return 1;
}
