using System.Composition;
using System.Composition.Hosting;
using System.Reflection;
using System.Text.RegularExpressions;
using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using Distillery.Engine.Manifests;

namespace Distillery.Engine.Plugins;

/// <summary>
/// Every plugin found in the plugin folders, by kind and name. Each plugin assembly is loaded into its own
/// <see cref="PluginLoadContext"/> and composed by MEF on its own, so a broken assembly (not .NET, missing
/// dependency, failing composition), one built against contract versions the host cannot serve
/// (<see cref="ContractVersions"/>, checked on its metadata before any of its code loads) or a duplicate name is
/// reported as a <see cref="PluginProblem"/> and the others still load.
/// </summary>
public sealed class PluginCatalog
{
    private static readonly (string Kind, Type Contract)[] Contracts =
    [
        (PluginKinds.Algorithm, typeof(IAlgorithm)),
        (PluginKinds.Kernel, typeof(IKernelProvider)),
        (PluginKinds.Dataset, typeof(IDatasetLoader)),
        (PluginKinds.Preprocessor, typeof(IPreprocessor)),
        (PluginKinds.Evaluator, typeof(IEvaluator)),
    ];

    private readonly List<PluginDescriptor> _plugins = [];
    private readonly List<PluginProblem> _problems = [];
    // Exports refused because another plugin of their kind has their name in another case, by (kind, name): a manifest
    // that names one must hear why, not only a suggestion of the plugin that won.
    private readonly Dictionary<(string Kind, string Name), PluginProblem> _refusedNames = [];
    private readonly HashSet<string> _loadedAssemblies = new(StringComparer.Ordinal);
    private readonly ContractVersions _served;

    private PluginCatalog(ContractVersions served) => _served = served;

    /// <summary>Every plugin that loaded, in the order found.</summary>
    public IReadOnlyList<PluginDescriptor> Plugins => _plugins;

    /// <summary>Every plugin file, folder or export that was skipped, with its reason, in the order met.</summary>
    public IReadOnlyList<PluginProblem> Problems => _problems;

    /// <summary>The folders searched, as full paths without a trailing separator, each once, in order.</summary>
    public IReadOnlyList<string> Folders { get; private set; } = [];

    /// <summary>
    /// Loads every plugin under <paramref name="folders"/>, in order; earlier folders win name clashes. Plugins are
    /// checked against the contract versions this process has loaded (<see cref="ContractVersions.Host"/>).
    /// </summary>
    public static PluginCatalog Load(IEnumerable<string> folders) => Load(folders, ContractVersions.Host);

