namespace Distillery.Engine.Plugins;

/// <summary>
/// Decides which files in a plugin folder are plugin entry assemblies. A DLL directly in the folder is a plugin;
/// in a sub-folder, the DLLs that have a .deps.json beside them are the plugins (the rest are their
/// dependencies), or every DLL when none has one.
/// </summary>
public static class PluginAssemblyFinder
{
    public static IEnumerable<string> FindEntryAssemblies(string root)
    {
        foreach (var file in Directory.EnumerateFiles(root, "*.dll").Order(StringComparer.Ordinal))
            yield return file;

        foreach (var folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var dlls = Directory.EnumerateFiles(folder, "*.dll").Order(StringComparer.Ordinal).ToList();
            var withDeps = dlls.Where(d => File.Exists(Path.ChangeExtension(d, ".deps.json"))).ToList();
            foreach (var dll in withDeps.Count > 0 ? withDeps : dlls)
                yield return dll;
        }
    }
}
