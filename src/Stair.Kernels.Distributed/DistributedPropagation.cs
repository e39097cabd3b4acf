// SpMM, transposed SpMM and FSC forward and backward over a DistributedPlan. Each rank passes its
// own rows of the tables (row r of its block at [r·d, (r+1)·d)). Per product layer: the rows peers
// read are packed and sent with non-blocking sends, the halo is received straight into the extended
// table, the interior rows are computed meanwhile, then the boundary rows. The layers are the
// single-process kernel's (Propagation.LayerUnchecked), so every rank's rows are bitwise what one
// process computes on the whole graph.
using System.Diagnostics;

namespace Stair.Kernels.Distributed;

/// <summary>
/// Propagation over a graph partitioned across MPI ranks (<see cref="DistributedPlan"/>): the same
/// operations as <see cref="Propagation"/>, each rank passing its own rows; results are bitwise identical
/// to one process on the whole graph. Collective: every rank calls the same operation with the same width,
/// layers and β; a rank whose arguments are wrong makes every rank throw (<see cref="MpiException"/>).
/// </summary>
public static unsafe class DistributedPropagation
{
    private const int Tag = 0x5157;

    /// <summary>This rank's rows of A·X (or Aᵀ·X), given its rows of X.</summary>
    /// <param name="plan">The partitioned graph.</param>
    /// <param name="input">This rank's rows of X, <see cref="DistributedPlan.LocalRows"/> × <paramref name="width"/>.</param>
    /// <param name="output">This rank's rows of the result, the same shape; must not overlap <paramref name="input"/>.</param>
    /// <param name="width">d ≥ 1, the same on every rank.</param>
    /// <param name="transpose">Multiply by Aᵀ.</param>
    public static void Spmm(DistributedPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, bool transpose = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long start = Stopwatch.GetTimestamp();
        CheckCollective(plan, input, output, width, 0, [], transpose ? 1 : 0);
        Run(plan, input, output, width, 0, [], transpose, start);
    }

