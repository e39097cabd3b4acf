// The pieces of a training step over a partitioned table, each bitwise what one process computes:
//  - BPR loss and gradient: every rank holds the whole batch; the triples that touch a rank's rows
//    come to it with the remote rows they read (one exchange of rows, owner to reader), and the rank
//    runs the single-process driver on just those triples with the whole batch's B. Each gradient row
//    is one FMA chain over its contributions in batch order, so a row's owner computes it exactly; the
//    loss terms are counted once (by the user row's owner) and summed in batch order everywhere.
//  - AdamW on owned rows: the element passes are row-local; only the verdict on non-finite gradients is
//    collective (one rank's NaN skips the step on every rank, as it skips the whole table in one process).
//  - BSC-smoothed AdamW: the same passes with Δ̃ = DistributedPropagation.Fsc over the rows of S̃.
// Gathering rows to one rank (for evaluation and checkpoints) closes the set.
using System.Buffers;
using Stair.Kernels.Cpu.BprLoss;

namespace Stair.Kernels.Distributed;

/// <summary>
/// A STAIR training step's kernels over tables partitioned like a <see cref="DistributedPlan"/>: BPR loss and
/// gradient, AdamW, BSC-smoothed AdamW and gathering. Collective: every rank makes the same call. Each rank's
/// results are bitwise those of the single-process kernels (<see cref="Kernels.BprLoss"/>,
/// <see cref="EmbeddingUpdate"/>) on the whole table.
/// </summary>
public static unsafe class DistributedTraining
{
    private const int Tag = 0x4250;
    private const int GatherTag = 0x4741;

