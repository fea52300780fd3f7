using System.Diagnostics;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// The README's test command, tools/test.sh: it installs the missing packages of tools/test-packages.txt with apt-get
/// (through sudo when not root), then runs dotnet test; .ci/run runs the same script. The script runs here with
/// stand-ins for dpkg-query, apt-get, sudo and dotnet on PATH that record how they were called.
/// </summary>
public sealed class TestScriptTests
{
    private static string Script => Path.Combine(DistilleryProcess.RepositoryRoot, "tools", "test.sh");

    /// <summary>The packages tools/test-packages.txt lists: the first word of each line, comments after # left out.</summary>
    private static string[] Packages => File.ReadAllLines(Path.Combine(DistilleryProcess.RepositoryRoot, "tools", "test-packages.txt"))
        .Select(line => line.Split('#')[0].Trim())
        .Where(line => line.Length > 0)
        .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0])
        .ToArray();

    /// <summary>Runs tools/test.sh with the stand-ins; <paramref name="installed"/> packages are reported installed.</summary>
    private static (int ExitCode, string[] Calls) RunScript(ScratchFolder scratch, string[] installed, params string[] arguments)
    {
        var bin = scratch.Combine("bin");
        var log = scratch.Combine("calls.log");
        Directory.CreateDirectory(bin);
        void StandIn(string name, string body)
        {
            var path = Path.Combine(bin, name);
            File.WriteAllText(path, $"#!/usr/bin/env bash\n{body}\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        StandIn("dpkg-query", $"for p in {string.Join(' ', installed)}; do [ \"${{@: -1}}\" = \"$p\" ] && printf 'install ok installed' && exit 0; done; exit 1");
        StandIn("apt-get", $"echo \"apt-get $*\" >> {log}");
        StandIn("sudo", $"echo \"sudo\" >> {log}; exec \"$@\"");
        StandIn("dotnet", $"echo \"dotnet $*\" >> {log}");

        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[Script, .. arguments]) start.ArgumentList.Add(argument);
        start.Environment["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}";
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, File.Exists(log) ? File.ReadAllLines(log) : []);
    }

    [Fact]
    public void Missing_packages_are_installed_before_the_tests_run()
    {
        using var scratch = new ScratchFolder();

        Packages.Should().Contain(["dataset-fashion-mnist", "chromium"]);
        var (exitCode, calls) = RunScript(scratch, installed: [.. Packages.Where(p => p != "dataset-fashion-mnist")], "--filter", "FullyQualifiedName~Foo");

        exitCode.Should().Be(0);
        var withoutSudo = calls.Where(c => c != "sudo").ToArray();
        withoutSudo.Should().Equal(
            "apt-get update -qq",
            "apt-get install -y -qq dataset-fashion-mnist",
            "dotnet test Framework.sln --filter FullyQualifiedName~Foo");
    }

    [Fact]
    public void With_every_package_installed_only_the_tests_run()
    {
        using var scratch = new ScratchFolder();

        var (exitCode, calls) = RunScript(scratch, installed: Packages);

        exitCode.Should().Be(0);
        calls.Should().Equal("dotnet test Framework.sln");
    }

    [Fact]
    public void The_readme_and_ci_use_the_script()
    {
        var root = DistilleryProcess.RepositoryRoot;
        File.ReadAllText(Path.Combine(root, "README.md")).Should().Contain("tools/test.sh                                                    # the tests");
        File.ReadAllLines(Path.Combine(root, ".ci", "run")).Should().Contain("tools/test.sh");
    }
}