    /// <summary>This rank's rows of FSC (<see cref="Propagation.Fsc"/>) of the whole graph, given its rows of E.</summary>
    /// <param name="plan">The partitioned graph.</param>
    /// <param name="input">This rank's rows of E.</param>
    /// <param name="output">This rank's rows of the result; must not overlap <paramref name="input"/>.</param>
    /// <param name="width">d ≥ 1.</param>
    /// <param name="layers">L ≥ 0.</param>
    /// <param name="beta">β (length d, each in [0, 1]), the same on every rank.</param>
    public static void Fsc(DistributedPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, int layers, ReadOnlySpan<float> beta)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long start = Stopwatch.GetTimestamp();
        CheckCollective(plan, input, output, width, layers, beta, 2);
        Run(plan, input, output, width, layers, beta, transpose: false, start);
    }

    /// <summary>This rank's rows of FSC's gradient (<see cref="Propagation.FscBackward"/>): FSC with Aᵀ.</summary>
    /// <param name="plan">The partitioned graph.</param>
    /// <param name="outputGradient">This rank's rows of ∂L/∂output.</param>
    /// <param name="inputGradient">This rank's rows of ∂L/∂E; must not overlap <paramref name="outputGradient"/>.</param>
    /// <param name="width">d ≥ 1.</param>
    /// <param name="layers">L ≥ 0.</param>
    /// <param name="beta">β, as in the forward pass.</param>
    public static void FscBackward(DistributedPlan plan, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int width, int layers, ReadOnlySpan<float> beta)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long start = Stopwatch.GetTimestamp();
        CheckCollective(plan, outputGradient, inputGradient, width, layers, beta, 3);
        Run(plan, outputGradient, inputGradient, width, layers, beta, transpose: true, start);
    }

    /// <summary>This rank's rows of A·X (or Aᵀ·X) on its plan's device: tables of <see cref="DistributedPlan.Context"/>, <see cref="DistributedPlan.LocalRows"/> rows each.</summary>
    /// <param name="plan">A plan built with a <see cref="ComputeContext"/>.</param>
    /// <param name="input">This rank's rows of X.</param>
    /// <param name="output">This rank's rows of the result; must not overlap <paramref name="input"/>.</param>
    /// <param name="transpose">Multiply by Aᵀ.</param>
    public static void Spmm(DistributedPlan plan, DeviceTable input, DeviceTable output, bool transpose = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long start = Stopwatch.GetTimestamp();
        Agree(plan, CheckDevice(plan, input, output, null, needsFilter: false), input?.Width ?? 0, 0, [], transpose ? 1 : 0);
        RunDevice(plan, input!, output!, null, transpose, start);
    }

    /// <summary>This rank's rows of FSC of the whole graph on its plan's device (see <see cref="Fsc(DistributedPlan, ReadOnlySpan{float}, Span{float}, int, int, ReadOnlySpan{float})"/>).</summary>
    public static void Fsc(DistributedPlan plan, DeviceTable input, DeviceTable output, StepwiseFilter filter)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long start = Stopwatch.GetTimestamp();
        Agree(plan, CheckDevice(plan, input, output, filter, needsFilter: true), input?.Width ?? 0, filter?.Layers ?? 0, filter is null ? [] : filter.Beta, 2);
        RunDevice(plan, input!, output!, filter, transpose: false, start);
    }

    /// <summary>This rank's rows of FSC's gradient on its plan's device (FSC with Aᵀ).</summary>
    public static void FscBackward(DistributedPlan plan, DeviceTable outputGradient, DeviceTable inputGradient, StepwiseFilter filter)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long start = Stopwatch.GetTimestamp();
        Agree(plan, CheckDevice(plan, outputGradient, inputGradient, filter, needsFilter: true), outputGradient?.Width ?? 0,
            filter?.Layers ?? 0, filter is null ? [] : filter.Beta, 3);
        RunDevice(plan, outputGradient!, inputGradient!, filter, transpose: true, start);
    }

    // A bad argument is reported, not thrown, so that every rank learns it in the agreement (none is left waiting).
    private static string? CheckDevice(DistributedPlan plan, DeviceTable? input, DeviceTable? output, StepwiseFilter? filter, bool needsFilter)
    {
        ComputeContext? context = plan.Context;
        string Problem(string what) => $"rank {plan.Comm.Rank}: {what}";
        if (context is null)
        {
            return Problem("this plan was built without a ComputeContext; pass spans, or build the plan with a context.");
        }
        if (input is null || output is null || (needsFilter && filter is null))
        {
            return Problem("a table or the filter is null.");
        }
        foreach ((DeviceTable t, string name) in new[] { (input, nameof(input)), (output, nameof(output)) })
        {
            if (t.IsDisposed)
            {
                return Problem($"{name} is disposed.");
            }
            if (!ReferenceEquals(t.Owner, context))
            {
                return Problem($"{name} belongs to another context than the plan's ({context.Device}).");
            }
            if (t.Rows != plan.LocalRows)
            {
                return Problem($"{name} has {t.Rows} rows; this rank owns {plan.LocalRows}.");
            }
        }
        if (input.Width != output.Width)
        {
            return Problem($"input is {input.Width} wide, output {output.Width}.");
        }
        if (output.Overlaps(input))
        {
            return Problem("the output table must not overlap the input table.");
        }
        if (filter is not null && (filter.IsDisposed || !ReferenceEquals(filter.Owner, context) || filter.Width != input.Width))
        {
            return Problem($"the filter is disposed, of another context, or {filter.Width} wide for {input.Width}-wide tables.");
        }
        return null;
    }

    // Local checks first; then every rank learns every rank's verdict and call, so a bad argument or a rank
    // calling another operation is an error everywhere before any halo is sent.
    private static void CheckCollective(DistributedPlan plan, ReadOnlySpan<float> input, ReadOnlySpan<float> output, int width, int layers,
        ReadOnlySpan<float> beta, int operation)
    {
        string? problem = null;
        try
        {
            Stair.Kernels.Propagation.ValidateWidth(width);
            ArgumentOutOfRangeException.ThrowIfNegative(layers);
            Stair.Kernels.Propagation.ValidateTable(input, plan.LocalRows, width, nameof(input));
            Stair.Kernels.Propagation.ValidateTable(output, plan.LocalRows, width, nameof(output));
            if (output.Overlaps(input))
            {
                throw new ArgumentException("The output table must not overlap the input table.", nameof(output));
            }
            if (operation >= 2)
            {
                Stair.Kernels.Propagation.ValidateBeta(beta, width);
            }
        }
        catch (ArgumentException e)
        {
            problem = $"rank {plan.Comm.Rank}: {e.Message}";
        }
        Agree(plan, problem, width, layers, beta, operation);
    }

    private static void Agree(DistributedPlan plan, string? problem, int width, int layers, ReadOnlySpan<float> beta, int operation)
    {
        long betaHash = 17;
        foreach (float b in beta)
        {
            betaHash = betaHash * 1_000_003 + BitConverter.SingleToInt32Bits(b);
        }
        DistributedPlan.Agree(plan.Comm, problem, [operation, width, layers, betaHash, plan.GraphHash], "call",
            (rank, mine, theirs) => $"rank {rank} called operation {theirs[0]} (width {theirs[1]}, {theirs[2]} layers, β hash {theirs[3]:x}, plan {theirs[4]:x16}) " +
                $"while this rank called operation {mine[0]} (width {mine[1]}, {mine[2]} layers, β hash {mine[3]:x}, plan {mine[4]:x16}); every rank must make the same call on the same plan.");
    }

    private static void Run(DistributedPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, int layers, ReadOnlySpan<float> beta, bool transpose,
        long start)
    {
        bool fsc = beta.Length > 0 || layers > 0;
        if (fsc && layers == 0)
        {
            input.CopyTo(output);
            plan.LastCall = new DistributedTimings(Stopwatch.GetElapsedTime(start).TotalSeconds, 0, 0, 0, 0, 0);
            return;
        }
        var clock = new Clock();
        DistributedPlan.Direction direction = transpose ? plan.Transposed : plan.Forward;
        DistributedPlan.Workspace w = plan.WorkspaceFor(width);
        int rows = plan.LocalRows;
        var scale = new float[width];
        if (fsc)
        {
            StepwiseWeights.FinalScale(beta, layers, scale);
        }
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (float* b = beta)
        fixed (float* c = scale)
        fixed (float* extA = w.ExtendedA.Span)
        fixed (float* extB = w.ExtendedB.Span)
        fixed (float* seed = w.Seed.Span)
        fixed (float* send = w.Send.Span)
        {
            int steps = fsc ? layers : 1;
            if (direction.HaloRows == 0 && direction.SendRows.Length == 0 && direction.InteriorCount == rows)
            {
                // Nothing to exchange and every row interior (one rank, or a block no other block touches):
                // plan order is row order, so the layers run on the caller's tables without reordering.
                float* from = x;
                for (int l = 1; l <= steps; l++)
                {
                    Propagation.LayerMode mode = !fsc ? Propagation.LayerMode.Store : l == steps ? Propagation.LayerMode.Last : Propagation.LayerMode.Inner;
                    float* to = l == steps ? y : (l % 2 == 1 ? extA : extB);
                    long t0 = Stopwatch.GetTimestamp();
                    Propagation.LayerUnchecked(direction.Interior, from, to, x, b, c, width, mode);
                    clock.Compute += Stopwatch.GetTimestamp() - t0;
                    from = to;
                }
            }
            else
            {
                // Own rows into plan order: the first layer's gather source (and FSC's seed).
                long t = Stopwatch.GetTimestamp();
                Permute(direction.Order, x, extA, width, toPlanOrder: true);
                if (fsc)
                {
                    Buffer.MemoryCopy(extA, seed, (long)rows * width * sizeof(float), (long)rows * width * sizeof(float));
                }
                clock.Copy += Stopwatch.GetTimestamp() - t;
                float* source = extA, target = extB;
                for (int l = 1; l <= steps; l++)
                {
                    Propagation.LayerMode mode = !fsc ? Propagation.LayerMode.Store : l == steps ? Propagation.LayerMode.Last : Propagation.LayerMode.Inner;
                    Layer(plan.Comm, direction, source, target, seed, b, c, send, width, mode, l, ref clock);
                    float* swap = source;
                    source = target;
                    target = swap;
                }
                // source now holds the last layer's rows in plan order.
                t = Stopwatch.GetTimestamp();
                Permute(direction.Order, source, y, width, toPlanOrder: false);
                clock.Copy += Stopwatch.GetTimestamp() - t;
            }
        }
        static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
        plan.LastCall = new DistributedTimings(Stopwatch.GetElapsedTime(start).TotalSeconds, Seconds(clock.Compute), Seconds(clock.Wait), Seconds(clock.Copy),
            clock.Sent * sizeof(float), clock.Received * sizeof(float));
    }

    // The host-staged device path: own rows are reordered on the host, each layer's send rows are read back, the halo
    // is received on the host and uploaded into the extended table; the products run on the device, interior rows
    // launched before the wait for the halo.
    private static void RunDevice(DistributedPlan plan, DeviceTable input, DeviceTable output, StepwiseFilter? filter, bool transpose, long start)
    {
        var clock = new Clock();
        ComputeContext context = plan.Context!;
        int width = input.Width, rows = plan.LocalRows;
        bool fsc = filter is not null;
        DistributedPlan.Direction d = transpose ? plan.Transposed : plan.Forward;
        DistributedPlan.DeviceWorkspace w = plan.DeviceWorkspaceFor(width);
        Span<float> own = w.Own.Span, local = w.Local.Span;
        long t = Stopwatch.GetTimestamp();
        input.Download(local);
        if (fsc && filter!.Layers == 0)
        {
            output.Upload(local);
            plan.LastCall = new DistributedTimings(Stopwatch.GetElapsedTime(start).TotalSeconds, 0, 0, 0, 0, 0);
            return;
        }
        fixed (float* from = local, to = own)
        {
            Permute(d.Order, from, to, width, toPlanOrder: true);
        }
        DeviceTable source = w.ExtendedA, target = w.ExtendedB;
        if (rows > 0)
        {
            source.Slice(0, rows).Upload(own);
            if (fsc)
            {
                w.Seed.Slice(0, rows).Upload(own);
            }
        }
        clock.Copy += Stopwatch.GetTimestamp() - t;
        int steps = fsc ? filter!.Layers : 1, interior = d.InteriorCount, boundary = rows - interior;
        for (int l = 1; l <= steps; l++)
        {
            Propagation.LayerMode mode = !fsc ? Propagation.LayerMode.Store : l == steps ? Propagation.LayerMode.Last : Propagation.LayerMode.Inner;
            long t0 = Stopwatch.GetTimestamp();
            if (l > 1 && d.SendRows.Length > 0)
            {
                source.Slice(0, rows).Download(own); // the rows peers read, as the last layer left them
            }
            int[] requests = new int[2 * plan.Comm.Size];
            int posted = 0;
            fixed (float* ownPtr = own, send = w.Send.Span, halo = w.Halo.Span)
            {
                long rowBytes = (long)width * sizeof(float);
                for (int k = 0; k < d.SendRows.Length; k++)
                {
                    Buffer.MemoryCopy(ownPtr + (long)d.SendRows[k] * width, send + (long)k * width, rowBytes, rowBytes);
                }
                long received = 0, sent = 0;
                for (int q = 0; q < plan.Comm.Size; q++)
                {
                    if (d.ReceiveCounts[q] > 0)
                    {
                        requests[posted++] = plan.Comm.ReceiveFloats(halo + received * width, (long)d.ReceiveCounts[q] * width, q, Tag);
                        received += d.ReceiveCounts[q];
                    }
                }
                for (int q = 0; q < plan.Comm.Size; q++)
                {
                    if (d.SendCounts[q] > 0)
                    {
                        requests[posted++] = plan.Comm.SendFloats(send + sent * width, (long)d.SendCounts[q] * width, q, Tag);
                        sent += d.SendCounts[q];
                    }
                }
                clock.Sent += sent * width;
                clock.Received += received * width;
            }
            long t1 = Stopwatch.GetTimestamp();
            if (interior > 0)
            {
                context.LayerUnchecked(d.InteriorGraph!, source, target.Slice(0, interior), w.Seed.Slice(0, interior), filter, mode);
            }
            long t2 = Stopwatch.GetTimestamp();
            plan.Comm.WaitAll(requests.AsSpan(0, posted), $"the halo of layer {l} ({d.HaloRows} rows in, {d.SendRows.Length} rows out)");
            long t3 = Stopwatch.GetTimestamp();
            if (d.HaloRows > 0)
            {
                source.Slice(rows, d.HaloRows).Upload(w.Halo.Span[..(d.HaloRows * width)]);
            }
            if (boundary > 0)
            {
                context.LayerUnchecked(d.BoundaryGraph!, source, target.Slice(interior, boundary), w.Seed.Slice(interior, boundary), filter, mode);
            }
            long t4 = Stopwatch.GetTimestamp();
            clock.Copy += t1 - t0;
            clock.Compute += (t2 - t1) + (t4 - t3);
            clock.Wait += t3 - t2;
            (source, target) = (target, source);
        }
        t = Stopwatch.GetTimestamp();
        if (rows > 0)
        {
            source.Slice(0, rows).Download(own);
        }
        fixed (float* from = own, to = local)
        {
            Permute(d.Order, from, to, width, toPlanOrder: false);
        }
        output.Upload(local);
        clock.Copy += Stopwatch.GetTimestamp() - t;
        static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
        plan.LastCall = new DistributedTimings(Stopwatch.GetElapsedTime(start).TotalSeconds, Seconds(clock.Compute), Seconds(clock.Wait), Seconds(clock.Copy),
            clock.Sent * sizeof(float), clock.Received * sizeof(float));
    }

    // Ticks per part of a call, and floats moved.
    private struct Clock
    {
        public long Compute, Wait, Copy, Sent, Received;
    }

    // One product layer: exchange the halo of `source` (own rows in plan order) while the interior rows are
    // computed into `target`, then the boundary rows.
    private static void Layer(MpiComm comm, DistributedPlan.Direction d, float* source, float* target, float* seed, float* beta, float* scale,
        float* send, int width, Propagation.LayerMode mode, int layer, ref Clock clock)
    {
        int rows = d.Rows, size = comm.Size;
        long rowBytes = (long)width * sizeof(float);
        long t0 = Stopwatch.GetTimestamp();
        for (int t = 0; t < d.SendRows.Length; t++)
        {
            Buffer.MemoryCopy(source + (long)d.SendRows[t] * width, send + (long)t * width, rowBytes, rowBytes);
        }
        Span<int> requests = size <= 256 ? stackalloc int[2 * size] : new int[2 * size];
        int posted = 0;
        long received = rows, sent = 0;
        for (int q = 0; q < size; q++)
        {
            if (d.ReceiveCounts[q] > 0)
            {
                requests[posted++] = comm.ReceiveFloats(source + received * width, (long)d.ReceiveCounts[q] * width, q, Tag);
                received += d.ReceiveCounts[q];
            }
        }
        for (int q = 0; q < size; q++)
        {
            if (d.SendCounts[q] > 0)
            {
                requests[posted++] = comm.SendFloats(send + sent * width, (long)d.SendCounts[q] * width, q, Tag);
                sent += d.SendCounts[q];
            }
        }
        long t1 = Stopwatch.GetTimestamp();
        Propagation.LayerUnchecked(d.Interior, source, target, seed, beta, scale, width, mode);
        long t2 = Stopwatch.GetTimestamp();
        comm.WaitAll(requests[..posted], $"the halo of layer {layer} ({received - rows} rows in, {sent} rows out)");
        long t3 = Stopwatch.GetTimestamp();
        long offset = (long)d.InteriorCount * width;
        Propagation.LayerUnchecked(d.Boundary, source, target + offset, seed + offset, beta, scale, width, mode);
        long t4 = Stopwatch.GetTimestamp();
        clock.Copy += t1 - t0;
        clock.Compute += (t2 - t1) + (t4 - t3);
        clock.Wait += t3 - t2;
        clock.Sent += sent * width;
        clock.Received += (received - rows) * width;
    }

    /// <summary>
    /// The halo exchange of one layer alone (pack, send, receive, wait; no product): the floor the
    /// exchange part of a layer is measured against (bench "distributed"). Collective. Returns seconds.
    /// </summary>
    internal static double ExchangeOnly(DistributedPlan plan, int width, bool transpose = false)
    {
        DistributedPlan.Direction d = transpose ? plan.Transposed : plan.Forward;
        DistributedPlan.Workspace w = plan.WorkspaceFor(width);
        MpiComm comm = plan.Comm;
        long start = Stopwatch.GetTimestamp();
        fixed (float* source = w.ExtendedA.Span)
        fixed (float* send = w.Send.Span)
        {
            long rowBytes = (long)width * sizeof(float);
            for (int t = 0; t < d.SendRows.Length; t++)
            {
                Buffer.MemoryCopy(source + (long)d.SendRows[t] * width, send + (long)t * width, rowBytes, rowBytes);
            }
            var requests = new int[2 * comm.Size];
            int posted = 0;
            long received = d.Rows, sent = 0;
            for (int q = 0; q < comm.Size; q++)
            {
                if (d.ReceiveCounts[q] > 0)
                {
                    requests[posted++] = comm.ReceiveFloats(source + received * width, (long)d.ReceiveCounts[q] * width, q, Tag);
                    received += d.ReceiveCounts[q];
                }
            }
            for (int q = 0; q < comm.Size; q++)
            {
                if (d.SendCounts[q] > 0)
                {
                    requests[posted++] = comm.SendFloats(send + sent * width, (long)d.SendCounts[q] * width, q, Tag);
                    sent += d.SendCounts[q];
                }
            }
            comm.WaitAll(requests.AsSpan(0, posted), "the halo (exchange only)");
        }
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static void Permute(int[] order, float* from, float* to, int width, bool toPlanOrder)
    {
        long rowBytes = (long)width * sizeof(float);
        for (int i = 0; i < order.Length; i++)
        {
            long planRow = (long)i * width, localRow = (long)order[i] * width;
            if (toPlanOrder)
            {
                Buffer.MemoryCopy(from + localRow, to + planRow, rowBytes, rowBytes);
            }
            else
            {
                Buffer.MemoryCopy(from + planRow, to + localRow, rowBytes, rowBytes);
            }
        }
    }
}
