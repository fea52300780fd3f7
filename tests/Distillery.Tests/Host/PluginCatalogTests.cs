using Distillery.Abstractions.Plugins;
using Distillery.Engine.Plugins;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

public sealed class PluginCatalogTests(BundledPluginsFixture plugins) : IClassFixture<BundledPluginsFixture>, IDisposable
{
    private readonly HostTempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    private static string Names(PluginCatalog catalog, string kind) => string.Join(",", catalog.OfKind(kind).Select(p => p.Name));

    [Fact]
    public void Loads_every_bundled_plugin_by_kind_and_name()
    {
        var catalog = plugins.Catalog;

        catalog.Problems.Should().BeEmpty();
        Names(catalog, PluginKinds.Algorithm).Should().Be("dc,dm,dsa,herding,kcenter,kip,label-solve,natural");
        Names(catalog, PluginKinds.Kernel).Should().Be("convnet,convnet-rf,fc");
        Names(catalog, PluginKinds.Dataset).Should().Be("cifar10,cifar100,fashion-mnist,fashion-mnist-sample,image-folder,kmnist,mnist");
        Names(catalog, PluginKinds.Preprocessor).Should().Be("standardize,zca");
        Names(catalog, PluginKinds.Evaluator).Should().Be("krr,transfer");
        catalog.Folders.Should().Equal(TestPaths.HostPluginFolder);
    }

    [Fact]
    public void Each_plugin_knows_its_source_description_and_options_type_and_can_be_created()
    {
        var kip = plugins.Catalog.Find(PluginKinds.Algorithm, "kip")!;

        kip.Should().NotBeNull();
        kip.SourcePath.Should().Be(Path.Combine(TestPaths.HostPluginFolder, "Kip", "Distillery.Kip.dll"));
        kip.Description.Should().NotBeNullOrWhiteSpace();
        kip.OptionsType.Name.Should().Be("KipOptions");
        var instance = kip.Create();
        instance.Should().BeAssignableTo<IAlgorithm>();
        instance.OptionsType.Should().Be(kip.OptionsType);
        kip.Create().Should().NotBeSameAs(instance, "every Create makes a new instance");
    }