    /// <summary>
    /// Loads every plugin under <paramref name="folders"/> that was built against contract versions
    /// <paramref name="served"/> can serve; the others are reported in <see cref="Problems"/>, never loaded.
    /// </summary>
    public static PluginCatalog Load(IEnumerable<string> folders, ContractVersions served)
    {
        var catalog = new PluginCatalog(served);
        var searched = new List<string>();
        foreach (var folder in folders.Select(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f))).Distinct())
        {
            searched.Add(folder);
            if (!Directory.Exists(folder))
            {
                catalog._problems.Add(new PluginProblem(folder, "plugin folder does not exist"));
                continue;
            }
            foreach (var assemblyPath in PluginAssemblyFinder.FindEntryAssemblies(folder))
                catalog.LoadAssembly(assemblyPath);
        }
        catalog.Folders = searched;
        return catalog;
    }

    /// <summary>The plugins of one kind (a <see cref="PluginKinds"/> value), by name.</summary>
    public IEnumerable<PluginDescriptor> OfKind(string kind) =>
        _plugins.Where(p => p.Kind == kind).OrderBy(p => p.Name, StringComparer.Ordinal);

    /// <summary>The plugin of that kind and manifest name, or <c>null</c>.</summary>
    public PluginDescriptor? Find(string kind, string name) =>
        _plugins.FirstOrDefault(p => p.Kind == kind && p.Name == name);

    /// <summary>The plugin of that kind whose name equals <paramref name="name"/> ignoring case (at most one: see <see cref="Register"/>), or <c>null</c>.</summary>
    private PluginDescriptor? FindIgnoringCase(string kind, string name) =>
        _plugins.FirstOrDefault(p => p.Kind == kind && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    private void LoadAssembly(string path)
    {
        Assembly assembly;
        try
        {
            var metadata = PluginAssemblyMetadata.Read(path);
            var identity = metadata.Identity;
            // A plugin built with `-o` carries a copy of the contracts; the host's own copy is the one used.
            if (PluginLoadContext.IsShared(identity)) return;
            // Before loading: a plugin built against contracts the host lacks would fail only mid-run
            // (MissingMethodException), and a refused one must not claim its assembly name from a good copy elsewhere.
            if (_served.Refusal(metadata) is { } refusal)
            {
                _problems.Add(new PluginProblem(path, refusal));
                return;
            }
            if (!_loadedAssemblies.Add(identity.Name ?? path))
            {
                _problems.Add(new PluginProblem(path, $"assembly '{identity.Name}' is already loaded from another plugin folder; this copy is ignored"));
                return;
            }
            assembly = new PluginLoadContext(path).LoadFromAssemblyPath(path);
            assembly.GetTypes(); // surfaces missing dependencies now, with this file's name, not at first use
        }
        catch (BadImageFormatException)
        {
            _problems.Add(new PluginProblem(path, "not a .NET assembly"));
            return;
        }
        catch (ReflectionTypeLoadException e)
        {
            var missing = e.LoaderExceptions.Where(x => x is not null).Select(x => x!.Message).Distinct().FirstOrDefault();
            _problems.Add(new PluginProblem(path, $"could not load its types: {missing}"));
            return;
        }
        catch (Exception e) when (e is FileLoadException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            _problems.Add(new PluginProblem(path, $"could not be loaded: {e.Message}"));
            return;
        }

        try
        {
            using var container = new ContainerConfiguration().WithAssembly(assembly).CreateContainer();
            foreach (var (kind, contract) in Contracts)
                foreach (var descriptor in Discover(container, kind, contract, path))
                    Register(descriptor);
        }
        catch (ExportRefusedException e)
        {
            _problems.Add(new PluginProblem(path, e.Message));
        }
        catch (Exception e)
        {
            _problems.Add(new PluginProblem(path, $"MEF composition failed: {e.Message}"));
        }
    }

    private static IEnumerable<PluginDescriptor> Discover(CompositionContext container, string kind, Type contract, string path)
    {
        var method = typeof(PluginCatalog).GetMethod(nameof(DiscoverTyped), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(contract);
        try
        {
            return (IEnumerable<PluginDescriptor>)method.Invoke(null, [container, kind, path])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    private static List<PluginDescriptor> DiscoverTyped<TContract>(CompositionContext container, string kind, string path) where TContract : IPlugin
    {
        var result = new List<PluginDescriptor>();
        foreach (var factory in container.GetExports<ExportFactory<TContract, PluginMetadata>>())
        {
            // A name follows the rule of evaluation ids: an evaluator's name is its figures' prefix (<name>.testAccuracy),
            // where a dot or a space would make the figure names ambiguous.
            if (!Regex.IsMatch(factory.Metadata.Name, ExperimentPlanner.IdPatternText))
                throw new ExportRefusedException(
                    $"{kind} name '{factory.Metadata.Name}' cannot be a manifest name: use {ExperimentPlanner.IdRule} (its export attribute's name)");
            // Creating one instance tells the options type; plugins are cheap to construct by contract.
            if (string.IsNullOrWhiteSpace(factory.Metadata.Version))
                throw new ExportRefusedException($"{kind} '{factory.Metadata.Name}' states an empty Version; leave it out (version {PluginVersions.Default}) or give one");
            using var probe = factory.CreateExport();
            result.Add(new PluginDescriptor(kind, factory.Metadata.Name, factory.Metadata.Description, factory.Metadata.Version,
                probe.Value.OptionsType, path, () => factory.CreateExport().Value));
        }
        return result;
    }

    private void Register(PluginDescriptor descriptor)
    {
        // Names are matched exactly, but two that differ only in case are refused too: a manifest that says 'KIP' for
        // 'kip' would otherwise run whichever plugin happens to own that spelling, and run folders named after them
        // collide on a case-insensitive file system.
        var existing = FindIgnoringCase(descriptor.Kind, descriptor.Name);
        if (existing is not null)
        {
            var problem = new PluginProblem(descriptor.SourcePath, existing.Name == descriptor.Name
                ? $"{descriptor.Kind} '{descriptor.Name}' is already provided by {existing.SourcePath}; this one is ignored"
                : $"{descriptor.Kind} '{descriptor.Name}' differs only in case from '{existing.Name}', already provided by " +
                  $"{existing.SourcePath}; this one is ignored (rename its export)", ExportOnly: true);
            _problems.Add(problem);
            if (existing.Name != descriptor.Name) _refusedNames.TryAdd((descriptor.Kind, descriptor.Name), problem);
            return;
        }
        _plugins.Add(descriptor);
    }

    /// <summary>A clear error for an unknown name, listing the known ones.</summary>
    public DistilleryException UnknownPlugin(string manifestPath, string kind, string name)
    {
        var known = string.Join(", ", OfKind(kind).Select(p => p.Name));
        var sameButCase = FindIgnoringCase(kind, name);
        var hint = _refusedNames.TryGetValue((kind, name), out var refused)
            ? $" (its export was ignored: {refused})"
            : sameButCase is null ? "" : $" (names are case-sensitive: did you mean '{sameButCase.Name}'?)";
        return new DistilleryException($"{manifestPath}: unknown {kind} '{name}'{hint}; known {kind}s: {(known.Length > 0 ? known : "none")}");
    }

    /// <summary>An export whose metadata the host cannot serve (its name or version): reported as is, not as a composition failure.</summary>
    private sealed class ExportRefusedException(string message) : Exception(message);
}