    /// <summary>
    /// BPR loss and gradient (<see cref="Kernels.BprLoss.Compute(ReadOnlySpan{float}, int, int, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float}, GradientMode, CpuOptions?)"/>,
    /// <see cref="GradientMode.Overwrite"/>) on a table whose rows are split like <paramref name="plan"/>: users in rows
    /// [0, <paramref name="itemOffset"/>), item i at row itemOffset + i (the FSC output).
    /// </summary>
    /// <param name="plan">The partition of the table's rows (the plan of Ã).</param>
    /// <param name="localTable">This rank's rows of the table.</param>
    /// <param name="width">d ≥ 1.</param>
    /// <param name="itemOffset">Row of item 0 (the number of users).</param>
    /// <param name="users">The whole batch's users (the same batch on every rank, checked by hash).</param>
    /// <param name="positives">The whole batch's positive items.</param>
    /// <param name="negatives">The whole batch's negative items.</param>
    /// <param name="localGradient">This rank's rows of ∂loss/∂table: touched rows get their gradient, the others 0.</param>
    /// <returns>The batch's mean loss, the same bits on every rank.</returns>
    /// <exception cref="MpiException">A rank's arguments are invalid (every rank throws), or MPI failed.</exception>
    public static double BprLoss(DistributedPlan plan, ReadOnlySpan<float> localTable, int width, int itemOffset,
        ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives, Span<float> localGradient)
    {
        ArgumentNullException.ThrowIfNull(plan);
        string? problem = null;
        try
        {
            Kernels.BprLoss.ValidateWidth(width);
            Propagation.ValidateTable(localTable, plan.LocalRows, width, nameof(localTable));
            Propagation.ValidateTable(localGradient, plan.LocalRows, width, nameof(localGradient));
            if (localGradient.Overlaps(localTable))
            {
                throw new ArgumentException("The gradient table must not overlap the embedding table.", nameof(localGradient));
            }
            if (itemOffset < 0 || itemOffset > plan.Nodes)
            {
                throw new ArgumentOutOfRangeException(nameof(itemOffset), itemOffset, $"The item offset must lie in [0, {plan.Nodes}] (the table has {plan.Nodes} rows).");
            }
            Kernels.BprLoss.ValidateBatch(users, positives, negatives, itemOffset, plan.Nodes - itemOffset);
        }
        catch (ArgumentException e)
        {
            problem = $"rank {plan.Comm.Rank}: {e.Message}";
        }
        long batchHash = 23;
        for (int t = 0; problem is null && t < users.Length; t++)
        {
            batchHash = (batchHash * 1_000_003 + users[t]) * 1_000_033 + ((long)positives[t] << 20) + negatives[t];
        }
        DistributedPlan.Agree(plan.Comm, problem, [4, width, itemOffset, users.Length, batchHash, plan.GraphHash], "BPR call",
            (rank, mine, theirs) => $"rank {rank} passed a batch of {theirs[3]} triples (hash {theirs[4]:x}, width {theirs[1]}, item offset {theirs[2]}, plan {theirs[5]:x16}) " +
                $"where this rank passed {mine[3]} (hash {mine[4]:x}, width {mine[1]}, item offset {mine[2]}, plan {mine[5]:x16}); every rank must pass the same batch.");

        localGradient.Clear();
        int b = users.Length;
        if (b == 0)
        {
            return 0;
        }
        MpiComm comm = plan.Comm;
        int me = comm.Rank, size = comm.Size, start = plan.RowStart;
        int[] bounds = plan.Bounds;

        // Which triples touch this rank's rows, which remote rows they read (by owner), and which of this
        // rank's rows the triples of each peer read. Both ends list a pair's rows the same way: ascending.
        var mine = new List<int>();
        var need = new SortedSet<int>[size];
        var give = new SortedSet<int>[size];
        for (int q = 0; q < size; q++)
        {
            need[q] = [];
            give[q] = [];
        }
        Span<int> rows = stackalloc int[3];
        Span<int> owners = stackalloc int[3];
        for (int t = 0; t < b; t++)
        {
            rows[0] = users[t];
            rows[1] = itemOffset + positives[t];
            rows[2] = itemOffset + negatives[t];
            for (int k = 0; k < 3; k++)
            {
                owners[k] = DistributedPlan.Owner(bounds, rows[k]);
            }
            bool touchesMe = owners.Contains(me);
            if (touchesMe)
            {
                mine.Add(t);
            }
            for (int k = 0; k < 3; k++)
            {
                if (touchesMe && owners[k] != me)
                {
                    need[owners[k]].Add(rows[k]);
                }
                if (owners[k] == me)
                {
                    for (int j = 0; j < 3; j++)
                    {
                        if (owners[j] != me)
                        {
                            give[owners[j]].Add(rows[k]);
                        }
                    }
                }
            }
        }

        // The exchange: this rank's rows that peers' triples read, out; the remote rows its triples read, in.
        int received = need.Sum(n => n.Count), sent = give.Sum(g => g.Count);
        float[] inbox = ArrayPool<float>.Shared.Rent(Math.Max(1, received * width));
        float[] outbox = ArrayPool<float>.Shared.Rent(Math.Max(1, sent * width));
        var remoteRow = new Dictionary<int, int>(received);
        try
        {
            fixed (float* table = localTable)
            fixed (float* inPtr = inbox)
            fixed (float* outPtr = outbox)
            {
                var requests = new int[2 * size];
                int posted = 0, at = 0;
                for (int q = 0; q < size; q++)
                {
                    if (need[q].Count == 0)
                    {
                        continue;
                    }
                    requests[posted++] = comm.ReceiveFloats(inPtr + (long)at * width, (long)need[q].Count * width, q, Tag);
                    foreach (int r in need[q])
                    {
                        remoteRow[r] = at++;
                    }
                }
                at = 0;
                long rowBytes = (long)width * sizeof(float);
                for (int q = 0; q < size; q++)
                {
                    if (give[q].Count == 0)
                    {
                        continue;
                    }
                    int first = at;
                    foreach (int r in give[q])
                    {
                        Buffer.MemoryCopy(table + (long)(r - start) * width, outPtr + (long)at++ * width, rowBytes, rowBytes);
                    }
                    requests[posted++] = comm.SendFloats(outPtr + (long)first * width, (long)(at - first) * width, q, Tag);
                }
                comm.WaitAll(requests.AsSpan(0, posted), $"the BPR rows ({received} in, {sent} out)");
            }
            return LocalBpr(plan, localTable, width, itemOffset, users, positives, negatives, localGradient, mine, inbox, remoteRow);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(inbox);
            ArrayPool<float>.Shared.Return(outbox);
        }
    }

