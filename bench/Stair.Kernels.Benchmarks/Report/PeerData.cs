// PeerData: the benchmark report's inputs for the Python peers (bench/peers/peers.py), written by
// the C# side so both sides time the SAME inputs: the suites' own generators and seeds
// (PropagationBenchmarks, WhiteningBenchmarks, KnnGraphBenchmarks), graphs as scipy CSR .npz
// through Stair.Kernels.IO, tables as float32 .npy, and manifest.json listing every case. Each
// case also gets Stair's own output (the CPU kernels at the best tier on every thread) as
// "expected", which the peer script checks every peer against before timing it.
using System.Text.Json;
using System.Text.Json.Serialization;
using Stair.Kernels.IO;

namespace Stair.Kernels.Benchmarks.Report;

/// <summary>One case of the peer comparison: a kernel and a shape, named as in the report.</summary>
/// <param name="Kernel">"SpMM", "FSC", "whitening exact", "whitening randomized" or "kNN top-k".</param>
/// <param name="Shape">SpMM/FSC: "baby", "electronics", "toy"; whitening: "baby-text", "baby-image",
/// "electronics-image"; kNN top-k: "baby-text", "baby-visual", "electronics-text", "electronics-visual", "toy".</param>
public sealed record PeerCase(string Kernel, string Shape);

/// <summary>Options of <see cref="PeerData.Export(string, IEnumerable{PeerCase}, PeerExportOptions)"/>.</summary>
public sealed record PeerExportOptions
{
    /// <summary>Threads the peers may use (null: <see cref="Environment.ProcessorCount"/>).</summary>
    public int? Threads { get; init; }

    /// <summary>Timed repetitions per peer after one warm-up (≥ 1).</summary>
    public int Reps { get; init; } = 5;

    /// <summary>Write Stair's outputs as the expected results the peers are checked against (default true; false skips the C# runs, e.g. for the 63,001-item kNN shapes).</summary>
    public bool Expected { get; init; } = true;
}

/// <summary>Writes the peer comparison's inputs and manifest.</summary>
public static class PeerData
{
    /// <summary>The manifest's file name inside the export folder.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>The manifest's format tag (peers.py refuses any other).</summary>
    public const string Format = "stair-peers/1";

    /// <summary>The kernel names, as the report spells them.</summary>
    public const string Spmm = "SpMM", Fsc = "FSC", WhiteningExact = "whitening exact", WhiteningRandomized = "whitening randomized", KnnTopK = "kNN top-k";

    private static readonly string[] PropagationShapes = ["baby", "electronics", "toy"];
    private static readonly string[] WhiteningShapes = ["baby-text", "baby-text-steep", "baby-text-flat", "baby-image", "electronics-image", "toy"];
    private static readonly string[] KnnShapes = ["baby-text", "baby-visual", "electronics-text", "electronics-visual", "toy"];

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Every supported (kernel, shape) pair.</summary>
    public static IReadOnlyList<PeerCase> SupportedCases { get; } =
    [
        .. PropagationShapes.Select(s => new PeerCase(Spmm, s)),
        .. PropagationShapes.Select(s => new PeerCase(Fsc, s)),
        .. WhiteningShapes.Select(s => new PeerCase(WhiteningExact, s)),
        .. WhiteningShapes.Select(s => new PeerCase(WhiteningRandomized, s)),
        .. KnnShapes.Select(s => new PeerCase(KnnTopK, s)),
    ];

    /// <summary>Exports <paramref name="cases"/> with the default options (threads = processor count, 5 reps, expected outputs written).</summary>
    /// <returns>The full path of manifest.json.</returns>
    public static string Export(string directory, IEnumerable<PeerCase> cases) => Export(directory, cases, new PeerExportOptions());

    /// <summary>
    /// Writes the inputs of <paramref name="cases"/> into <paramref name="directory"/> (created if missing; files of the
    /// same names are replaced) and manifest.json describing them.
    /// </summary>
    /// <returns>The full path of manifest.json.</returns>
    /// <exception cref="ArgumentException">A (kernel, shape) pair is not supported (the message names it), or no case is given.</exception>
    public static string Export(string directory, IEnumerable<PeerCase> cases, PeerExportOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(options);
        int threads = options.Threads ?? Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Reps, 1, nameof(options));
        PeerCase[] list = cases.Distinct().ToArray();
        foreach (PeerCase c in list)
        {
            ArgumentNullException.ThrowIfNull(c, nameof(cases));
            if (!SupportedCases.Contains(c))
            {
                throw new ArgumentException(
                    $"Unsupported peer case ({c.Kernel}, {c.Shape}); supported: {string.Join("; ", SupportedCases.Select(s => $"({s.Kernel}, {s.Shape})"))}.",
                    nameof(cases));
            }
        }
        if (list.Length == 0)
        {
            throw new ArgumentException("No peer case to export.", nameof(cases));
        }

