using System.Diagnostics;
using Distillery.Abstractions.Plugins;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// What a plugin author starts from, set up once for the plugin-kit tests: the contract packed as a NuGet package into
/// <c>artifacts/packages</c> of a stand-in clone of the repository, and the <c>distillery-plugin</c> template installed
/// into a template hive of the test's own (never the user's).
/// </summary>
/// <remarks>
/// The package gets a version of its own per fixture (<see cref="AbstractionsVersion"/>, e.g. 1.0.0-plugintest.20261130.4242):
/// NuGet never re-reads a version its cache already holds, and the user's cache may hold a 1.0.0 packed from an older
/// contract. Builds restore into a private folder (<see cref="RestoreProperties"/>) and take every other package
/// (TorchSharp, …) from the user's cache read-only, so the tests work offline once the repository has been restored
/// and leave the user's cache as it was.
/// </remarks>
public sealed class PluginKitFixture : IDisposable
{
    private readonly ScratchFolder _scratch = new();

    /// <summary>Packs Distillery.Abstractions (from the test build's output, no rebuild) and installs the template.</summary>
    public PluginKitFixture()
    {
        var watch = Stopwatch.StartNew();
        Directory.CreateDirectory(Clone);
        // GetDirectoryNameOfFileAbove in the samples' and the template's csproj finds a clone by this file.
        File.WriteAllText(Path.Combine(Clone, "Framework.sln"), "");
        var version = typeof(IAlgorithm).Assembly.GetName().Version!;
        AbstractionsVersion = $"{version.Major}.{version.Minor}.{version.Build}-plugintest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        DotnetCli.Run(DistilleryProcess.RepositoryRoot, "pack", Path.Combine(DistilleryProcess.RepositoryRoot, "src", "Abstractions"),
            "--no-build", "-c", DistilleryProcess.Configuration, "-o", Packages, $"-p:PackageVersion={AbstractionsVersion}", "-nologo", "-v", "q");
        DotnetCli.Run(_scratch.Path, "new", "install", Path.Combine(DistilleryProcess.RepositoryRoot, "templates", "distillery-plugin"),
            "--debug:custom-hive", TemplateHive);
        SetUpSeconds = watch.Elapsed.TotalSeconds;
    }

    /// <summary>A stand-in for a clone of the repository: a Framework.sln marker and <see cref="Packages"/>.</summary>
    public string Clone => _scratch.Combine("clone");

    /// <summary>The folder holding the packed Distillery.Abstractions .nupkg (the clone's artifacts/packages).</summary>
    public string Packages => Path.Combine(Clone, "artifacts", "packages");

    /// <summary>The version the package was packed with (the assembly's, with a prerelease label of this fixture).</summary>
    public string AbstractionsVersion { get; }

    /// <summary>The isolated template hive the template is installed into (<c>dotnet new --debug:custom-hive</c>).</summary>
    public string TemplateHive => _scratch.Combine("template-hive");

    /// <summary>A fresh folder for a test's own files, inside the fixture's scratch folder.</summary>
    public string NewFolder(string name) => Directory.CreateDirectory(_scratch.Combine(name)).FullName;

    /// <summary>Seconds spent packing and installing the template.</summary>
    public double SetUpSeconds { get; }

    /// <summary>
    /// <c>dotnet build</c> properties that restore into a private packages folder with the user's NuGet cache as a
    /// read-only fallback (see the class remarks).
    /// </summary>
    public string[] RestoreProperties =>
    [
        $"-p:RestorePackagesPath={_scratch.Combine("nuget-packages")}",
        $"-p:RestoreFallbackFolders={UserPackagesFolder}",
    ];

    /// <summary>Runs <c>dotnet new distillery-plugin</c> from the test's hive with <paramref name="arguments"/>.</summary>
    public void NewFromTemplate(string workingDirectory, params string[] arguments) =>
        DotnetCli.Run(workingDirectory, ["new", "distillery-plugin", "--debug:custom-hive", TemplateHive, .. arguments]);

    private static string UserPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public void Dispose() => _scratch.Dispose();
}