    // This rank's triples on compact user and item tables (own rows and received rows), with the whole batch's B;
    // then its own rows of the gradient, and the loss summed over the whole batch in batch order.
    private static double LocalBpr(DistributedPlan plan, ReadOnlySpan<float> localTable, int width, int itemOffset,
        ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives, Span<float> localGradient,
        List<int> mine, float[] inbox, Dictionary<int, int> remoteRow)
    {
        int b = users.Length, count = mine.Count, start = plan.RowStart, end = start + plan.LocalRows;
        var userIndex = new Dictionary<int, int>();
        var itemIndex = new Dictionary<int, int>();
        var userRows = new List<int>();
        var itemRows = new List<int>();
        var cu = new int[count];
        var cp = new int[count];
        var cn = new int[count];
        int Compact(Dictionary<int, int> index, List<int> list, int row)
        {
            if (!index.TryGetValue(row, out int c))
            {
                c = list.Count;
                index[row] = c;
                list.Add(row);
            }
            return c;
        }
        for (int s = 0; s < count; s++)
        {
            int t = mine[s];
            cu[s] = Compact(userIndex, userRows, users[t]);
            cp[s] = Compact(itemIndex, itemRows, itemOffset + positives[t]);
            cn[s] = Compact(itemIndex, itemRows, itemOffset + negatives[t]);
        }
        var userTable = new float[Math.Max(1, userRows.Count * width)];
        var itemTable = new float[Math.Max(1, itemRows.Count * width)];
        var userGradient = new float[userTable.Length];
        var itemGradient = new float[itemTable.Length];
        void Fill(List<int> list, float[] compact, ReadOnlySpan<float> table)
        {
            for (int c = 0; c < list.Count; c++)
            {
                int r = list[c];
                ReadOnlySpan<float> source = r >= start && r < end ? table.Slice((r - start) * width, width) : inbox.AsSpan(remoteRow[r] * width, width);
                source.CopyTo(compact.AsSpan(c * width, width));
            }
        }
        Fill(userRows, userTable, localTable);
        Fill(itemRows, itemTable, localTable);

        var terms = new double[count];
        fixed (float* eu = userTable, ei = itemTable, gu = userGradient, gi = itemGradient)
        {
            BprLossDriver.ForCurrentThread().Run(SimdTiers.Resolve(plan.Options.Tier), plan.Options.EffectiveThreads, eu, ei,
                userRows.Count, itemRows.Count, width, cu, cp, cn, gu, gi, accumulate: false, batchSize: b, terms: terms);
        }
        foreach ((List<int> list, float[] compact) in new[] { (userRows, userGradient), (itemRows, itemGradient) })
        {
            for (int c = 0; c < list.Count; c++)
            {
                int r = list[c];
                if (r >= start && r < end)
                {
                    compact.AsSpan(c * width, width).CopyTo(localGradient.Slice((r - start) * width, width));
                }
            }
        }

        // Each triple's loss term from the rank that owns its user row (the others add +0, which changes no bits),
        // then the single-process sum: in batch order, divided by B.
        var all = new double[b];
        for (int s = 0; s < count; s++)
        {
            int u = users[mine[s]];
            if (u >= start && u < end)
            {
                all[mine[s]] = terms[s];
            }
        }
        plan.Comm.AllReduceSum(all);
        double loss = 0;
        for (int t = 0; t < b; t++)
        {
            loss += all[t];
        }
        return loss / b;
    }

