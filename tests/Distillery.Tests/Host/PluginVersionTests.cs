using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Engine.Plugins;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;

namespace Distillery.Tests.Host;

/// <summary>
/// The contract-version check at load: a plugin built against a Distillery.Abstractions or TorchSharp the host cannot
/// serve is refused from its metadata, with one line saying what it wants and what the host has, and never loaded;
/// the other plugins of the same folders load and run.
/// </summary>
public sealed class PluginVersionTests : IDisposable
{
    private readonly HostTempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static Version Abstractions => ContractVersions.Host.Abstractions;
    private static Version TorchSharp => ContractVersions.Host.TorchSharp;

    [Theory]
    [InlineData("1.0", "1.0", true)]
    [InlineData("1.2", "1.1", true)]     // an older minor: every member it knew is still there
    [InlineData("1.2", "1.0", true)]
    [InlineData("1.0", "1.1", false)]    // a newer minor may use members the host lacks
    [InlineData("2.0", "1.0", false)]    // another major: members may be gone
    [InlineData("1.3", "2.0", false)]
    [InlineData("0.107", "0.107", true)]
    [InlineData("0.107", "0.106", false)] // below 1.0 every minor may break the API, so it must match exactly
    [InlineData("0.107", "0.108", false)]
    [InlineData("1.0.0.0", "1.0.7.3", true)] // build and revision do not change the API
    [InlineData("0.107.0.0", "0.107.1.0", true)]
    public void The_rule_same_major_and_no_newer_minor_and_below_one_the_same_minor(string served, string wanted, bool serves)
    {
        ContractVersions.Serves(Version.Parse(served), Version.Parse(wanted)).Should().Be(serves);
    }

    [Fact]
    public void The_host_serves_the_versions_of_the_assemblies_it_loaded()
    {
        ContractVersions.Host.Should().Be(new ContractVersions(
            typeof(IPlugin).Assembly.GetName().Version!, typeof(torch).Assembly.GetName().Version!));
        // TorchSharp 0.107.0's assembly version is 0.107.0.0: major 0, so its minor must match exactly (README, "Adding an algorithm").
        TorchSharp.Major.Should().Be(0);
    }

    [Fact]
    public void Plugins_built_against_a_newer_contracts_minor_or_another_TorchSharp_are_refused_in_one_line_and_a_good_one_loads_and_runs()
    {
        var newerAbstractions = new Version(Abstractions.Major, Abstractions.Minor + 1, 0, 0);
        var olderTorchSharp = new Version(TorchSharp.Major, TorchSharp.Minor - 1, 0, 0);
        var newer = ContractBoundPlugin.Write(_temp.Path, "Acme.NewerContracts", "linear-newer", abstractions: newerAbstractions);
        var oldTorch = ContractBoundPlugin.Write(_temp.Path, "Acme.OldTorch", "linear-old-torch", torchSharp: olderTorchSharp);
        ContractBoundPlugin.Write(Path.Combine(_temp.Path, "Good"), "Acme.Linear", "linear");

        var catalog = PluginCatalog.Load([_temp.Path, TestPaths.HostPluginFolder]);

        catalog.Problems.Select(p => p.ToString()).Should().Equal(
            $"{newer}: Acme.NewerContracts is built against Distillery.Abstractions {newerAbstractions.ToString(2)}, this host serves " +
            $"{Abstractions.ToString(2)}; rebuild the plugin against {Abstractions.ToString(2)} (or use a host that serves {newerAbstractions.ToString(2)})",
            $"{oldTorch}: Acme.OldTorch is built against TorchSharp {olderTorchSharp.ToString(2)}, this host serves " +
            $"{TorchSharp.ToString(2)}; rebuild the plugin against {TorchSharp.ToString(2)} (or use a host that serves {olderTorchSharp.ToString(2)})");
        catalog.Problems.Select(p => p.Warning).Should().AllSatisfy(w => w.Should().StartWith("plugin skipped: "));
        NeverLoaded("Acme.NewerContracts", "Acme.OldTorch");
        catalog.Find(PluginKinds.Kernel, "linear-newer").Should().BeNull();
        catalog.Find(PluginKinds.Kernel, "fc").Should().NotBeNull("the bundled plugins of the next folder load as before");
        ComputesTheLinearKernel(catalog, "linear");
    }

