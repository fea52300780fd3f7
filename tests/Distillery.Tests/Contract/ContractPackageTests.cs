using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Distillery.Abstractions.Plugins;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Contract;

/// <summary>
/// The plugin contract as the build publishes it: the Distillery.Abstractions package that every build writes to
/// artifacts/packages/. It must hold the assembly this build compiled, its XML docs with a doc for every public member,
/// the package README and the licence, under the version the assembly carries.
/// </summary>
public sealed class ContractPackageTests
{
    private const string PackageId = "Distillery.Abstractions";
    private const string LibFolder = "lib/net10.0/";
    private static readonly Assembly Contract = typeof(IPlugin).Assembly;

    /// <summary>The contract's semantic version: its informational version without build metadata (SourceLink appends "+commit").</summary>
    private static string ContractVersion =>
        Contract.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    private static string PackagePath =>
        Path.Combine(DistilleryProcess.RepositoryRoot, "artifacts", "packages", $"{PackageId}.{ContractVersion}.nupkg");

    private static ZipArchive OpenPackage()
    {
        File.Exists(PackagePath).Should().BeTrue($"the build packs the contract into {PackagePath}");
        return ZipFile.OpenRead(PackagePath);
    }

    private static byte[] Read(ZipArchive package, string entryName)
    {
        var entry = package.GetEntry(entryName);
        entry.Should().NotBeNull($"the package should contain {entryName}; it has {string.Join(", ", package.Entries.Select(e => e.FullName))}");
        using var stream = entry!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public void The_package_carries_the_assemblys_version_and_its_metadata()
    {
        using var package = OpenPackage();
        var nuspec = XDocument.Load(new MemoryStream(Read(package, $"{PackageId}.nuspec"))); // UTF-8 with a byte-order mark
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

        Field("id").Should().Be(PackageId);
        Field("version").Should().Be(ContractVersion);
        ContractVersion.Should().MatchRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", "the contract follows semantic versioning");
        var numbers = ContractVersion.Split('-')[0].Split('.').Select(int.Parse).ToArray();
        Contract.GetName().Version.Should().Be(new Version(numbers[0], numbers[1], numbers[2], 0),
            "plugins compile against the assembly version, which must follow the package version");

        var license = metadata.Elements().Single(e => e.Name.LocalName == "license");
        (license.Attribute("type")?.Value, license.Value).Should().Be(("expression", "MIT"));
        Field("readme").Should().Be("README.md");
        Field("description").Should().Contain("plugin contract");
        metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("type")!.Value.Should().Be("git");
    }

    [Fact]
    public void The_package_holds_the_assembly_this_build_compiled()
    {
        using var package = OpenPackage();
        using var reader = new PEReader(new MemoryStream(Read(package, $"{LibFolder}{PackageId}.dll")));
        var metadata = reader.GetMetadataReader();

        metadata.GetString(metadata.GetAssemblyDefinition().Name).Should().Be(PackageId);
        metadata.GetAssemblyDefinition().Version.Should().Be(Contract.GetName().Version);
        // The module version id changes with every compilation that changes the assembly: a stale package fails here.
        metadata.GetGuid(metadata.GetModuleDefinition().Mvid).Should().Be(Contract.ManifestModule.ModuleVersionId);
    }

    [Fact]
    public void The_package_has_its_readme_and_the_repositorys_licence()
    {
        using var package = OpenPackage();
        var readme = System.Text.Encoding.UTF8.GetString(Read(package, "README.md"));
        readme.Should().Be(File.ReadAllText(Path.Combine(DistilleryProcess.RepositoryRoot, "src", "Abstractions", "README.md")));
        readme.Should().Contain("Checkpoint on cancellation").And.Contain("generators by purpose").And.Contain("Evaluation with the initial draw")
            .And.Contain("ExcludeAssets=\"runtime;native\"").And.Contain("PublicAPI.Shipped.txt");

        var licence = System.Text.Encoding.UTF8.GetString(Read(package, "LICENSE"));
        licence.Should().Be(File.ReadAllText(Path.Combine(DistilleryProcess.RepositoryRoot, "LICENSE")));
        licence.Should().StartWith("MIT License");
    }

    [Fact]
    public void Every_public_member_of_the_contract_has_a_doc_in_the_packaged_xml()
    {
        using var package = OpenPackage();
        var docs = XDocument.Load(new MemoryStream(Read(package, $"{LibFolder}{PackageId}.xml")));
        var documented = docs.Descendants("member")
            .Where(m => m.Elements().Any(e => e.Name == "inheritdoc") || !string.IsNullOrWhiteSpace(m.Value))
            .Select(m => m.Attribute("name")!.Value)
            .ToHashSet(StringComparer.Ordinal);

        var members = PublicMembers(Contract).ToList();
        members.Should().HaveCountGreaterThan(200, "the contract's surface is read by reflection (sanity check of the reader)");
        members.Should().Contain("M:Distillery.Abstractions.Runs.RunContext.CreateGenerator(System.String,System.Int64)");
        members.Should().Contain("M:Distillery.Abstractions.Plugins.IRedrawableKernel.Redraw(TorchSharp.torch.Generator)");
        members.Where(id => !documented.Contains(id)).Should().BeEmpty("every public type and member of the contract needs a doc comment");
    }

    /// <summary>
    /// The documentation ids (ECMA-334 annex D, as the compiler writes them) of every public or protected type and member
    /// declared in <paramref name="assembly"/>, without what the compiler generates: record members, property and event
    /// accessors (documented with their property or event) and the implicit parameterless constructor.
    /// </summary>
    private static IEnumerable<string> PublicMembers(Assembly assembly)
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetExportedTypes())
        {
            var typeName = TypeName(type);
            yield return "T:" + typeName;
            var constructors = type.GetConstructors(declared).Where(Visible).ToList();
            foreach (var member in type.GetMembers(declared))
            {
                if (member.IsDefined(typeof(CompilerGeneratedAttribute))) continue;
                switch (member)
                {
                    case ConstructorInfo constructor when Visible(constructor) && !(constructors.Count == 1 && constructor.GetParameters().Length == 0):
                        yield return $"M:{typeName}.#ctor{Parameters(constructor)}";
                        break;
                    case MethodInfo method when Visible(method) && !IsAccessor(method):
                        yield return $"M:{typeName}.{method.Name}{(method.IsGenericMethod ? "``" + method.GetGenericArguments().Length : "")}{Parameters(method)}";
                        break;
                    case PropertyInfo property when (property.GetMethod ?? property.SetMethod) is { } accessor && Visible(accessor):
                        yield return $"P:{typeName}.{property.Name}{(property.GetIndexParameters() is { Length: > 0 } index ? Parameters(index) : "")}";
                        break;
                    case FieldInfo field when Visible(field) && !field.IsSpecialName:
                        yield return $"F:{typeName}.{field.Name}";
                        break;
                    case EventInfo @event when @event.AddMethod is { } add && Visible(add):
                        yield return $"E:{typeName}.{@event.Name}";
                        break;
                }
            }
        }
    }

    private static bool Visible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static bool Visible(FieldInfo field) => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly;

    private static bool IsAccessor(MethodInfo method) =>
        method.IsSpecialName && (method.Name.StartsWith("get_") || method.Name.StartsWith("set_") || method.Name.StartsWith("add_") || method.Name.StartsWith("remove_"));

    private static string Parameters(MethodBase method) => Parameters(method.GetParameters());

    private static string Parameters(ParameterInfo[] parameters) =>
        parameters.Length == 0 ? "" : "(" + string.Join(",", parameters.Select(p => TypeName(p.ParameterType))) + ")";

    /// <summary>A type as documentation ids write it: nested types joined by '.', generic arguments in braces, ` and `` for type parameters.</summary>
    private static string TypeName(Type type)
    {
        if (type.IsByRef) return TypeName(type.GetElementType()!) + "@";
        if (type.IsArray) return TypeName(type.GetElementType()!) + "[]";
        if (type.IsGenericParameter) return (type.DeclaringMethod is null ? "`" : "``") + type.GenericParameterPosition;
        if (type.IsConstructedGenericType)
        {
            var definition = TypeName(type.GetGenericTypeDefinition());
            return definition[..definition.LastIndexOf('`')] + "{" + string.Join(",", type.GetGenericArguments().Select(TypeName)) + "}";
        }
        return type.FullName!.Replace('+', '.');
    }
}
