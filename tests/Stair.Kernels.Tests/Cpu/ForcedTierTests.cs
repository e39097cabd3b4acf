// A forced SIMD tier runs that tier's code and no other, in every CPU kernel family. Every
// kernel body is entered through SimdDispatch (Cpu/Simd/SimdVectors.cs), which records the
// tier of the vector types that actually run (the dense product's generated tiles record
// theirs); a family that ignored the tier, or picked the width by testing the hardware, would
// record a tier other than the forced one. The record is process-wide, so these tests run
// alone (a collection without parallelization).
using Stair.Kernels.Cpu.Dense;
using Stair.Kernels.Cpu.Simd;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Tests.Cpu;

[CollectionDefinition(nameof(SimdDispatchRecordCollection), DisableParallelization = true)]
public sealed class SimdDispatchRecordCollection
{
}

[Collection(nameof(SimdDispatchRecordCollection))]
public unsafe class ForcedTierTests
{
    // Odd sizes, so every tier also runs its narrower tails.
    private const int D = 37, Users = 23, Items = 31, Layers = 2;

    public static TheoryData<string, SimdTier> Cases()
    {
        var data = new TheoryData<string, SimdTier>();
        string[] families =
        [
            "spmm", "fsc", "fsc-backward", "bpr", "adamw", "bsc-adamw", "knn",
            "whitening-exact", "whitening-randomized", "eigensolver", "dense", "ranking", "ranking-topk",
        ];
        foreach (string family in families)
        {
            foreach (SimdTier tier in new[] { SimdTier.Scalar, SimdTier.Avx2, SimdTier.Avx512 })
            {
                data.Add(family, tier);
            }
        }
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void A_forced_tier_runs_only_its_own_code(string family, SimdTier tier)
    {
        TierCoverage.SkipUnlessHardware(tier);
        var options = new CpuOptions(tier, 2);
        Action run = Family(family, options);
        _ = SimdDispatch.TakeExecuted();
        run();
        int executed = SimdDispatch.TakeExecuted();
        Assert.True(executed == 1 << (int)tier, $"{family} forced to {tier} ran the code of: {Describe(executed)}");
    }

    [Fact]
    public void The_record_names_the_tier_of_the_vector_types_that_ran()
    {
        _ = SimdDispatch.TakeExecuted();
        var kernel = new NothingKernel();
        SimdDispatch.Run(SimdTier.Scalar, ref kernel);
        Assert.Equal(1 << (int)SimdTier.Scalar, SimdDispatch.TakeExecuted());
        Assert.Equal(0, SimdDispatch.TakeExecuted());
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            var k = new NothingKernel();
            SimdDispatch.Run(SimdTier.Auto, ref k);
        });
    }

    private struct NothingKernel : ISimdKernel
    {
        public void Run<TFloat, TDouble>()
            where TFloat : struct, IFloatVector<TFloat>
            where TDouble : struct, IDoubleVector<TDouble>
        {
        }
    }

    private static string Describe(int mask)
    {
        var tiers = Enum.GetValues<SimdTier>().Where(t => (mask & (1 << (int)t)) != 0).ToList();
        return tiers.Count == 0 ? "nothing recorded" : string.Join(", ", tiers);
    }

    // Builds the inputs outside the recorded window and returns the call to record.
    private static Action Family(string family, CpuOptions options)
    {
        CsrMatrix graph = TestGraphs.Square("hub");
        float[] x = TestGraphs.Table(graph.Rows, D, seed: 5);
        float[] y = new float[x.Length];
        float[] beta = StepwiseWeights.Forward(D, 0.3);
        float[] embeddings = TestGraphs.Table(Users + Items, D, seed: 7);
        float[] table = TestGraphs.Table(Items, D, seed: 11), gradient = TestGraphs.Table(Items, D, seed: 13);
        var rng = new Random(3);
        int[] u = Enumerable.Range(0, 60).Select(_ => rng.Next(Users)).ToArray();
        int[] p = Enumerable.Range(0, 60).Select(_ => rng.Next(Items)).ToArray();
        int[] n = Enumerable.Range(0, 60).Select(_ => rng.Next(Items)).ToArray();
        CsrMatrix interactions = GraphBuilder.FromEdges(Users, Items, u, p, [], symmetrize: false, GraphNormalization.None);
        float[] text = TestGraphs.Table(Items, 13, seed: 17), image = TestGraphs.Table(Items, 50, seed: 19);
        WhiteningModality[] modalities = [new(text, 13, 2.0, "text"), new(image, 50, 1.0, "image")];
        KnnModality[] knn = [new(text, 13, 4), new(image, 50, 3)];
        switch (family)
        {
            case "spmm":
            {
                var plan = new PropagationPlan(graph, options);
                return () => Kernels.Propagation.Spmm(plan, x, y, D);
            }
            case "fsc":
            {
                var plan = new PropagationPlan(graph, options);
                var workspace = new PropagationWorkspace(graph.Rows, D);
                return () => Kernels.Propagation.Fsc(plan, x, y, D, Layers, beta, workspace);
            }
            case "fsc-backward":
            {
                var plan = new PropagationPlan(graph, options);
                var workspace = new PropagationWorkspace(graph.Rows, D);
                float[] sparse = new float[x.Length];
                x.AsSpan(0, 3 * D).CopyTo(sparse); // a row-sparse seed: the zero-row marking runs too
                return () => Kernels.Propagation.FscBackward(plan, sparse, y, D, Layers, beta, workspace);
            }
            case "bpr":
            {
                var grad = new float[embeddings.Length];
                return () => Kernels.BprLoss.Compute(embeddings, D, Users, u, p, n, grad, GradientMode.Overwrite, options);
            }
            case "adamw":
            {
                var state = new AdamState(Items, D);
                var adam = new AdamWOptions(0.01f, WeightDecay: 0.1f, Clip: UpdateClip.RowNorm(0.02f));
                return () => Kernels.EmbeddingUpdate.AdamWStep(table, gradient, state, adam, options);
            }
            case "bsc-adamw":
            {
                var state = new AdamState(Items, D);
                CsrMatrix knnGraph = Kernels.KnnGraph.Build(Items, knn, options);
                var knnPlan = new PropagationPlan(knnGraph, options);
                var bsc = new BscWorkspace(Items, D);
                float[] strengths = StepwiseWeights.Backward(D, 0.5);
                var adam = new AdamWOptions(0.01f, WeightDecay: 0.1f, Clip: UpdateClip.Element(0.001f));
                return () => Kernels.EmbeddingUpdate.BscAdamWStep(table, gradient, state, knnPlan, strengths, 2, bsc, adam);
            }
            case "knn":
                return () => Kernels.KnnGraph.Build(Items, knn, options);
            case "whitening-exact":
                return () => Kernels.Whitening.Whiten(modalities, new WhiteningOptions { Dimension = 9 }, options);
            case "whitening-randomized":
            {
                var randomized = new WhiteningOptions { Dimension = 9, Method = WhiteningMethod.Randomized, Oversampling = 4 };
                return () => Kernels.Whitening.Whiten(modalities, randomized, options);
            }
            case "eigensolver":
            {
                const int Order = 19;
                double[] a = new double[Order * Order];
                for (int i = 0; i < Order; i++)
                {
                    for (int j = 0; j < Order; j++)
                    {
                        a[i * Order + j] = 1.0 / (1 + i + j) + (i == j ? i : 0);
                    }
                }
                return () => SymmetricEigensolver.Top(a, Order, 7, options.Tier);
            }
            case "dense":
                return () =>
                {
                    var c = new float[Users * Items];
                    fixed (float* pa = embeddings, pc = c)
                    {
                        DenseProduct.MultiplyTransposed(options.Tier, 2, pa, D, pa + Users * D, D, pc, Items, Users, Items, D);
                    }
                };
            case "ranking":
            {
                var targets = new RankingTargets(interactions, interactions);
                return () => Kernels.Ranking.Evaluate(embeddings.AsSpan(0, Users * D), embeddings.AsSpan(Users * D), D, targets, [1, 5], options);
            }
            case "ranking-topk":
            {
                var top = new int[Users * 5];
                return () => Kernels.Ranking.TopK(embeddings.AsSpan(0, Users * D), embeddings.AsSpan(Users * D), D, interactions, 5, top, options);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown kernel family.");
        }
    }
}