    [Fact]
    public void Plugins_are_loaded_in_their_own_context_but_share_the_contracts()
    {
        var kip = plugins.Catalog.Find(PluginKinds.Algorithm, "kip")!.Create();

        System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(kip.GetType().Assembly).Should().BeOfType<PluginLoadContext>();
        // The plugin implements the host's IAlgorithm (one Distillery.Abstractions, from the default context).
        kip.Should().BeAssignableTo<IAlgorithm>();
        System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(IAlgorithm).Assembly)
            .Should().BeSameAs(System.Runtime.Loader.AssemblyLoadContext.Default);
    }

    [Fact]
    public void Find_returns_null_for_an_unknown_name_or_the_wrong_kind()
    {
        plugins.Catalog.Find(PluginKinds.Algorithm, "nope").Should().BeNull();
        plugins.Catalog.Find(PluginKinds.Kernel, "kip").Should().BeNull();
    }

    [Fact]
    public void Unknown_plugin_error_lists_the_known_names()
    {
        plugins.Catalog.UnknownPlugin("kernel.name", PluginKinds.Kernel, "cnn").Message
            .Should().Be("kernel.name: unknown kernel 'cnn'; known kernels: convnet, convnet-rf, fc");
    }

    [Fact]
    public void Unknown_plugin_error_names_the_plugin_that_differs_only_in_case()
    {
        plugins.Catalog.UnknownPlugin("kernel.name", PluginKinds.Kernel, "FC").Message.Should().Be(
            "kernel.name: unknown kernel 'FC' (names are case-sensitive: did you mean 'fc'?); known kernels: convnet, convnet-rf, fc");
    }

    [Fact]
    public void A_garbage_dll_is_reported_and_the_other_plugins_still_load()
    {
        var bad = _temp.File("Bad.dll");
        var bytes = new byte[4096];
        new Random(42).NextBytes(bytes);
        File.WriteAllBytes(bad, bytes);

        var catalog = PluginCatalog.Load([_temp.Path, TestPaths.HostPluginFolder]);

        catalog.Problems.Should().ContainSingle().Which.Should().Be(new PluginProblem(bad, "not a .NET assembly"));
        catalog.Problems[0].ToString().Should().Be($"{bad}: not a .NET assembly");
        catalog.Find(PluginKinds.Algorithm, "kip").Should().NotBeNull();
        catalog.Plugins.Should().HaveCount(plugins.Catalog.Plugins.Count);
    }

    [Fact]
    public void A_garbage_dll_in_a_plugin_sub_folder_is_reported_too()
    {
        Directory.CreateDirectory(_temp.File("Broken"));
        File.WriteAllBytes(Path.Combine(_temp.Path, "Broken", "Broken.dll"), [0x4D, 0x5A, 1, 2, 3]);

        var catalog = PluginCatalog.Load([_temp.Path]);

        catalog.Plugins.Should().BeEmpty();
        catalog.Problems.Should().ContainSingle().Which.Path.Should().Be(Path.Combine(_temp.Path, "Broken", "Broken.dll"));
    }

    [Fact]
    public void A_second_copy_of_a_plugin_is_reported_as_a_duplicate_and_the_first_wins()
    {
        var copy = Path.Combine(_temp.Path, "Kip");
        CopyFolder(Path.Combine(TestPaths.HostPluginFolder, "Kip"), copy);

        var catalog = PluginCatalog.Load([TestPaths.HostPluginFolder, _temp.Path]);

        catalog.Problems.Should().ContainSingle();
        catalog.Problems[0].Path.Should().Be(Path.Combine(copy, "Distillery.Kip.dll"));
        catalog.Problems[0].Reason.Should().Contain("already loaded");
        catalog.Find(PluginKinds.Algorithm, "kip")!.SourcePath.Should().StartWith(TestPaths.HostPluginFolder);
        catalog.OfKind(PluginKinds.Algorithm).Count(p => p.Name == "kip").Should().Be(1);
        catalog.Folders.Should().Equal(TestPaths.HostPluginFolder, _temp.Path);
    }

    [Fact]
    public void A_missing_folder_is_a_problem_not_an_exception()
    {
        var missing = _temp.File("does-not-exist");

        var catalog = PluginCatalog.Load([missing, TestPaths.HostPluginFolder]);

        catalog.Problems.Should().ContainSingle().Which.Should().Be(new PluginProblem(missing, "plugin folder does not exist"));
        catalog.Find(PluginKinds.Kernel, "fc").Should().NotBeNull();
    }

    [Fact]
    public void The_same_folder_given_twice_is_searched_once()
    {
        var catalog = PluginCatalog.Load([TestPaths.HostPluginFolder, TestPaths.HostPluginFolder + "/"]);

        catalog.Problems.Should().BeEmpty();
        catalog.Folders.Should().HaveCount(1);
    }

    [Fact]
    public void An_empty_folder_has_no_plugins_and_no_problems()
    {
        var catalog = PluginCatalog.Load([_temp.Path]);

        catalog.Plugins.Should().BeEmpty();
        catalog.Problems.Should().BeEmpty();
        catalog.UnknownPlugin("algorithm.name", PluginKinds.Algorithm, "kip").Message.Should().EndWith("known algorithms: none");
    }
}

public sealed class PluginAssemblyFinderTests : IDisposable
{
    private readonly HostTempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Touch(params string[] parts)
    {
        var path = Path.Combine([_temp.Path, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        return path;
    }

    [Fact]
    public void Dlls_at_the_root_are_plugins_and_in_sub_folders_the_ones_with_deps_json()
    {
        var root = Touch("Loose.dll");
        var withDeps = Touch("A", "Plugin.dll");
        Touch("A", "Plugin.deps.json");
        Touch("A", "Dependency.dll");
        var noDeps1 = Touch("B", "One.dll");
        var noDeps2 = Touch("B", "Two.dll");
        Touch("B", "readme.txt");

        PluginAssemblyFinder.FindEntryAssemblies(_temp.Path).Should().Equal(root, withDeps, noDeps1, noDeps2);
    }
}
