using System.CommandLine;
using System.Runtime.InteropServices;
using Distillery.Host.Cli;

// distillery: run, validate and list dataset-distillation experiments built from plugins.
var manifestArgument = new Argument<string>("manifest") { Description = "Experiment manifest (.json, .yaml or .yml)." };
var setOption = new Option<string[]>("--set") { Description = "Override a manifest value: path=value (repeatable), e.g. algorithm.options.steps=10.", AllowMultipleArgumentsPerToken = false };
var outputOption = new Option<string?>("--output") { Description = "Run folder (default: the manifest's output.directory, else runs/<name>)." };
var pluginsOption = new Option<string[]>("--plugins") { Description = "Extra plugin folder (repeatable), searched after the one next to the executable." };
var freshOption = new Option<bool>("--fresh") { Description = "Delete the run folder first instead of resuming from its checkpoints." };
var verboseOption = new Option<bool>("--verbose") { Description = "Show debug logging and stack traces.", Recursive = true };
var kindOption = new Option<string?>("--kind") { Description = "Only plugins of this kind: algorithm, kernel, dataset, preprocessor, evaluator." };

var run = new Command("run", "Run an experiment; resumes from the run folder's checkpoints when it holds the same experiment.")
{
    manifestArgument, setOption, outputOption, pluginsOption, freshOption,
};
run.SetAction((result, cancellation) => RunCommand.ExecuteAsync(new RunCommand.Arguments(
    result.GetValue(manifestArgument)!, result.GetValue(setOption) ?? [], result.GetValue(outputOption),
    result.GetValue(pluginsOption) ?? [], result.GetValue(freshOption), result.GetValue(verboseOption)), cancellation));

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

var root = new RootCommand("Distillery: dataset distillation (KIP, Label Solve, …) from plug-in algorithms, kernels and datasets.")
{
    run, validate, plugins, verboseOption,
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Try 'distillery --help'.");
    return ExitCodes.InvalidInput;
}

// Ctrl+C and SIGTERM cancel the run, which stops after the current step and writes a checkpoint.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);