    [Theory]
    [InlineData("my.kernel")] // a dot would split an evaluator's figure names (<name>.testAccuracy) in two
    [InlineData("bad name!")]
    public void A_plugin_whose_name_cannot_name_manifest_entries_and_figures_is_refused_and_the_others_load(string name)
    {
        var dotted = ContractBoundPlugin.Write(_temp.Path, "Acme.Dotted", name);
        ContractBoundPlugin.Write(Path.Combine(_temp.Path, "Good"), "Acme.Linear", "linear");

        var catalog = PluginCatalog.Load([_temp.Path]);

        catalog.Problems.Select(p => p.ToString()).Should().ContainSingle().Which.Should().Be(
            $"{dotted}: kernel name '{name}' cannot be a manifest name: use a letter or digit, then " +
            "letters, digits, '-' and '_', at most 64 characters (its export attribute's name)");
        catalog.Find(PluginKinds.Kernel, name).Should().BeNull();
        ComputesTheLinearKernel(catalog, "linear");
    }

    [Fact]
    public void A_plugin_whose_name_differs_from_a_loaded_one_only_in_case_is_refused_and_the_first_still_runs()
    {
        // Folders are searched in order: the bundled 'fc' first, then the drop-in's "FC" and "Linear" after "linear".
        ContractBoundPlugin.Write(Path.Combine(_temp.Path, "a"), "Acme.Linear", "linear");
        var upper = ContractBoundPlugin.Write(Path.Combine(_temp.Path, "b"), "Acme.Upper", "Linear");
        var fc = ContractBoundPlugin.Write(Path.Combine(_temp.Path, "c"), "Acme.Fc", "FC");

        var catalog = PluginCatalog.Load([TestPaths.HostPluginFolder, _temp.Path]);

        var bundledFc = catalog.Find(PluginKinds.Kernel, "fc")!.SourcePath;
        var linear = catalog.Find(PluginKinds.Kernel, "linear")!.SourcePath;
        catalog.Problems.Select(p => p.ToString()).Should().BeEquivalentTo(
            $"{upper}: kernel 'Linear' differs only in case from 'linear', already provided by {linear}; this one is ignored (rename its export)",
            $"{fc}: kernel 'FC' differs only in case from 'fc', already provided by {bundledFc}; this one is ignored (rename its export)");
        // Only the export is refused, not the file: the warning must not send its author looking for a load failure.
        catalog.Problems.Select(p => p.Warning).Should().AllSatisfy(w => w.Should().StartWith("plugin export ignored: "));
        catalog.Find(PluginKinds.Kernel, "Linear").Should().BeNull();
        catalog.Find(PluginKinds.Kernel, "FC").Should().BeNull();
        ComputesTheLinearKernel(catalog, "linear");
        // A manifest that names the refused export hears why, not only which plugin won the name.
        catalog.UnknownPlugin("kernel.name", PluginKinds.Kernel, "FC").Message.Should().StartWith(
            $"kernel.name: unknown kernel 'FC' (its export was ignored: {fc}: kernel 'FC' differs only in case from 'fc'");
        catalog.UnknownPlugin("kernel.name", PluginKinds.Kernel, "LINEAR").Message.Should().Contain("did you mean 'linear'?");
    }

    [Fact]
    public void A_plugin_built_against_an_older_contracts_minor_loads_and_runs()
    {
        // This build's contracts are the plugin's; a host one minor ahead must still serve it (and the runtime binds it to
        // the contracts it has), while a plugin one minor ahead of that host is refused.
        var host = ContractVersions.Host with { Abstractions = new Version(Abstractions.Major, Abstractions.Minor + 1, 0, 0) };
        var ahead = new Version(Abstractions.Major, Abstractions.Minor + 2, 0, 0);
        ContractBoundPlugin.Write(_temp.Path, "Acme.OlderMinor", "linear-older");
        var refused = ContractBoundPlugin.Write(_temp.Path, "Acme.Ahead", "linear-ahead", abstractions: ahead);

        var catalog = PluginCatalog.Load([_temp.Path], host);

        catalog.Problems.Should().ContainSingle().Which.Path.Should().Be(refused);
        catalog.Problems[0].Reason.Should().Contain($"built against Distillery.Abstractions {ahead.ToString(2)}, this host serves {host.Abstractions.ToString(2)};");
        ComputesTheLinearKernel(catalog, "linear-older");
    }

