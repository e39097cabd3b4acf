// ILGPU twin of Cpu/BprLoss: the same two phases, with the batch's row grouping (built on the
// host by BprBatchPlan in O(B), uploaded with the indices in one copy) so the scatter needs
// no atomics and sums each row's contributions in batch order on every device.
//   Score:   one thread per triple: x, s = σ(−x)/B and softplus(−x), in float, stable forms.
//   Loss:    one group: strided partial sums in a fixed order, then a fixed shared-memory tree.
//   Scatter: one thread per (row group, column): acc = coef·src + acc over the group's list.
// Multiply then add (no fma; see PropagationKernels): agrees with the CPU to rounding.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels.Gpu.BprLoss;

/// <summary>The BPR kernels of one accelerator, loaded once and kept.</summary>
internal sealed class BprLossKernels : IKernelSet<BprLossKernels>
{
    public static BprLossKernels Load(Accelerator accelerator) => new BprLossKernels(accelerator);

    /// <summary>Most threads of the loss reduction's single group (its shared-memory size).</summary>
    internal const int LossGroupSize = 64;

    private readonly int _lossGroup;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>> _zero;

    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int> _score;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int> _loss;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
        ArrayView<float>, int, int, int, int, int> _scatter;

    public BprLossKernels(Accelerator accelerator)
    {
        // The largest power of two ≤ 64 the device allows in a group (the simulator allows 16).
        _lossGroup = LossGroupSize;
        while (_lossGroup > accelerator.MaxNumThreadsPerGroup)
        {
            _lossGroup /= 2;
        }
        _zero = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>>(ZeroKernel);
        _score = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(ScoreKernel);
        _loss = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, int>(LossKernel);
        _scatter = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>,
            ArrayView<float>, int, int, int, int, int>(ScatterKernel);
    }

    /// <summary>
    /// Launches one batch. <paramref name="ints"/> holds [users | positives | negatives | group rows | group starts | entries]
    /// (see <see cref="Cpu.BprLoss.BprBatchPlan"/>); <paramref name="scratch"/> at least 2B floats; the mean loss goes to <paramref name="loss"/>[0].
    /// </summary>
    public void Run(AcceleratorStream stream, ArrayView<float> userTable, ArrayView<float> itemTable, ArrayView<float> userGradient,
        ArrayView<float> itemGradient, ArrayView<int> ints, ArrayView<float> scratch, ArrayView<float> loss, int batch, int userGroups, int groups,
        int width, bool accumulate)
    {
        // A kernel, not MemSetToZero: PoCL rejects a memset of a sub-view at an odd offset.
        if (!accumulate)
        {
            Zero(stream, userGradient);
            Zero(stream, itemGradient);
        }
        if (batch == 0)
        {
            Zero(stream, loss.SubView(0, 1));
            return;
        }
        _score(stream, batch, userTable, itemTable, ints, scratch, scratch.SubView(batch, batch), batch, width);
        _loss(stream, new KernelConfig(1, _lossGroup), scratch.SubView(batch, batch), loss, batch);
        _scatter(stream, checked(groups * width), userTable, itemTable, userGradient, itemGradient, ints, scratch, batch, userGroups, groups, width,
            accumulate ? 1 : 0);
    }

    private void Zero(AcceleratorStream stream, ArrayView<float> view)
    {
        if (view.Length > 0)
        {
            _zero(stream, checked((int)view.Length), view);
        }
    }

    private static void ZeroKernel(Index1D i, ArrayView<float> view) => view[i] = 0f;

    // s[t] = σ(−x)/B and terms[t] = softplus(−x) for x = e_u·e_i⁺ − e_u·e_i⁻.
    private static void ScoreKernel(Index1D t, ArrayView<float> userTable, ArrayView<float> itemTable, ArrayView<int> ints,
        ArrayView<float> s, ArrayView<float> terms, int batch, int width)
    {
        long u = (long)ints[t] * width, p = (long)ints[batch + t] * width, n = (long)ints[2 * batch + t] * width;
        float dp = 0f, dn = 0f;
        for (int j = 0; j < width; j++)
        {
            float e = userTable[u + j];
            dp += e * itemTable[p + j];
            dn += e * itemTable[n + j];
        }
        float z = dn - dp; // −x
        float ez = MathF.Exp(-MathF.Abs(z));
        terms[t] = MathF.Max(z, 0f) + MathF.Log(1f + ez);
        float sigma = z >= 0f ? 1f / (1f + ez) : ez / (1f + ez);
        s[t] = sigma / batch;
    }

    // One group: thread i sums terms i, i + G, … in order; a fixed tree adds the partials.
    private static void LossKernel(ArrayView<float> terms, ArrayView<float> loss, int batch)
    {
        ArrayView<float> partial = SharedMemory.Allocate<float>(LossGroupSize);
        int i = Group.IdxX, size = Group.DimX;
        float acc = 0f;
        for (int t = i; t < batch; t += size)
        {
            acc += terms[t];
        }
        partial[i] = acc;
        Group.Barrier();
        for (int half = size / 2; half >= 1; half /= 2)
        {
            if (i < half)
            {
                partial[i] += partial[i + half];
            }
            Group.Barrier();
        }
        if (i == 0)
        {
            loss[0] = partial[0] / batch;
        }
    }

    // Thread (g, j): the sum over group g's contributions, in batch order, of coef·src at column j.
    private static void ScatterKernel(Index1D index, ArrayView<float> userTable, ArrayView<float> itemTable, ArrayView<float> userGradient,
        ArrayView<float> itemGradient, ArrayView<int> ints, ArrayView<float> s, int batch, int userGroups, int groups, int width, int accumulate)
    {
        int g = index / width, j = index - g * width;
        int rowsAt = 3 * batch, startAt = rowsAt + groups, entriesAt = startAt + groups + 1;
        float acc = 0f;
        int end = ints[startAt + g + 1];
        for (int k = ints[startAt + g]; k < end; k++)
        {
            int code = ints[entriesAt + k];
            int t = code / 3, kind = code - 3 * t;
            float st = s[t];
            if (kind == 0)
            {
                float diff = itemTable[(long)ints[batch + t] * width + j] - itemTable[(long)ints[2 * batch + t] * width + j];
                acc += -st * diff;
            }
            else
            {
                float e = userTable[(long)ints[t] * width + j];
                acc += (kind == 1 ? -st : st) * e;
            }
        }
        long at = (long)ints[rowsAt + g] * width + j;
        if (g < userGroups)
        {
            userGradient[at] = accumulate != 0 ? userGradient[at] + acc : acc;
        }
        else
        {
            itemGradient[at] = accumulate != 0 ? itemGradient[at] + acc : acc;
        }
    }
}
