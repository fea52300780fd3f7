using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Distillery.Tests.Numerics;

/// <summary>
/// Finds, by reading IL, every place where code hands libtorch a native <c>TorchSharp.Scalar</c> that nothing keeps
/// alive. In TorchSharp 0.107 a Scalar is a raw native pointer with a finalizer and no dispose scope: a temporary
/// one (from an implicit <c>double → Scalar</c> conversion, or made inside TorchSharp, e.g. the alpha 1 of
/// <c>Tensor.add(Tensor)</c>) is unreachable as soon as its handle is read, so a garbage collection started by
/// another thread during the native call can free it while libtorch still reads it ("Unknown scalar type", or a
/// silently wrong value).
/// <para>
/// A call is an offence when its target is an implicit conversion to Scalar, a <c>ToScalar</c> whose result is not
/// stored (so a <c>using</c> or a field can hold it), or a TorchSharp method that does either, directly or through
/// the TorchSharp methods and lambdas it calls. Limit: calls dispatched virtually (a module's <c>forward</c>, an
/// optimiser's <c>step</c>) are followed only to the declared method, not to its overrides.
/// </para>
/// </summary>
internal sealed class ScalarTemporaryScanner : IDisposable
{
    private const string ScalarType = "TorchSharp.Scalar";
    private readonly DefaultAssemblyResolver _resolver = new();
    private readonly Dictionary<MethodDefinition, bool> _makesTemporary = new();

    /// <param name="assemblyFolder">Where TorchSharp.dll and the scanned assemblies' other references are.</param>
    public ScalarTemporaryScanner(string assemblyFolder) => _resolver.AddSearchDirectory(assemblyFolder);

    /// <summary>Every offending call in the assembly at <paramref name="assemblyPath"/>, as "Type.Method → callee".</summary>
    public IReadOnlyList<string> Offences(string assemblyPath)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath, new ReaderParameters { AssemblyResolver = _resolver });
        var offences = new List<string>();
        foreach (var type in module.GetTypes())
            foreach (var method in type.Methods.Where(m => m.HasBody))
                foreach (var callee in OffendingCalls(method))
                    offences.Add($"{Describe(method)} → {callee.DeclaringType.Name}.{callee.Name}");
        return offences;
    }

    /// <summary>
    /// True when the <c>forward</c> that a module of <paramref name="moduleType"/> runs (its own or the nearest base
    /// class's) hands libtorch an unheld Scalar: the virtual call <c>module.call(x)</c> is not followed otherwise.
    /// </summary>
    public bool ForwardMakesTemporary(Type moduleType)
    {
        var assembly = _resolver.Resolve(AssemblyNameReference.Parse(moduleType.Assembly.FullName));
        for (var type = assembly.MainModule.GetType(moduleType.FullName!.Split('`')[0] + (moduleType.IsGenericType ? "`" + moduleType.GetGenericArguments().Length : ""));
             type is not null; type = type.BaseType?.Resolve())
        {
            var forward = type.Methods.Where(m => m.Name == "forward" && m.HasBody).ToList();
            if (forward.Count > 0) return forward.Any(MakesTemporary);
        }
        throw new ArgumentException($"{moduleType} has no forward with a body");
    }

    private IEnumerable<MethodReference> OffendingCalls(MethodDefinition method)
    {
        foreach (var instruction in method.Body.Instructions)
        {
            if (instruction.Operand is not MethodReference callee || !IsCall(instruction.OpCode)) continue;
            if (CreatesUnheldScalar(instruction, callee)) yield return callee;
            else if (TorchSharpTarget(callee) is { } target && MakesTemporary(target)) yield return callee;
        }
    }

    /// <summary>True when a TorchSharp method (or what it calls within TorchSharp) hands libtorch an unheld Scalar.</summary>
    private bool MakesTemporary(MethodDefinition method)
    {
        if (_makesTemporary.TryGetValue(method, out var known)) return known;
        _makesTemporary[method] = false; // a cycle adds nothing
        var result = method.HasBody && method.Body.Instructions.Any(i =>
            i.Operand is MethodReference callee && IsCall(i.OpCode) &&
            (CreatesUnheldScalar(i, callee) ||
             (TorchSharpTarget(callee) is { } target && MakesTemporary(target))));
        return _makesTemporary[method] = result;
    }

    /// <summary>An implicit conversion to Scalar, or a ToScalar whose result is not stored for a later Dispose.</summary>
    private static bool CreatesUnheldScalar(Instruction call, MethodReference callee)
    {
        if (callee.ReturnType.FullName != ScalarType || !callee.HasParameters || callee.HasThis) return false;
        if (callee.Name == "op_Implicit") return true;
        return callee.Name.StartsWith("To", StringComparison.Ordinal) && !IsStore(call.Next?.OpCode);
    }

    /// <summary>The called method's definition when it is TorchSharp's (null for any other assembly's).</summary>
    private static MethodDefinition? TorchSharpTarget(MethodReference callee)
    {
        var scope = callee.DeclaringType.Scope.Name;
        if (scope != "TorchSharp" && scope != "TorchSharp.dll") return null;
        return callee.Resolve();
    }

    private static bool IsCall(OpCode code) =>
        code == OpCodes.Call || code == OpCodes.Callvirt || code == OpCodes.Newobj || code == OpCodes.Ldftn || code == OpCodes.Ldvirtftn;

    private static bool IsStore(OpCode? code) => code is { } c &&
        (c.Code is Code.Stloc or Code.Stloc_S or Code.Stloc_0 or Code.Stloc_1 or Code.Stloc_2 or Code.Stloc_3
             or Code.Stfld or Code.Stsfld);

    private static string Describe(MethodDefinition method)
    {
        var type = method.DeclaringType;
        while (type.DeclaringType is not null && type.Name.Contains('<')) type = type.DeclaringType; // lambdas, iterators
        return $"{type.FullName}.{method.Name}";
    }

    public void Dispose() => _resolver.Dispose();
}