        Directory.CreateDirectory(directory);
        var writer = new Writer(Path.GetFullPath(directory), options.Expected);
        var manifest = new PeerManifest(Format, threads, options.Reps, [.. list.Select(writer.Write)]);
        string path = Path.Combine(writer.Directory, ManifestFileName);
        File.WriteAllText(path, JsonSerializer.Serialize(manifest, Json));
        return path;
    }

    /// <summary>Reads and checks a manifest: format, every case supported, every file it names present.</summary>
    /// <exception cref="FileNotFoundException">The manifest or a file it names is missing.</exception>
    /// <exception cref="InvalidDataException">The manifest is not valid JSON of this format.</exception>
    internal static PeerManifest ReadManifest(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No peer manifest at {path}.", path);
        }
        PeerManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<PeerManifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a peer manifest ({e.Message}).", e);
        }
        if (manifest is null || manifest.Format != Format || manifest.Cases is null || manifest.Threads < 1 || manifest.Reps < 1)
        {
            throw new InvalidDataException($"{path}: not a '{Format}' manifest with threads ≥ 1, reps ≥ 1 and a case list.");
        }
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        foreach (PeerManifestCase c in manifest.Cases)
        {
            if (!SupportedCases.Contains(new PeerCase(c.Kernel, c.Shape)))
            {
                throw new InvalidDataException($"{path}: unsupported case ({c.Kernel}, {c.Shape}).");
            }
            foreach (string? file in c.Files())
            {
                if (file is not null && !File.Exists(Path.Combine(directory, file)))
                {
                    throw new FileNotFoundException($"{path}: case ({c.Kernel}, {c.Shape}) names {file}, which is missing.", Path.Combine(directory, file));
                }
            }
        }
        return manifest;
    }

    // Writes each input once per export (SpMM and FSC of a shape share the graph and the table; the two
    // whitening methods share the features and the exact expected result) and keeps it for the expected runs.
    private sealed class Writer(string directory, bool expected)
    {
        private readonly Dictionary<string, object> _made = [];

        public string Directory { get; } = directory;

        public PeerManifestCase Write(PeerCase c) => c.Kernel switch
        {
            Spmm or Fsc => PropagationCase(c),
            WhiteningExact or WhiteningRandomized => WhiteningCase(c),
            _ => KnnCase(c),
        };

        private PeerManifestCase PropagationCase(PeerCase c)
        {
            const int width = PropagationBenchmarks.Width, layers = PropagationBenchmarks.Layers;
            bool fsc = c.Kernel == Fsc;
            string graphFile = $"graph-{c.Shape}.npz", inputFile = $"table-{c.Shape}-{width}.npy", betaFile = $"beta-{width}.npy";
            CsrMatrix graph = Once(graphFile, () => PropagationBenchmarks.Graph(PropagationBenchmarks.Shape(c.Shape)), g => ScipyNpz.WriteCsr(Path.Combine(Directory, graphFile), g));
            int n = graph.Rows;
            float[] input = Once(inputFile, () => PropagationBenchmarks.Input(n), t => Npy.Write(Path.Combine(Directory, inputFile), t, n, width));
            float[]? beta = fsc ? Once(betaFile, PropagationBenchmarks.Beta, b => Npy.Write(Path.Combine(Directory, betaFile), b, width)) : null;
            string? expectedFile = null;
            if (expected)
            {
                expectedFile = $"stair-{(fsc ? "fsc" : "spmm")}-{c.Shape}.npy";
                var plan = new PropagationPlan(graph);
                var output = new float[n * width];
                if (fsc)
                {
                    Propagation.Fsc(plan, input, output, width, layers, beta, new PropagationWorkspace(n, width));
                }
                else
                {
                    Propagation.Spmm(plan, input, output, width);
                }
                Npy.Write(Path.Combine(Directory, expectedFile), output, n, width);
            }
            return new PeerManifestCase(c.Kernel, c.Shape)
            {
                Source = $"SyntheticGraphs.Adjacency({c.Shape}, seed 2025); UniformTable({n}·{width}, seed 7)" + (fsc ? "; StepwiseWeights.Forward(64, 0.1)" : ""),
                Graph = graphFile,
                Input = inputFile,
                Rows = n,
                Width = width,
                Layers = fsc ? layers : null,
                Beta = fsc ? betaFile : null,
                MaxRowNonZeros = Enumerable.Range(0, n).Max(graph.RowLength),
                Expected = expectedFile,
            };
        }

        private PeerManifestCase WhiteningCase(PeerCase c)
        {
            const int d = WhiteningBenchmarks.Dimension;
            (int items, int columns) = WhiteningBenchmarks.Shape(c.Shape);
            string featuresFile = $"whitening-{c.Shape}.npy";
            float[] features = Once(featuresFile, () => WhiteningBenchmarks.Features(c.Shape), f => Npy.Write(Path.Combine(Directory, featuresFile), f, items, columns));
            string? expectedFile = null, singularFile = null;
            if (expected)
            {
                // Both methods are checked against the exact result (the truth; the randomized one is an approximation of it).
                expectedFile = $"stair-whitening-exact-{c.Shape}.npy";
                singularFile = $"stair-whitening-exact-{c.Shape}-sigma.npy";
                string table = expectedFile, sigma = singularFile;
                Once(expectedFile, () => Whitening.Whiten([new WhiteningModality(features, columns, 1)],
                    new WhiteningOptions { Dimension = d, Method = WhiteningMethod.Exact }).Modalities[0], m =>
                {
                    Npy.Write(Path.Combine(Directory, table), m.Embedding, items, d);
                    Npy.Write(Path.Combine(Directory, sigma), m.SingularValues.ToArray(), m.SingularValues.Count);
                });
            }
            return new PeerManifestCase(c.Kernel, c.Shape)
            {
                Source = $"WhiteningBenchmarks.PowerLawFeatures({items}, {columns}, 2026)",
                Features = featuresFile,
                Items = items,
                Columns = columns,
                Dimension = d,
                Expected = expectedFile,
                ExpectedSingularValues = singularFile,
                ExpectedMethod = expected ? "exact" : null,
            };
        }

        private PeerManifestCase KnnCase(PeerCase c)
        {
            (int items, int columns, int k) = KnnGraphBenchmarks.Shape(c.Shape);
            string featuresFile = $"knn-{c.Shape}.npy";
            float[] features = Once(featuresFile, () => KnnGraphBenchmarks.Features(items, columns), f => Npy.Write(Path.Combine(Directory, featuresFile), f, items, columns));
            string? expectedFile = null;
            if (expected)
            {
                expectedFile = $"stair-knn-{c.Shape}.npy";
                int[] lists = KnnGraph.TopK(items, new KnnModality(features, columns, k));
                Npy.Write(Path.Combine(Directory, expectedFile), lists, items, k);
            }
            return new PeerManifestCase(c.Kernel, c.Shape)
            {
                Source = $"KnnGraphBenchmarks.Features({items}, {columns}): Gaussians, System.Random seed 2025",
                Features = featuresFile,
                Items = items,
                Columns = columns,
                K = k,
                Expected = expectedFile,
            };
        }

        private T Once<T>(string file, Func<T> make, Action<T> write) where T : notnull
        {
            if (_made.TryGetValue(file, out object? made))
            {
                return (T)made;
            }
            T value = make();
            write(value);
            _made[file] = value;
            return value;
        }
    }
}

