// The peer export: the files the Python side reads are the suites' own inputs, readable with the
// library's readers at the right shapes, and the manifest names them the way the runner accepts.
using System.Text.Json;
using Stair.Kernels.Benchmarks.Report;
using Stair.Kernels.IO;

namespace Stair.Kernels.Benchmarks.Tests;

public sealed class PeerDataTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"stair-peers-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    internal static readonly PeerCase[] ToyCases =
        [new(PeerData.Spmm, "toy"), new(PeerData.Fsc, "toy"), new(PeerData.KnnTopK, "toy")];

    [Fact]
    public void Toy_export_writes_the_suites_inputs_and_stairs_outputs_at_the_right_shapes()
    {
        string manifestPath = PeerData.Export(_folder, ToyCases, new PeerExportOptions { Reps = 3 });
        Assert.Equal(Path.Combine(Path.GetFullPath(_folder), PeerData.ManifestFileName), manifestPath);

        // Graph and table: what PropagationBenchmarks builds for "toy", bit for bit.
        CsrMatrix suiteGraph = PropagationBenchmarks.Graph(PropagationBenchmarks.Toy);
        CsrMatrix graph = ScipyNpz.ReadCsr(Path.Combine(_folder, "graph-toy.npz"));
        Assert.Equal(900, graph.Rows);
        Assert.Equal(900, graph.Columns);
        Assert.Equal(suiteGraph.RowPointers.ToArray(), graph.RowPointers.ToArray());
        Assert.Equal(suiteGraph.ColumnIndices.ToArray(), graph.ColumnIndices.ToArray());
        Stair.Kernels.Tests.Infrastructure.Bits.AssertBitsEqual(suiteGraph.Values.ToArray(), graph.Values.ToArray(), "peer data");
        float[] table = Npy.ReadMatrix(Path.Combine(_folder, "table-toy-64.npy"), out int rows, out int width);
        Assert.Equal((900, 64), (rows, width));
        Stair.Kernels.Tests.Infrastructure.Bits.AssertBitsEqual(PropagationBenchmarks.Input(900), table, "peer data");
        NpyArray beta = Npy.Read(Path.Combine(_folder, "beta-64.npy"));
        Assert.Equal(new[] { 64 }, beta.Shape);
        Stair.Kernels.Tests.Infrastructure.Bits.AssertBitsEqual(PropagationBenchmarks.Beta(), beta.ToFloatArray(), "peer data");

        // Stair's outputs: SpMM and FSC of those inputs, kNN lists as int32 items × k.
        var plan = new PropagationPlan(graph);
        var spmm = new float[900 * 64];
        Propagation.Spmm(plan, table, spmm, 64);
        Stair.Kernels.Tests.Infrastructure.Bits.AssertBitsEqual(spmm, Npy.ReadMatrix(Path.Combine(_folder, "stair-spmm-toy.npy"), out _, out _), "peer data");
        Assert.Equal(new[] { 900, 64 }, Npy.Read(Path.Combine(_folder, "stair-fsc-toy.npy")).Shape);
        float[] knnFeatures = Npy.ReadMatrix(Path.Combine(_folder, "knn-toy.npy"), out int items, out int columns);
        Assert.Equal((200, 48), (items, columns));
        Stair.Kernels.Tests.Infrastructure.Bits.AssertBitsEqual(KnnGraphBenchmarks.Features(200, 48), knnFeatures, "peer data");
        NpyArray lists = Npy.Read(Path.Combine(_folder, "stair-knn-toy.npy"));
        Assert.Equal(NpyDataType.Int32, lists.DataType);
        Assert.Equal(new[] { 200, 5 }, lists.Shape);
        Assert.Equal(KnnGraph.TopK(200, new KnnModality(knnFeatures, 48, 5)), lists.ToInt32Array());

        // The manifest: accepted by the runner's reader, snake_case keys, the shared graph named by both propagation cases.
        PeerManifest manifest = PeerData.ReadManifest(manifestPath);
        Assert.Equal(PeerData.Format, manifest.Format);
        Assert.Equal(Environment.ProcessorCount, manifest.Threads);
        Assert.Equal(3, manifest.Reps);
        Assert.Equal(ToyCases, manifest.Cases.Select(c => new PeerCase(c.Kernel, c.Shape)));
        PeerManifestCase fsc = manifest.Cases[1];
        Assert.Equal("graph-toy.npz", fsc.Graph);
        Assert.Equal("table-toy-64.npy", fsc.Input);
        Assert.Equal("beta-64.npy", fsc.Beta);
        Assert.Equal(64, fsc.Width);
        Assert.Equal(3, fsc.Layers);
        Assert.Equal(manifest.Cases[0].Graph, fsc.Graph);
        Assert.Null(manifest.Cases[0].Beta);
        Assert.Equal(Enumerable.Range(0, 900).Max(graph.RowLength), fsc.MaxRowNonZeros);
        PeerManifestCase knn = manifest.Cases[2];
        Assert.Equal("knn-toy.npy", knn.Features);
        Assert.Equal((200, 48, 5), (knn.Items!.Value, knn.Columns!.Value, knn.K!.Value));
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(manifestPath));
        JsonElement first = json.RootElement.GetProperty("cases")[0];
        Assert.Equal("SpMM", first.GetProperty("kernel").GetString());
        Assert.Equal("stair-spmm-toy.npy", first.GetProperty("expected").GetString());
        Assert.True(first.TryGetProperty("max_row_non_zeros", out _));
        Assert.False(first.TryGetProperty("layers", out _)); // fields that do not apply are absent, not null
    }

    [Fact]
    public void Options_set_threads_and_can_leave_out_the_expected_outputs()
    {
        string manifestPath = PeerData.Export(_folder, [new(PeerData.KnnTopK, "toy")], new PeerExportOptions { Threads = 1, Expected = false });
        PeerManifest manifest = PeerData.ReadManifest(manifestPath);
        Assert.Equal(1, manifest.Threads);
        Assert.Null(manifest.Cases[0].Expected);
        Assert.False(File.Exists(Path.Combine(_folder, "stair-knn-toy.npy")));
    }

    [Theory]
    [InlineData("SpMM", "baby-text")]
    [InlineData("whitening exact", "baby-visual")]
    [InlineData("kNN top-k", "baby")]
    [InlineData("spmm", "baby")]
    [InlineData("BPR", "baby")]
    public void Unsupported_pairs_throw_naming_the_pair(string kernel, string shape)
    {
        var e = Assert.Throws<ArgumentException>(() => PeerData.Export(_folder, [new(PeerData.Spmm, "toy"), new(kernel, shape)]));
        Assert.StartsWith($"Unsupported peer case ({kernel}, {shape})", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_folder)); // checked before anything is written
    }

    [Fact]
    public void Every_pair_of_the_report_contract_is_supported()
    {
        string[] propagation = ["baby", "electronics", "toy"], whitening = ["baby-text", "baby-text-steep", "baby-text-flat", "baby-image", "electronics-image", "toy"];
        PeerCase[] contract =
        [
            .. propagation.Select(s => new PeerCase("SpMM", s)),
            .. propagation.Select(s => new PeerCase("FSC", s)),
            .. whitening.Select(s => new PeerCase("whitening exact", s)),
            .. whitening.Select(s => new PeerCase("whitening randomized", s)),
            .. new[] { "baby-text", "baby-visual", "electronics-text", "electronics-visual", "toy" }.Select(s => new PeerCase("kNN top-k", s)),
        ];
        Assert.Equal(contract.ToHashSet(), PeerData.SupportedCases.ToHashSet());
    }

    [Fact]
    public void A_manifest_naming_a_missing_file_is_refused()
    {
        string manifestPath = PeerData.Export(_folder, [new(PeerData.KnnTopK, "toy")]);
        File.Delete(Path.Combine(_folder, "knn-toy.npy"));
        var e = Assert.Throws<FileNotFoundException>(() => PeerData.ReadManifest(manifestPath));
        Assert.Contains("knn-toy.npy", e.Message, StringComparison.Ordinal);
        File.WriteAllText(manifestPath, "{\"format\": \"other\"}");
        Assert.Throws<InvalidDataException>(() => PeerData.ReadManifest(manifestPath));
    }

}
