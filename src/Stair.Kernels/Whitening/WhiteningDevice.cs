// Where whitening's large products run. The solver (WhiteningSolver) only ever asks for
// "C = A·Bᵀ" (the shared NT product), "C = A·Aᵀ" and the centered features with their
// transpose; the thin d×d-sized algebra stays on the host in float64. One implementation
// per backend family: the SIMD CPU (DenseProduct) and an ILGPU accelerator (DenseKernels).
using Stair.Kernels.Cpu;

namespace Stair.Kernels.WhiteningCore;

/// <summary>A row-major rows × columns float32 matrix living on a <see cref="WhiteningDevice"/>.</summary>
internal abstract class DenseOperand : IDisposable
{
    protected DenseOperand(int rows, int columns)
    {
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }

    public int Columns { get; }

    public virtual void Dispose()
    {
    }
}

internal abstract class WhiteningDevice : IDisposable
{
    /// <summary>The column-centered features X_c (rows × columns) and X_cᵀ (columns × rows).</summary>
    public abstract (DenseOperand Centered, DenseOperand Transposed) LoadCentered(ReadOnlyMemory<float> features, int rows, int columns);

    /// <summary>Copies a host matrix to the device.</summary>
    public abstract DenseOperand Upload(float[] data, int rows, int columns);

    /// <summary>The matrix's elements on the host (may be the operand's own storage: read only).</summary>
    public abstract float[] Download(DenseOperand operand);

    /// <summary>C = A·Bᵀ (A.Rows × B.Rows); A and B share the inner dimension.</summary>
    public abstract DenseOperand Product(DenseOperand a, DenseOperand b);

    /// <summary>C = A·Aᵀ, exactly symmetric.</summary>
    public abstract DenseOperand Gram(DenseOperand a);

    public virtual void Dispose()
    {
    }
}

/// <summary>The SIMD CPU backend: host arrays, the shared DenseProduct on every thread.</summary>
internal sealed unsafe class CpuWhiteningDevice(SimdTier tier, int threads) : WhiteningDevice
{
    public int Threads => threads;

    private sealed class HostOperand(float[] data, int rows, int columns) : DenseOperand(rows, columns)
    {
        public float[] Data { get; } = data;
    }

    private static float[] Data(DenseOperand operand) => ((HostOperand)operand).Data;

    public override (DenseOperand Centered, DenseOperand Transposed) LoadCentered(ReadOnlyMemory<float> features, int rows, int columns)
    {
        var centered = new float[(long)rows * columns];
        var transposed = new float[(long)rows * columns];
        var job = new CenterJob(features, centered, transposed, rows, columns);
        CpuWorkerPool.Shared.Run(job, threads);
        job.Finish(threads);
        return (new HostOperand(centered, rows, columns), new HostOperand(transposed, columns, rows));
    }

    public override DenseOperand Upload(float[] data, int rows, int columns) => new HostOperand(data, rows, columns);

    public override float[] Download(DenseOperand operand) => Data(operand);

    public override DenseOperand Product(DenseOperand a, DenseOperand b)
    {
        var c = new float[(long)a.Rows * b.Rows];
        if (c.Length > 0 && a.Columns > 0)
        {
            fixed (float* pa = Data(a), pb = Data(b), pc = c)
            {
                Cpu.Dense.DenseProduct.MultiplyTransposed(tier, threads, pa, a.Columns, pb, b.Columns, pc, b.Rows, a.Rows, b.Rows, a.Columns);
            }
        }
        return new HostOperand(c, a.Rows, b.Rows);
    }

    public override DenseOperand Gram(DenseOperand a)
    {
        var c = new float[(long)a.Rows * a.Rows];
        if (c.Length > 0 && a.Columns > 0)
        {
            fixed (float* pa = Data(a), pc = c)
            {
                Cpu.Dense.DenseProduct.MultiplySelfTransposed(tier, threads, pa, a.Columns, pc, a.Rows, a.Rows, a.Columns);
            }
        }
        return new HostOperand(c, a.Rows, a.Rows);
    }

    // Two phases over column blocks: column means in float64 (fixed order over rows, so any
    // thread count gives the same means), then centered rows and the transposed copy.
    private sealed class CenterJob : ParallelJob
    {
        private const int Block = 64;
        private readonly ReadOnlyMemory<float> _features;
        private readonly float[] _centered, _transposed;
        private readonly int _rows, _columns;
        private readonly float[] _means;
        private bool _secondPhase;

        public CenterJob(ReadOnlyMemory<float> features, float[] centered, float[] transposed, int rows, int columns)
        {
            _features = features;
            _centered = centered;
            _transposed = transposed;
            _rows = rows;
            _columns = columns;
            _means = new float[columns];
            PartCount = (columns + Block - 1) / Block;
        }

        public void Finish(int threads)
        {
            _secondPhase = true;
            PartCount = (_columns + Block - 1) / Block;
            CpuWorkerPool.Shared.Run(this, threads);
        }

        public override void Execute(int part)
        {
            int c0 = part * Block, c1 = Math.Min(_columns, c0 + Block);
            ReadOnlySpan<float> x = _features.Span;
            if (!_secondPhase)
            {
                Span<double> sums = stackalloc double[Block];
                sums.Clear();
                for (int i = 0; i < _rows; i++)
                {
                    ReadOnlySpan<float> row = x.Slice(i * _columns + c0, c1 - c0);
                    for (int c = 0; c < row.Length; c++)
                    {
                        sums[c] += row[c];
                    }
                }
                for (int c = c0; c < c1; c++)
                {
                    _means[c] = _rows == 0 ? 0f : (float)(sums[c - c0] / _rows);
                }
                return;
            }
            // Rows in tiles so the transposed writes stay within a few cache lines per column.
            const int RowTile = 64;
            for (int i0 = 0; i0 < _rows; i0 += RowTile)
            {
                int i1 = Math.Min(_rows, i0 + RowTile);
                for (int i = i0; i < i1; i++)
                {
                    int at = i * _columns;
                    for (int c = c0; c < c1; c++)
                    {
                        float v = x[at + c] - _means[c];
                        _centered[at + c] = v;
                        _transposed[(long)c * _rows + i] = v;
                    }
                }
            }
        }
    }
}
