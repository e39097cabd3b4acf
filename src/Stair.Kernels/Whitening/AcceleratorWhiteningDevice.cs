// Whitening on an ILGPU accelerator (CUDA, OpenCL, the simulator): the features are
// uploaded once, centered and transposed there, and every large product runs on the
// shared DenseKernels; only ℓ-wide results cross to the host.
using ILGPU.Runtime;
using Stair.Kernels.Gpu;
using Stair.Kernels.Gpu.Dense;
using Stair.Kernels.Gpu.Whitening;

namespace Stair.Kernels.WhiteningAlgebra;

internal sealed class AcceleratorWhiteningDevice(ComputeContext context, IlgpuDevice device) : WhiteningDevice
{
    private readonly WhiteningKernels _kernels = device.Kernels<WhiteningKernels>();
    private readonly DenseKernels _dense = device.Kernels<DenseKernels>();

    public override SimdTier HostTier { get; } = SimdTiers.Resolve(context.CpuOptions.Tier);

    public override int HostThreads => context.CpuOptions.EffectiveThreads;

    // A table on the device, or nothing for an empty matrix (a table needs width ≥ 1).
    private sealed class TableOperand(DeviceTable? table, int rows, int columns) : DenseOperand(rows, columns)
    {
        public DeviceTable? Table { get; } = table;

        public override void Dispose() => Table?.Dispose();
    }

    private static DeviceTable? Table(DenseOperand operand) => ((TableOperand)operand).Table;

    public override (DenseOperand Centered, DenseOperand Transposed) LoadCentered(ReadOnlyMemory<float> features, int rows, int columns)
    {
        using DeviceTable x = context.Upload(features.Span, rows, columns);
        using DeviceTable means = context.CreateTable(1, columns);
        DeviceTable centered = context.CreateTable(rows, columns);
        DeviceTable transposed = context.CreateTable(columns, rows);
        _kernels.Means(device.Stream, x.View, means.View, rows, columns);
        _kernels.Center(device.Stream, x.View, means.View, centered.View, transposed.View, rows, columns);
        context.Synchronize();
        return (new TableOperand(centered, rows, columns), new TableOperand(transposed, columns, rows));
    }

    public override DenseOperand Upload(float[] data, int rows, int columns)
        => rows == 0 || columns == 0 ? new TableOperand(null, rows, columns) : new TableOperand(context.Upload(data.AsSpan(0, rows * columns), rows, columns), rows, columns);

    public override float[] Download(DenseOperand operand) => Table(operand)?.ToArray() ?? [];

    public override DenseOperand Product(DenseOperand a, DenseOperand b)
    {
        if (a.Rows == 0 || b.Rows == 0)
        {
            return new TableOperand(null, a.Rows, b.Rows);
        }
        DeviceTable c = context.CreateTable(a.Rows, b.Rows);
        _dense.MultiplyTransposed(device.Stream, Table(a)!.View, a.Columns, Table(b)!.View, b.Columns, c.View, b.Rows, a.Rows, b.Rows, a.Columns);
        context.Synchronize();
        return new TableOperand(c, a.Rows, b.Rows);
    }

    public override DenseOperand Gram(DenseOperand a) => Product(a, a);
}