    /// <summary>
    /// One AdamW (or Adam) step (<see cref="EmbeddingUpdate.AdamWStep"/>) on this rank's rows of a table split over
    /// <paramref name="comm"/>. A non-finite gradient on any rank skips the step on every rank (or, with
    /// <see cref="NonFinitePolicy.Throw"/>, throws on every rank), as one process skips the whole table.
    /// </summary>
    /// <returns>The step count, the rows clipped on all ranks, and the non-finite elements on all ranks.</returns>
    public static UpdateResult AdamWStep(MpiComm comm, Span<float> table, ReadOnlySpan<float> gradient, AdamState state, AdamWOptions options,
        CpuOptions? cpuOptions = null)
    {
        ArgumentNullException.ThrowIfNull(comm);
        cpuOptions ??= CpuOptions.Default;
        UpdateResult? skipped = AgreeOnStep(comm, table, gradient, state, options, cpuOptions, 5, null);
        if (skipped is { } skip)
        {
            return skip;
        }
        UpdateResult result = EmbeddingUpdate.StepUnchecked(table, gradient, state, options, SimdTiers.Resolve(cpuOptions.Tier), cpuOptions.EffectiveThreads);
        return Total(comm, result);
    }

    /// <summary>
    /// One BSC-smoothed AdamW step (<see cref="EmbeddingUpdate.BscAdamWStep"/>) on this rank's rows of the item table,
    /// with S̃ partitioned by <paramref name="graph"/> (its rows are the table's rows): Δ̃ is
    /// <see cref="DistributedPropagation.Fsc(DistributedPlan, ReadOnlySpan{float}, Span{float}, int, int, ReadOnlySpan{float})"/> of Δ with β = b.
    /// </summary>
    /// <param name="graph">S̃ over the ranks; this rank's rows of the table are its rows.</param>
    /// <param name="table">This rank's rows of E, updated in place.</param>
    /// <param name="gradient">This rank's rows of ∂L/∂E.</param>
    /// <param name="state">This rank's rows of the moments, and the step count.</param>
    /// <param name="strengths">b (length d, each in [0, 1]), the same on every rank.</param>
    /// <param name="layers">L ≥ 0.</param>
    /// <param name="workspace">Scratch for this rank's rows.</param>
    /// <param name="options">Hyperparameters, the same on every rank.</param>
    public static UpdateResult BscAdamWStep(DistributedPlan graph, Span<float> table, ReadOnlySpan<float> gradient, AdamState state,
        ReadOnlySpan<float> strengths, int layers, BscWorkspace workspace, AdamWOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string? extra = null;
        if (state is not null && state.Rows != graph.LocalRows)
        {
            extra = $"rank {graph.Comm.Rank}: the state has {state.Rows} rows but this rank owns {graph.LocalRows} rows of S̃.";
        }
        else if (workspace is null || state is null || workspace.Width != state.Width || workspace.Rows < state.Rows)
        {
            extra = $"rank {graph.Comm.Rank}: the workspace serves {workspace?.Rows} rows of width {workspace?.Width}; this step needs {state?.Rows} rows of width {state?.Width}.";
        }
        UpdateResult? skipped = AgreeOnStep(graph.Comm, table, gradient, state!, options, graph.Options, 6, extra);
        if (skipped is { } skip)
        {
            return skip;
        }
        int length = state!.Rows * state.Width;
        var smoother = new DistributedSmoother { Graph = graph, Strengths = strengths, Layers = layers };
        UpdateResult result = EmbeddingUpdate.SmoothedStepUnchecked(table, gradient, state, workspace!.Delta.Span[..length], workspace.Smoothed.Span[..length],
            options, SimdTiers.Resolve(graph.Options.Tier), graph.Options.EffectiveThreads, ref smoother);
        return Total(graph.Comm, result);
    }

    private ref struct DistributedSmoother : EmbeddingUpdate.ISmoother
    {
        public DistributedPlan Graph;
        public ReadOnlySpan<float> Strengths;
        public int Layers;

        public readonly void Smooth(ReadOnlySpan<float> delta, Span<float> smoothed, int width)
            => DistributedPropagation.Fsc(Graph, delta, smoothed, width, Layers, Strengths);
    }

