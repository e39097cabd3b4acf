// The validate rows of the BPR loss and full ranking (kernels.md, BprLoss), called from
// KernelValidator.Run: every SIMD tier and every ILGPU backend present against the float64
// references in RecommendationReference.
using System.Diagnostics;

namespace Stair.Kernels.Validation;

internal static class RecommendationValidator
{
    // ILGPU's CPU simulator runs every thread: only the small cases.
    private const int SimulatorMaxBatch = 600;

    public static void Run(ValidationOptions options, List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        var bprCases = new List<(string Size, int Users, int Items, int Width, int Batch)> { ("61+37 rows, d=33, B=500 (repeated rows)", 61, 37, 33, 500) };
        if (options.IncludeBabyShape)
        {
            bprCases.Add(("baby 19,445+7,050 rows, d=64, B=1,024", DatasetShape.Baby.Users, DatasetShape.Baby.Items, 64, 1024));
        }
        foreach ((string size, int users, int items, int width, int batch) in bprCases)
        {
            ValidateBpr(size, users, items, width, batch, options, results, progress);
        }
        ValidateRanking(options, results, progress);
    }

    // The error is the worst of |loss − ref| / loss bound and max over elements |g − ref| / element bound:
    // ≤ 1 on the CPU tiers; the ILGPU kernels evaluate σ and softplus in float32, allowed 3× (see the backend tests).
    private static void ValidateBpr(string size, int users, int items, int width, int batch, ValidationOptions options,
        List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        var rng = new SplitMix64(options.Seed + 30);
        float[] table = SyntheticGraphs.UniformTable((users + items) * width, options.Seed + 31);
        var u = new int[batch];
        var p = new int[batch];
        var n = new int[batch];
        for (int t = 0; t < batch; t++)
        {
            u[t] = (int)(rng.NextUInt64() % (ulong)users);
            p[t] = (int)(rng.NextUInt64() % (ulong)items);
            n[t] = (int)(rng.NextUInt64() % (ulong)items);
        }
        BprReferenceResult expected = RecommendationReference.Bpr(table, width, users, u, p, n);
        var gradient = new float[table.Length];

        double Error(double loss, float[] g)
        {
            double worst = expected.LossBound > 0 ? Math.Abs(loss - expected.Loss) / expected.LossBound : 0;
            for (int k = 0; k < g.Length; k++)
            {
                double err = Math.Abs(g[k] - expected.Gradient[k]);
                if (double.IsNaN(err))
                {
                    return double.PositiveInfinity;
                }
                worst = Math.Max(worst, expected.GradientBound[k] > 0 ? err / expected.GradientBound[k] : (err == 0 ? 0 : double.PositiveInfinity));
            }
            return worst;
        }

        if (options.EffectiveBackends.Contains(Backend.Cpu))
        {
            foreach (SimdTier tier in SimdTiers.Supported)
            {
                var cpu = new CpuOptions(tier);
                gradient.AsSpan().Fill(float.NaN); // an element the kernel fails to write cannot pass
                double loss = BprLoss.Compute(table, width, users, u, p, n, gradient, GradientMode.Overwrite, cpu);
                double error = Error(loss, gradient);
                double ms = KernelValidator.MedianMilliseconds(() => BprLoss.Compute(table, width, users, u, p, n, gradient, GradientMode.Accumulate, cpu), options.Repeats);
                Add(new ValidationResult("bpr", "cpu/" + tier.ToString().ToLowerInvariant(), size, error, 1, ms), results, progress);
            }
        }
        foreach (Backend backend in new[] { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            if (!options.EffectiveBackends.Contains(backend) || !BackendDiscovery.IsAvailable(backend) || (backend == Backend.IlgpuCpu && batch > SimulatorMaxBatch))
            {
                continue;
            }
            KernelValidator.Guard("bpr", backend, size, results, progress, () =>
            {
                using ComputeContext context = ComputeContext.Create(backend);
                using DeviceTable e = context.Upload(table, users + items, width);
                using DeviceTable g = context.CreateTable(users + items, width);
                gradient.AsSpan().Fill(float.NaN);
                g.Upload(gradient);
                double loss = context.ComputeBprLoss(e, users, u, p, n, g);
                double error = Error(loss, g.ToArray());
                double ms = KernelValidator.MedianMilliseconds(() => context.ComputeBprLoss(e, users, u, p, n, g, GradientMode.Accumulate), options.Repeats);
                Add(new ValidationResult("bpr", Name(backend), size, error, 3, ms), results, progress);
            });
        }
    }

    // Small-integer embeddings make every score exact in float32 and float64, with many ties: the
    // "error" is the number of users whose top-K list differs from the float64 full sort (must be 0).
    private static void ValidateRanking(ValidationOptions options, List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        const int users = 300, items = 250, width = 24, k = 20;
        var rng = new SplitMix64(options.Seed + 40);
        var table = new float[(users + items) * width];
        for (int x = 0; x < table.Length; x++)
        {
            table[x] = (int)(rng.NextUInt64() % 5) - 2;
        }
        var ptr = new int[users + 1];
        var cols = new List<int>();
        var relevantPtr = new int[users + 1];
        var relevantCols = new List<int>();
        for (int user = 0; user < users; user++)
        {
            for (int i = 0; i < items; i++)
            {
                ulong r = rng.NextUInt64() % 100;
                if (r < 4)
                {
                    cols.Add(i);
                }
                else if (r < 6)
                {
                    relevantCols.Add(i);
                }
            }
            ptr[user + 1] = cols.Count;
            relevantPtr[user + 1] = relevantCols.Count;
        }
        var excluded = new CsrMatrix(users, items, ptr, cols.ToArray(), new float[cols.Count]);
        var relevant = new CsrMatrix(users, items, relevantPtr, relevantCols.ToArray(), new float[relevantCols.Count]);
        var targets = new RankingTargets(excluded, relevant);
        ReadOnlySpan<float> userTable = table.AsSpan(0, users * width), itemTable = table.AsSpan(users * width);
        int[] expected = RecommendationReference.TopK(userTable, itemTable, width, excluded, k);
        (double recall, double ndcg, _) = RecommendationReference.Metrics(expected, k, relevant, k);
        string size = $"{users} users × {items} items, d={width}, K={k} (users differing)";

        if (options.EffectiveBackends.Contains(Backend.Cpu))
        {
            foreach (SimdTier tier in SimdTiers.Supported)
            {
                var cpu = new CpuOptions(tier);
                var lists = new int[users * k];
                Ranking.TopK(userTable, itemTable, width, excluded, k, lists, cpu);
                int differing = 0;
                for (int user = 0; user < users; user++)
                {
                    differing += lists.AsSpan(user * k, k).SequenceEqual(expected.AsSpan(user * k, k)) ? 0 : 1;
                }
                RankingMetrics m = Ranking.Evaluate(table.AsSpan(0, users * width), table.AsSpan(users * width), width, targets, [k], cpu);
                differing += Same(m, recall, ndcg) ? 0 : 1;
                double ms = KernelValidator.MedianMilliseconds(() => Ranking.Evaluate(table.AsSpan(0, users * width), table.AsSpan(users * width), width, targets, [k], cpu), options.Repeats);
                Add(new ValidationResult("ranking", "cpu/" + tier.ToString().ToLowerInvariant(), size, differing, 0, ms), results, progress);
            }
        }
        foreach (Backend backend in new[] { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            if (!options.EffectiveBackends.Contains(backend) || !BackendDiscovery.IsAvailable(backend))
            {
                continue;
            }
            KernelValidator.Guard("ranking", backend, size, results, progress, () =>
            {
                using ComputeContext context = ComputeContext.Create(backend);
                using DeviceTable z = context.Upload(table, users + items, width);
                RankingMetrics m = context.EvaluateRanking(z, users, targets, [k]);
                double ms = KernelValidator.MedianMilliseconds(() => context.EvaluateRanking(z, users, targets, [k]), options.Repeats);
                Add(new ValidationResult("ranking", Name(backend), size.Replace("users differing", "metrics differing"), Same(m, recall, ndcg) ? 0 : 1, 0, ms),
                    results, progress);
            });
        }
    }

    // The metrics are float64 sums of the same terms in the same user order: equal up to the last bits.
    private static bool Same(RankingMetrics m, double recall, double ndcg)
        => Math.Abs(m.Recall[0] - recall) <= 1e-12 && Math.Abs(m.Ndcg[0] - ndcg) <= 1e-12;

    private static string Name(Backend backend) => backend switch
    {
        Backend.Cuda => "cuda",
        Backend.OpenCL => "opencl",
        _ => "ilgpu-cpu",
    };

    private static void Add(ValidationResult result, List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        results.Add(result);
        progress?.Invoke(result);
    }
}
