// The ILGPU backend of the BPR loss: the batch's indices are grouped by row on the host
// (BprBatchPlan, the CPU engine's own grouping), uploaded in one copy into a buffer kept
// between calls, and BprLossKernels run the batch; only the loss scalar comes back.
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu.BprLoss;

namespace Stair.Kernels.Gpu.BprLoss;

internal sealed class IlgpuBprLoss(IlgpuDevice device) : IBprLossBackend
{
    private readonly BprBatchPlan _plan = new();
    private readonly DeviceScratch<int> _ints = new(device, "the BPR batch");
    private readonly DeviceScratch<float> _scratch = new(device, "BPR scratch");
    private readonly DeviceScratch<float> _loss = new(device, "the BPR loss");
    private int[] _host = [];

    public double Compute(TableRows users, TableRows items, ReadOnlySpan<int> userIndices, ReadOnlySpan<int> positives,
        ReadOnlySpan<int> negatives, TableRows userGradient, TableRows itemGradient, bool accumulate)
    {
        BprLossKernels kernels = device.Kernels<BprLossKernels>();
        int b = userIndices.Length;
        int groups = 0;
        if (b > 0)
        {
            _plan.Build(userIndices, positives, negatives, users.RowCount, items.RowCount);
            groups = _plan.Groups;
        }
        // [users | positives | negatives | group rows | group starts | entries]
        int length = checked(3 * b + 2 * groups + 1 + 3 * b);
        if (_host.Length < length)
        {
            _host = new int[length];
        }
        Span<int> host = _host.AsSpan(0, length);
        userIndices.CopyTo(host);
        positives.CopyTo(host[b..]);
        negatives.CopyTo(host[(2 * b)..]);
        if (b > 0)
        {
            _plan.GroupRows.AsSpan(0, groups).CopyTo(host[(3 * b)..]);
            _plan.GroupStart.AsSpan(0, groups + 1).CopyTo(host[(3 * b + groups)..]);
            _plan.Entries.AsSpan(0, 3 * b).CopyTo(host[(3 * b + 2 * groups + 1)..]);
        }
        else
        {
            host[0] = 0;
        }
        ArrayView<int> ints = _ints.View(length, minimum: 1024);
        ArrayView<float> scratch = _scratch.View(2L * b, minimum: 1024);
        ArrayView<float> loss = _loss.View(1);
        ints.SubView(0, length).CopyFromCPU(device.Stream, host);
        kernels.Run(device.Stream, users.View, items.View, userGradient.View, itemGradient.View, ints, scratch, loss, b,
            b > 0 ? _plan.UserGroups : 0, groups, users.Width, accumulate);
        Span<float> result = stackalloc float[1];
        loss.SubView(0, 1).CopyToCPU(device.Stream, result);
        device.Stream.Synchronize();
        return result[0];
    }

    public void Dispose()
    {
        _ints.Dispose();
        _scratch.Dispose();
        _loss.Dispose();
    }
}