    // Local checks, then every rank's verdict, step count and non-finite count: a step either runs on every rank
    // or on none. Returns the skip result when some rank's gradient is not finite.
    private static UpdateResult? AgreeOnStep(MpiComm comm, ReadOnlySpan<float> table, ReadOnlySpan<float> gradient, AdamState state,
        AdamWOptions options, CpuOptions cpuOptions, int operation, string? problem)
    {
        long bad = 0;
        int first = -1;
        try
        {
            cpuOptions.Validate();
            EmbeddingUpdate.ValidateCommon(table, gradient, state, options);
            for (int k = 0; k < gradient.Length; k++)
            {
                if (!float.IsFinite(gradient[k]))
                {
                    bad++;
                    first = first < 0 ? k : first;
                }
            }
        }
        catch (ArgumentException e)
        {
            problem ??= $"rank {comm.Rank}: {e.Message}";
        }
        long step = state?.Step ?? -1;
        long[] all = DistributedPlan.Agree(comm, problem, [operation, step, state?.Width ?? 0, bad], "update", null);
        long total = 0;
        for (int q = 0; q < comm.Size; q++)
        {
            if (all[4 * q] != operation || all[4 * q + 1] != step || all[4 * q + 2] != state!.Width)
            {
                throw new MpiException($"Rank {q} made call {all[4 * q]} at step {all[4 * q + 1]} (width {all[4 * q + 2]}) while this rank made call {operation} " +
                    $"at step {step} (width {state!.Width}); every rank must step the same optimizer together.");
            }
            total += all[4 * q + 3];
        }
        if (total == 0)
        {
            return null;
        }
        if (options.NonFinite == NonFinitePolicy.Throw)
        {
            throw new ArgumentException(first >= 0
                ? $"The gradient holds {total} non-finite value(s) over all ranks; this rank's first is {gradient[first]} at local index {first} (local row {first / state!.Width}, column {first % state.Width}). Nothing was written on any rank."
                : $"The gradient holds {total} non-finite value(s) on other ranks. Nothing was written on any rank.", nameof(gradient));
        }
        return new UpdateResult(state!.Step, 0, total);
    }

    private static UpdateResult Total(MpiComm comm, UpdateResult local)
    {
        Span<long> clipped = [local.ClippedRows];
        comm.AllReduceSum(clipped);
        return local with { ClippedRows = clipped[0] };
    }

    /// <summary>
    /// Every rank's rows of a table, in row order, into <paramref name="whole"/> on rank <paramref name="root"/>
    /// (<see cref="DistributedPlan.Nodes"/> × <paramref name="width"/> there; ignored, and may be empty, elsewhere). Collective.
    /// </summary>
    public static void GatherRows(DistributedPlan plan, ReadOnlySpan<float> local, Span<float> whole, int width, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(plan);
        MpiComm comm = plan.Comm;
        string? problem = null;
        try
        {
            Propagation.ValidateWidth(width);
            Propagation.ValidateTable(local, plan.LocalRows, width, nameof(local));
            ArgumentOutOfRangeException.ThrowIfNegative(root);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, comm.Size);
            if (comm.Rank == root)
            {
                Propagation.ValidateTable(whole, plan.Nodes, width, nameof(whole));
            }
        }
        catch (ArgumentException e)
        {
            problem = $"rank {comm.Rank}: {e.Message}";
        }
        DistributedPlan.Agree(comm, problem, [7, width, root, plan.GraphHash], "gather", (rank, mine, theirs) =>
            $"rank {rank} gathers width {theirs[1]} to rank {theirs[2]} (plan {theirs[3]:x16}) while this rank gathers width {mine[1]} to rank {mine[2]} (plan {mine[3]:x16}).");
        fixed (float* source = local)
        fixed (float* target = whole)
        {
            if (comm.Rank != root)
            {
                int[] request = plan.LocalRows > 0 ? [comm.SendFloats(source, (long)plan.LocalRows * width, root, GatherTag)] : [];
                comm.WaitAll(request, "the gather of a table");
                return;
            }
            var requests = new List<int>();
            for (int q = 0; q < comm.Size; q++)
            {
                long rows = plan.Bounds[q + 1] - plan.Bounds[q];
                if (q != root && rows > 0)
                {
                    requests.Add(comm.ReceiveFloats(target + (long)plan.Bounds[q] * width, rows * width, q, GatherTag));
                }
            }
            local.CopyTo(whole.Slice(plan.RowStart * width));
            comm.WaitAll(requests.ToArray(), "the gather of a table");
        }
    }
}
