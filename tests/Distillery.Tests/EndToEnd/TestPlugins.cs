namespace Distillery.Tests.EndToEnd;

/// <summary>Builds a third-party plugin project of tests/ into a folder, as its author would with `dotnet build -o`.</summary>
internal static class TestPlugins
{
    /// <param name="project">The project folder under tests/, e.g. "SamplePlugin"; its .csproj is the only one there.</param>
    /// <param name="outputFolder">Where the plugin DLL and its dependencies go.</param>
    public static void Build(string project, string outputFolder)
    {
        var csproj = Directory.GetFiles(Path.Combine(DistilleryProcess.RepositoryRoot, "tests", project), "*.csproj").Single();
        DotnetCli.Run(DistilleryProcess.RepositoryRoot, "build", csproj, "-o", outputFolder, "-nologo", "-v", "q");
    }
}
