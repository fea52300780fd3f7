using System.Composition;
using Distillery.Abstractions.Plugins;
using Distillery.Engine.Plugins;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.Extensions.Logging;
using Mono.Cecil;
using TorchSharp;

namespace Distillery.Tests.Host;

/// <summary>
/// Writes a real, tiny third-party kernel plugin — <c>K(x1, x2) = x1·x2ᵀ</c> over flattened images — compiled with
/// Roslyn against the host's own Distillery.Abstractions and TorchSharp, then, when asked, with the version of those
/// references rewritten (Mono.Cecil) to what a plugin built against another release would carry. Only the reference's
/// version number changes: the IL, the export and every member reference stay those of the real contracts, exactly as
/// in a plugin compiled against a release that differs from the host's by members this plugin does not use.
/// </summary>
internal static class ContractBoundPlugin
{
    private const string Source = """
        using Distillery.Abstractions.Plugins;
        using Distillery.Abstractions.Runs;
        using TorchSharp;

        [ExportKernel("KERNEL_NAME", Description = "Linear kernel x1·x2ᵀ of the flattened images (a contract-version test plugin).")]
        public sealed class LinearKernelProvider : IKernelProvider<NoOptions>
        {
            public IKernelFunction Create(RunContext run, NoOptions options) => new LinearKernel();
        }

        public sealed class LinearKernel : IKernelFunction
        {
            public torch.Tensor Compute(torch.Tensor x1, torch.Tensor x2) => x1.flatten(1).matmul(x2.flatten(1).t());
        }
        """;

    // The framework and the shared assemblies the source above needs: the very files this process (like the host) loaded.
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var runtimeFolder = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string[] files =
        [
            typeof(object).Assembly.Location, Path.Combine(runtimeFolder, "System.Runtime.dll"),
            typeof(IPlugin).Assembly.Location, typeof(torch).Assembly.Location,
            typeof(ExportAttribute).Assembly.Location, typeof(ILogger).Assembly.Location,
        ];
        return files.Select(f => (MetadataReference)MetadataReference.CreateFromFile(f)).ToArray();
    });

    /// <summary>
    /// Compiles the plugin as assembly <paramref name="assemblyName"/> exporting kernel <paramref name="kernelName"/> into
    /// <paramref name="folder"/> (created if missing) and returns the DLL's path. <paramref name="abstractions"/> and
    /// <paramref name="torchSharp"/>, when given, replace the version of that assembly reference.
    /// </summary>
    /// <exception cref="InvalidOperationException">Roslyn reported errors (the message lists them).</exception>
    public static string Write(string folder, string assemblyName, string kernelName, Version? abstractions = null, Version? torchSharp = null)
    {
        var compilation = CSharpCompilation.Create(assemblyName,
            [CSharpSyntaxTree.ParseText(Source.Replace("KERNEL_NAME", kernelName))],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        if (!emitted.Success)
            throw new InvalidOperationException("the test plugin does not compile: " +
                string.Join("; ", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        image.Position = 0;

        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, assemblyName + ".dll");
        using var assembly = AssemblyDefinition.ReadAssembly(image);
        foreach (var (name, version) in new[] { (ContractVersions.AbstractionsName, abstractions), (ContractVersions.TorchSharpName, torchSharp) })
            if (version is not null)
                assembly.MainModule.AssemblyReferences.Single(r => r.Name == name).Version = version;
        assembly.Write(path);
        return path;
    }
}