/// <summary>manifest.json: what peers.py reads (snake_case keys).</summary>
internal sealed record PeerManifest(string Format, int Threads, int Reps, IReadOnlyList<PeerManifestCase> Cases);

/// <summary>One case of manifest.json; file names are relative to the manifest's folder, absent fields do not apply.</summary>
internal sealed record PeerManifestCase(string Kernel, string Shape)
{
    /// <summary>How the inputs were made (generator and seed), for the reader of the report.</summary>
    public string? Source { get; init; }

    /// <summary>SpMM/FSC: the graph, scipy CSR .npz.</summary>
    public string? Graph { get; init; }

    /// <summary>SpMM/FSC: the table, float32 rows × width.</summary>
    public string? Input { get; init; }

    public int? Rows { get; init; }

    public int? Width { get; init; }

    /// <summary>FSC: L.</summary>
    public int? Layers { get; init; }

    /// <summary>FSC: β, float32 of length width.</summary>
    public string? Beta { get; init; }

    /// <summary>SpMM/FSC: the longest row of the graph (the n of the float32 error bound γ_n).</summary>
    public int? MaxRowNonZeros { get; init; }

    /// <summary>Whitening/kNN: the features, float32 items × columns.</summary>
    public string? Features { get; init; }

    public int? Items { get; init; }

    public int? Columns { get; init; }

    /// <summary>Whitening: d.</summary>
    public int? Dimension { get; init; }

    /// <summary>kNN: neighbours per item.</summary>
    public int? K { get; init; }

    /// <summary>Stair's output: SpMM/FSC float32 rows × width; whitening W (items × d, float32); kNN int32 items × k.</summary>
    public string? Expected { get; init; }

    /// <summary>Whitening: Stair's σ_1..σ_d (float64).</summary>
    public string? ExpectedSingularValues { get; init; }

    /// <summary>Whitening: the method that produced <see cref="Expected"/> ("exact").</summary>
    public string? ExpectedMethod { get; init; }

    /// <summary>Every file the case names (null where a field does not apply).</summary>
    public IEnumerable<string?> Files() => [Graph, Input, Beta, Features, Expected, ExpectedSingularValues];
}
