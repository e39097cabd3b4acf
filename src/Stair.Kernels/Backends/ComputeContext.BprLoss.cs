// ComputeContext's BPR entry points: the loss and its gradient over a batch of triples on
// device-resident tables. The batch's indices come from the host (where the sampler runs);
// they are validated and grouped by row there, then uploaded in one copy into buffers the
// context keeps. Only the loss scalar comes back.
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu.BprLoss;
using Stair.Kernels.Gpu.BprLoss;

namespace Stair.Kernels;

public sealed partial class ComputeContext
{
    private BprLossKernels? _bprKernels;
    private BprBatchPlan? _bprPlan;
    private int[] _bprHost = [];
    private MemoryBuffer1D<int, Stride1D.Dense>? _bprInts;
    private MemoryBuffer1D<float, Stride1D.Dense>? _bprScratch;
    private MemoryBuffer1D<float, Stride1D.Dense>? _bprLoss;

    /// <summary>
    /// BPR loss and gradient on one table holding users (rows [0, <paramref name="itemOffset"/>)) and items
    /// (item i at row itemOffset + i), as the FSC output does; see <see cref="Kernels.BprLoss"/> for the math.
    /// </summary>
    /// <param name="embeddings">The table (e.g. the FSC output Z).</param>
    /// <param name="itemOffset">Row of item 0 (= the number of users).</param>
    /// <param name="users">User of each triple.</param>
    /// <param name="positives">Positive item of each triple.</param>
    /// <param name="negatives">Negative item of each triple.</param>
    /// <param name="gradient">∂loss/∂embeddings (same shape; another table of this context).</param>
    /// <param name="mode">Overwrite the whole table or add into the touched rows.</param>
    /// <returns>The mean loss (waits for the batch to finish).</returns>
    public double BprLoss(DeviceTable embeddings, int itemOffset, ReadOnlySpan<int> users, ReadOnlySpan<int> positives,
        ReadOnlySpan<int> negatives, DeviceTable gradient, GradientMode mode = GradientMode.Overwrite)
    {
        lock (_gate)
        {
            ValidateOwned(embeddings, nameof(embeddings));
            ValidateOwned(gradient, nameof(gradient));
            if (embeddings.Overlaps(gradient))
            {
                throw new ArgumentException("The gradient table must not be the embedding table.", nameof(gradient));
            }
            ValidateShape(gradient, embeddings.Rows, embeddings.Width, nameof(gradient));
            if (itemOffset < 0 || itemOffset > embeddings.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(itemOffset), itemOffset, $"The item offset must lie in [0, {embeddings.Rows}] (the table has {embeddings.Rows} rows).");
            }
            Kernels.BprLoss.ValidateMode(mode);
            int itemRows = embeddings.Rows - itemOffset;
            Kernels.BprLoss.ValidateBatch(users, positives, negatives, itemOffset, itemRows);
            if (Backend == Backend.Cpu)
            {
                return Kernels.BprLoss.Compute(embeddings.Host, embeddings.Width, itemOffset, users, positives, negatives, gradient.Host, mode, _cpuOptions);
            }
            long split = (long)itemOffset * embeddings.Width;
            ArrayView<float> e = embeddings.View.SubView(0, embeddings.Length), g = gradient.View.SubView(0, gradient.Length);
            return RunBpr(e.SubView(0, split), e.SubView(split), g.SubView(0, split), g.SubView(split), itemOffset, itemRows, embeddings.Width,
                users, positives, negatives, mode);
        }
    }

    /// <summary>BPR loss and gradient on separate user and item tables (see <see cref="Kernels.BprLoss"/>).</summary>
    /// <param name="userEmbeddings">U × d.</param>
    /// <param name="itemEmbeddings">I × d.</param>
    /// <param name="users">User of each triple.</param>
    /// <param name="positives">Positive item of each triple.</param>
    /// <param name="negatives">Negative item of each triple.</param>
    /// <param name="userGradient">∂loss/∂users, U × d.</param>
    /// <param name="itemGradient">∂loss/∂items, I × d.</param>
    /// <param name="mode">Overwrite both tables or add into the touched rows.</param>
    /// <returns>The mean loss (waits for the batch to finish).</returns>
    public double BprLoss(DeviceTable userEmbeddings, DeviceTable itemEmbeddings, ReadOnlySpan<int> users, ReadOnlySpan<int> positives,
        ReadOnlySpan<int> negatives, DeviceTable userGradient, DeviceTable itemGradient, GradientMode mode = GradientMode.Overwrite)
    {
        lock (_gate)
        {
            ValidateOwned(userEmbeddings, nameof(userEmbeddings));
            ValidateOwned(itemEmbeddings, nameof(itemEmbeddings));
            ValidateOwned(userGradient, nameof(userGradient));
            ValidateOwned(itemGradient, nameof(itemGradient));
            int d = userEmbeddings.Width;
            ValidateShape(itemEmbeddings, itemEmbeddings.Rows, d, nameof(itemEmbeddings));
            ValidateShape(userGradient, userEmbeddings.Rows, d, nameof(userGradient));
            ValidateShape(itemGradient, itemEmbeddings.Rows, d, nameof(itemGradient));
            if (userGradient.Overlaps(userEmbeddings) || userGradient.Overlaps(itemEmbeddings) || userGradient.Overlaps(itemGradient))
            {
                throw new ArgumentException("The user gradient must not be an embedding table or the item gradient.", nameof(userGradient));
            }
            if (itemGradient.Overlaps(userEmbeddings) || itemGradient.Overlaps(itemEmbeddings))
            {
                throw new ArgumentException("The item gradient must not be an embedding table.", nameof(itemGradient));
            }
            Kernels.BprLoss.ValidateMode(mode);
            Kernels.BprLoss.ValidateBatch(users, positives, negatives, userEmbeddings.Rows, itemEmbeddings.Rows);
            if (Backend == Backend.Cpu)
            {
                return Kernels.BprLoss.Compute(userEmbeddings.Host, itemEmbeddings.Host, d, users, positives, negatives, userGradient.Host,
                    itemGradient.Host, mode, _cpuOptions);
            }
            return RunBpr(userEmbeddings.View.SubView(0, userEmbeddings.Length), itemEmbeddings.View.SubView(0, itemEmbeddings.Length),
                userGradient.View.SubView(0, userGradient.Length), itemGradient.View.SubView(0, itemGradient.Length),
                userEmbeddings.Rows, itemEmbeddings.Rows, d, users, positives, negatives, mode);
        }
    }

    private double RunBpr(ArrayView<float> userTable, ArrayView<float> itemTable, ArrayView<float> userGradient, ArrayView<float> itemGradient,
        int userRows, int itemRows, int width, ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives, GradientMode mode)
    {
        _bprKernels ??= Compile(acc => new BprLossKernels(acc));
        _bprPlan ??= new BprBatchPlan();
        int b = users.Length;
        BprBatchPlan plan = _bprPlan;
        int groups = 0;
        if (b > 0)
        {
            plan.Build(users, positives, negatives, userRows, itemRows);
            groups = plan.Groups;
        }
        // [users | positives | negatives | group rows | group starts | entries]
        int length = checked(3 * b + 2 * groups + 1 + 3 * b);
        if (_bprHost.Length < length)
        {
            _bprHost = new int[length];
        }
        Span<int> host = _bprHost.AsSpan(0, length);
        users.CopyTo(host);
        positives.CopyTo(host[b..]);
        negatives.CopyTo(host[(2 * b)..]);
        if (b > 0)
        {
            plan.GroupRows.AsSpan(0, groups).CopyTo(host[(3 * b)..]);
            plan.GroupStart.AsSpan(0, groups + 1).CopyTo(host[(3 * b + groups)..]);
            plan.Entries.AsSpan(0, 3 * b).CopyTo(host[(3 * b + 2 * groups + 1)..]);
        }
        else
        {
            host[0] = 0;
        }
        if (_bprInts is null || _bprInts.Length < length)
        {
            _bprInts?.Dispose();
            _bprInts = null;
            _bprInts = Allocate<int>(Math.Max(length, 1024), "the BPR batch");
        }
        if (_bprScratch is null || _bprScratch.Length < 2L * b)
        {
            _bprScratch?.Dispose();
            _bprScratch = null;
            _bprScratch = Allocate<float>(Math.Max(2L * b, 1024), "BPR scratch");
        }
        _bprLoss ??= Allocate<float>(1, "the BPR loss");
        _bprInts.View.SubView(0, length).CopyFromCPU(Stream, host);
        _bprKernels.Run(Stream, userTable, itemTable, userGradient, itemGradient, _bprInts.View, _bprScratch.View, _bprLoss.View, b,
            b > 0 ? plan.UserGroups : 0, groups, width, mode == GradientMode.Accumulate);
        Span<float> loss = stackalloc float[1];
        _bprLoss.View.CopyToCPU(Stream, loss);
        Stream.Synchronize();
        return loss[0];
    }

    private void DisposeBpr()
    {
        _bprInts?.Dispose();
        _bprScratch?.Dispose();
        _bprLoss?.Dispose();
    }

    private void ValidateOwned(DeviceTable table, string name)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(table, name);
        table.ThrowIfDisposed();
        if (!ReferenceEquals(table.Owner, this))
        {
            throw new ArgumentException("The table belongs to another context.", name);
        }
    }
}
