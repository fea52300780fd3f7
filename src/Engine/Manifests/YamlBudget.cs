using Distillery.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Distillery.Engine.Manifests;

/// <summary>
/// A YamlDotNet <see cref="IParser"/> that passes the events of another through while counting the nodes the
/// document would have with every alias expanded, and its nesting depth. Aliases make a YAML file's tree grow
/// exponentially with its size ("billion laughs": nine levels of ten aliases each are a billion nodes in under 1 KB),
/// and turning a manifest into JSON expands them; so the count is kept per anchor, and the parse stops with
/// <see cref="DistilleryException"/> as soon as the expanded total passes <see cref="MaxNodes"/> or the depth passes
/// <see cref="MaxDepth"/> — before anything is expanded. Memory stays proportional to the file.
/// </summary>
public sealed class YamlBudget(IParser inner, string path) : IParser
{
    /// <summary>The most nodes (scalars, lists, mappings) a manifest may have with aliases expanded; real ones have under 200.</summary>
    public const long MaxNodes = 100_000;

    /// <summary>The deepest nesting of lists and mappings, as System.Text.Json allows for JSON by default.</summary>
    public const int MaxDepth = 64;

    private readonly Dictionary<string, long> _anchorSizes = new(StringComparer.Ordinal);
    private readonly Stack<OpenCollection> _open = new();
    private long _total;

    /// <summary>A list or mapping being parsed: its anchor, if any, and its expanded node count so far (itself included).</summary>
    private sealed class OpenCollection(string? anchor)
    {
        public string? Anchor { get; } = anchor;
        public long Size { get; set; } = 1;
    }

    /// <inheritdoc />
    public ParsingEvent? Current => inner.Current;

    /// <summary>Moves to the next event, counting it; throws <see cref="DistilleryException"/> once a limit is passed.</summary>
    public bool MoveNext()
    {
        if (!inner.MoveNext()) return false;
        switch (inner.Current)
        {
            case Scalar scalar:
                Add(1, scalar);
                if (!scalar.Anchor.IsEmpty) _anchorSizes[scalar.Anchor.Value] = 1;
                break;
            case AnchorAlias alias:
                // An unknown anchor is the parser's error to report; count it as one node meanwhile.
                Add(_anchorSizes.GetValueOrDefault(alias.Value.Value, 1), alias);
                break;
            case NodeEvent collection and (SequenceStart or MappingStart):
                Add(1, collection);
                if (_open.Count >= MaxDepth)
                    throw new DistilleryException($"{path}: YAML nested more than {MaxDepth} levels deep (line {collection.Start.Line}); refused");
                _open.Push(new OpenCollection(collection.Anchor.IsEmpty ? null : collection.Anchor.Value));
                break;
            case SequenceEnd or MappingEnd:
                var closed = _open.Pop();
                if (_open.TryPeek(out var parent)) parent.Size += closed.Size;
                if (closed.Anchor is not null) _anchorSizes[closed.Anchor] = closed.Size;
                break;
        }
        return true;
    }

    /// <summary>Counts <paramref name="size"/> expanded nodes in the document and in the innermost open collection.</summary>
    private void Add(long size, ParsingEvent at)
    {
        _total += size;
        if (_total > MaxNodes)
            throw new DistilleryException(
                $"{path}: YAML has more than {MaxNodes:N0} nodes with its aliases expanded (line {at.Start.Line}); refused (aliases that repeat aliases grow exponentially)");
        // A collection's own node is in its OpenCollection from the start; its parent gets it, with the rest, on closing.
        if (at is not (SequenceStart or MappingStart) && _open.TryPeek(out var innermost)) innermost.Size += size;
    }
}