    [Fact]
    public void A_plugin_built_against_contract_1_0_loads_and_runs_on_this_host()
    {
        // 1.1 added the augmentation; the plugins built before it must keep working, bound to the contract the host has.
        var oneZero = new Version(1, 0, 0, 0);
        Abstractions.Should().BeGreaterThan(oneZero);
        ContractBoundPlugin.Write(_temp.Path, "Acme.OneZero", "linear-one-zero", abstractions: oneZero);

        var catalog = PluginCatalog.Load([_temp.Path]);

        catalog.Problems.Should().BeEmpty();
        ComputesTheLinearKernel(catalog, "linear-one-zero");
    }

    [Fact]
    public void A_plugin_wrong_on_both_contracts_gets_one_line_naming_both()
    {
        var abstractions = new Version(Abstractions.Major + 1, 0, 0, 0);
        var torchSharp = new Version(TorchSharp.Major, TorchSharp.Minor + 1, 0, 0);
        var path = ContractBoundPlugin.Write(_temp.Path, "Acme.Future", "linear-future", abstractions, torchSharp);

        var catalog = PluginCatalog.Load([_temp.Path]);

        catalog.Plugins.Should().BeEmpty();
        catalog.Problems.Should().ContainSingle().Which.Should().Be(new PluginProblem(path,
            $"Acme.Future is built against Distillery.Abstractions {abstractions.ToString(2)} and TorchSharp {torchSharp.ToString(2)}, " +
            $"this host serves Distillery.Abstractions {Abstractions.ToString(2)} and TorchSharp {TorchSharp.ToString(2)}; rebuild the plugin " +
            $"against those (or use a host that serves Distillery.Abstractions {abstractions.ToString(2)} and TorchSharp {torchSharp.ToString(2)})"));
        NeverLoaded("Acme.Future");
    }

    [Fact]
    public void A_refused_copy_does_not_take_the_assembly_name_from_a_good_copy_in_a_later_folder()
    {
        var newer = new Version(Abstractions.Major, Abstractions.Minor + 1, 0, 0);
        ContractBoundPlugin.Write(Path.Combine(_temp.Path, "first"), "Acme.Twice", "linear-twice", abstractions: newer);
        var good = ContractBoundPlugin.Write(Path.Combine(_temp.Path, "second"), "Acme.Twice", "linear-twice");

        var catalog = PluginCatalog.Load([Path.Combine(_temp.Path, "first"), Path.Combine(_temp.Path, "second")]);

        catalog.Problems.Should().ContainSingle().Which.Reason.Should().StartWith("Acme.Twice is built against Distillery.Abstractions");
        catalog.Find(PluginKinds.Kernel, "linear-twice")!.SourcePath.Should().Be(good);
    }

    private static void NeverLoaded(params string[] assemblyNames) =>
        AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).Should().NotContain(assemblyNames,
            "a refused plugin is judged on its metadata and never loaded into the runtime");

    /// <summary>Creates the plugin's kernel through the catalog and checks K = x1·x2ᵀ on two 1×2×2 images, on the host's TorchSharp.</summary>
    private static void ComputesTheLinearKernel(PluginCatalog catalog, string name)
    {
        var plugin = catalog.Find(PluginKinds.Kernel, name);
        plugin.Should().NotBeNull($"kernel '{name}' should load; problems: {string.Join(" | ", catalog.Problems)}");
        var provider = (IKernelProvider)plugin!.Create();
        var run = new RunContext { Device = torch.CPU, DType = torch.ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance };
        var kernel = provider.Create(run, new NoOptions());
        using var scope = torch.NewDisposeScope();
        var images = torch.tensor(new float[] { 1, 2, 3, 4, 0, 1, 0, 1 }).reshape(2, 1, 2, 2);

        kernel.Compute(images, images).data<float>().ToArray().Should().Equal(30f, 6f, 6f, 2f);
    }
}
