// One rank of the distributed training-step test (mpiexec runs it; DistributedTests starts the job):
// every rank runs the single-process step on the whole table (FSC, BPR, FSC backward, AdamW for users,
// BSC-smoothed and row-clipped AdamW for items) and the distributed step on its rows, for several
// steps, and compares its rows of the table, the moments and every loss bit for bit. The batch repeats
// users and items (a hub), S̃ is not symmetric and has empty rows, d is not a multiple of 16. A last
// step with a NaN on one rank's gradient must be skipped on every rank, as one process skips it.
using Stair.Kernels.Distributed;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Distributed;

public static class DistributedTrainingScenario
{
    public const string Name = "train-step";

    public static int Run(MpiComm comm)
    {
        const int Users = 61, Items = 37, Width = 21, Layers = 2, Steps = 4, Batch = 96;
        var options = new CpuOptions(SimdTier.Auto, Threads: 1);
        CsrMatrix a = TestGraphs.SmallAdjacency(Users, Items, seed: 8); // Ã: symmetric, isolated nodes
        CsrMatrix s = TestGraphs.WithHub(TestGraphs.RandomPowerLaw(Items, Items, seed: 3)); // S̃: not symmetric, empty rows, a hub
        float[] beta = StepwiseWeights.Forward(Width, 0.3), b = StepwiseWeights.Backward(Width, 0.3);
        var adam = new AdamWOptions(0.05f, WeightDecay: 0.1f) { Clip = UpdateClip.RowNorm(0.04f) };

        // One process, on the whole table.
        var planA = new PropagationPlan(a, options);
        var planS = new PropagationPlan(s, options);
        int n = Users + Items, uFloats = Users * Width;
        float[] e = TestGraphs.Table(n, Width, seed: 21);
        float[] z = new float[n * Width], g = new float[n * Width], de = new float[n * Width];
        var work = new PropagationWorkspace(n, Width);
        var userState = new AdamState(Users, Width);
        var itemState = new AdamState(Items, Width);
        var bsc = new BscWorkspace(Items, Width);

        // This rank's rows.
        DistributedPlan graph = DistributedPlan.Partition(comm, a, options);
        int start = graph.RowStart, rows = graph.LocalRows, ownUsers = Math.Max(0, Math.Min(start + rows, Users) - start), ownItems = rows - ownUsers;
        int firstItem = Math.Max(start, Users) - Users;
        DistributedPlan knn = DistributedPlan.FromLocalRows(comm, Items, firstItem, Slice(s, firstItem, ownItems), Slice(s.Transpose(), firstItem, ownItems), options);
        float[] le = e.AsSpan(start * Width, rows * Width).ToArray();
        float[] lz = TestGraphs.Poisoned(rows * Width), lg = TestGraphs.Poisoned(rows * Width), lde = TestGraphs.Poisoned(rows * Width);
        var localUsers = new AdamState(ownUsers, Width);
        var localItems = new AdamState(ownItems, Width);
        var localBsc = new BscWorkspace(ownItems, Width);
        int lu = ownUsers * Width;

        string? mismatch = null;
        var rng = new Random(17);
        for (int step = 1; step <= Steps; step++)
        {
            int[] u = new int[Batch], p = new int[Batch], q = new int[Batch];
            for (int t = 0; t < Batch; t++)
            {
                u[t] = t % 5 == 0 ? 3 : rng.Next(Users); // user 3 repeats
                p[t] = t % 4 == 0 ? Items - 1 : rng.Next(Items); // the last item is a hub of the batch
                q[t] = rng.Next(Items);
            }

            Stair.Kernels.Propagation.Fsc(planA, e, z, Width, Layers, beta, work);
            double loss = Stair.Kernels.BprLoss.Compute(z, Width, Users, u, p, q, g, GradientMode.Overwrite, options);
            Stair.Kernels.Propagation.FscBackward(planA, g, de, Width, Layers, beta, work);
            UpdateResult userStep = EmbeddingUpdate.AdamWStep(e.AsSpan(0, uFloats), de.AsSpan(0, uFloats), userState, adam, options);
            UpdateResult itemStep = EmbeddingUpdate.BscAdamWStep(e.AsSpan(uFloats), de.AsSpan(uFloats), itemState, planS, b, Layers, bsc, adam);

            DistributedPropagation.Fsc(graph, le, lz, Width, Layers, beta);
            double localLoss = DistributedTraining.BprLoss(graph, lz, Width, Users, u, p, q, lg);
            DistributedPropagation.FscBackward(graph, lg, lde, Width, Layers, beta);
            UpdateResult localUserStep = DistributedTraining.AdamWStep(comm, le.AsSpan(0, lu), lde.AsSpan(0, lu), localUsers, adam, options);
            UpdateResult localItemStep = DistributedTraining.BscAdamWStep(knn, le.AsSpan(lu), lde.AsSpan(lu), localItems, b, Layers, localBsc, adam);

            mismatch ??= BitConverter.DoubleToInt64Bits(loss) == BitConverter.DoubleToInt64Bits(localLoss) ? null : $"step {step}: loss {localLoss:R}, one process {loss:R}";
            mismatch ??= userStep == localUserStep && itemStep == localItemStep ? null
                : $"step {step}: results {localUserStep} / {localItemStep}, one process {userStep} / {itemStep}";
            mismatch ??= Compare($"step {step} ∂Z", g.AsSpan(start * Width, rows * Width), lg);
            mismatch ??= Compare($"step {step} E", e.AsSpan(start * Width, rows * Width), le);
            mismatch ??= Compare($"step {step} user m", userState.M.AsSpan(Math.Min(start, Users) * Width, lu), localUsers.M);
            mismatch ??= Compare($"step {step} item v", itemState.V.AsSpan(firstItem * Width, ownItems * Width), localItems.V);
        }

        // A NaN in the last rank's rows: every rank skips, as one process skips the whole table.
        float[] before = (float[])le.Clone();
        float[] bad = new float[ownItems * Width];
        if (comm.Rank == comm.Size - 1 && bad.Length > 0)
        {
            bad[^1] = float.NaN; // the last rank always owns the last item row when it owns rows at all
        }
        UpdateResult skipped = DistributedTraining.BscAdamWStep(knn, le.AsSpan(lu), bad, localItems, b, Layers, localBsc, adam);
        long expectedBad = ItemsOfLastRankWithRows(comm, graph, Users) == comm.Size - 1 ? 1 : 0;
        mismatch ??= skipped.NonFiniteGradients == expectedBad && skipped.Step == Steps + (expectedBad == 0 ? 1 : 0) ? null
            : $"the NaN step gave {skipped} on this rank, expected {expectedBad} non-finite and step {Steps + (expectedBad == 0 ? 1 : 0)}";
        if (expectedBad == 1)
        {
            mismatch ??= Compare("the skipped step's table", before, le);
        }

        if (mismatch is not null)
        {
            Console.WriteLine($"rank {comm.Rank}/{comm.Size}: {Name} MISMATCH: {mismatch}");
            return 1;
        }
        Console.WriteLine($"rank {comm.Rank}/{comm.Size}: {Name} bitwise OK ({Steps} steps, rows [{start}, {start + rows}): {ownUsers} users, {ownItems} items)");
        return 0;
    }

    // The last rank, when it owns item rows; -1 otherwise (then no rank holds the NaN).
    private static int ItemsOfLastRankWithRows(MpiComm comm, DistributedPlan graph, int users)
    {
        int last = comm.Size - 1;
        int lastStart = graph.RowStartOf(last), lastEnd = graph.RowStartOf(last + 1);
        return Math.Max(lastStart, users) < lastEnd ? last : -1;
    }

    private static string? Compare(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length)
        {
            return $"{what}: {actual.Length} floats, expected {expected.Length}";
        }
        for (int k = 0; k < expected.Length; k++)
        {
            if (BitConverter.SingleToInt32Bits(expected[k]) != BitConverter.SingleToInt32Bits(actual[k]))
            {
                return $"{what}: element {k} is {actual[k]:R}, one process gives {expected[k]:R}";
            }
        }
        return null;
    }

    private static CsrMatrix Slice(CsrMatrix m, int first, int count)
    {
        var builder = new CsrBuilder(count, m.Columns, m.RowOffsets[first + count] - m.RowOffsets[first]);
        for (int r = first; r < first + count; r++)
        {
            builder.AppendRow(m.RowColumns(r), m.RowValues(r));
        }
        return builder.Build();
    }
}
