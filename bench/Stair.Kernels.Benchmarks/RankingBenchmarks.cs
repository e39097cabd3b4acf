// RankingBenchmarks: full-ranking evaluation of every Baby-shaped user (19,445 users × 7,050
// items, d = 64), Recall and NDCG at K = 10, 20, 50 in one pass, ~8 training items per user
// masked and ~2 relevant items per user; per SIMD tier and a naive baseline (one float dot per
// user–item pair into a full score row, then a full sort of it). A case is "shape/variant".
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class RankingBenchmarks
{
    private const int Width = 64;
    private static readonly int[] Ks = [10, 20, 50];

    private float[] _users = [];
    private float[] _items = [];
    private RankingTargets _targets = null!;
    private CsrMatrix _excluded = null!;
    private CsrMatrix _relevant = null!;
    private CpuOptions _options = CpuOptions.Default;
    private string _variant = "";

    /// <summary>"shape/variant": shape baby or toy; variant naive or a SIMD tier.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "baby/avx512";

    /// <remarks>Set STAIR_RANKING_CASES to a comma-separated list of substrings to run only matching cases.</remarks>
    public static IEnumerable<string> Cases() => BenchCases.Only("STAIR_RANKING_CASES", AllCases());

    /// <summary>The toy shape: 600 users × 300 items (the report's smoke mode).</summary>
    internal const int ToyUsers = 600, ToyItems = 300;

    private static IEnumerable<string> AllCases()
    {
        string[] variants = ["naive", .. BenchCases.Tiers()];
        return BenchCases.Cross(["baby", "toy"], variants);
    }

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        _variant = parts[1];
        DatasetShape shape = parts[0] == "toy" ? new DatasetShape("toy", ToyUsers, ToyItems, 10 * ToyUsers) : DatasetShape.Baby;
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractions(shape.Users, shape.Items, 10 * shape.Users, seed: 2025);
        int training = 8 * shape.Users; // ~8 masked per user, the rest (~2 per user) held out as relevant
        _excluded = GraphBuilder.FromEdges(shape.Users, shape.Items, u[..training], i[..training], [], symmetrize: false, GraphNormalization.None);
        _relevant = GraphBuilder.FromEdges(shape.Users, shape.Items, u[training..], i[training..], [], symmetrize: false, GraphNormalization.None);
        _targets = new RankingTargets(_excluded, _relevant);
        _users = SyntheticGraphs.UniformTable(shape.Users * Width, seed: 3);
        _items = SyntheticGraphs.UniformTable(shape.Items * Width, seed: 4);
        if (_variant != "naive")
        {
            _options = new CpuOptions(Enum.Parse<SimdTier>(_variant, ignoreCase: true));
        }
    }

    [Benchmark]
    [BenchmarkCategory("Evaluate")]
    public RankingMetrics Evaluate()
    {
        if (_variant == "naive")
        {
            return Naive();
        }
        return Ranking.Evaluate(_users, _items, Width, _targets, Ks, _options);
    }

    // One thread per core, a full score row per user, Array.Sort of (−score, item) keys, then the metrics.
    private RankingMetrics Naive()
    {
        int users = _excluded.Rows, items = _excluded.Columns;
        var lists = new int[users * 50];
        Parallel.For(0, users, () => (new float[items], new int[items]), (user, _, scratch) =>
        {
            (float[] keys, int[] order) = scratch;
            for (int i = 0; i < items; i++)
            {
                float s = 0;
                for (int j = 0; j < Width; j++)
                {
                    s += _users[user * Width + j] * _items[i * Width + j];
                }
                keys[i] = -s;
                order[i] = i;
            }
            for (int k = _excluded.RowPointers[user]; k < _excluded.RowPointers[user + 1]; k++)
            {
                keys[_excluded.ColumnIndices[k]] = float.PositiveInfinity;
            }
            Array.Sort(keys, order); // not stable: ties are not broken by index (the baseline's known flaw)
            order.AsSpan(0, 50).CopyTo(lists.AsSpan(user * 50, 50));
            return scratch;
        }, _ => { });
        return Ranking.Metrics(lists, 50, _targets.Relevant, Ks);
    }
}
