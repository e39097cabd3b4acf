// A graph prepared once for propagation on the CPU: the validated CSR, its transpose (or
// the matrix itself when it is symmetric), the nnz-balanced row partitions and the
// resolved SIMD tier. Every kernel call after that is allocation-free.
using Stair.Kernels.Cpu.Propagation;

namespace Stair.Kernels;

/// <summary>
/// A CSR matrix prepared for repeated propagation calls on the CPU (see <see cref="Propagation"/>).
/// </summary>
/// <remarks>
/// Preparing costs one transpose of the matrix (O(nnz)); when the matrix equals its transpose
/// (as Ã and S̃ do) the transpose is dropped and the matrix serves both directions. A plan is
/// immutable and may be shared by threads; concurrent calls are serialized on the worker pool.
/// </remarks>
public sealed class PropagationPlan
{
    private readonly int[] _bounds;
    private readonly int[] _transposedBounds;

    /// <summary>Prepares <paramref name="matrix"/> for propagation.</summary>
    /// <param name="matrix">The graph.</param>
    /// <param name="options">SIMD tier and thread count; <see cref="CpuOptions.Default"/> when null.</param>
    /// <exception cref="NotSupportedException">A forced SIMD tier is not supported on this machine.</exception>
    public PropagationPlan(CsrMatrix matrix, CpuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        options ??= CpuOptions.Default;
        options.Validate();
        Matrix = matrix;
        Options = options;
        Tier = SimdTiers.Resolve(options.Tier);
        Threads = options.EffectiveThreads;

        CsrMatrix transposed = matrix.Transpose();
        IsSymmetric = matrix.IsSquare && matrix.SortedRows() is var sorted
            && sorted.RowPointers.SequenceEqual(transposed.RowPointers)
            && sorted.ColumnIndices.SequenceEqual(transposed.ColumnIndices)
            && sorted.Values.SequenceEqual(transposed.Values);
        Transposed = IsSymmetric ? matrix : transposed;
        _bounds = RowPartition.Build(matrix.RowPointers, Threads);
        _transposedBounds = IsSymmetric ? _bounds : RowPartition.Build(Transposed.RowPointers, Threads);
    }

    /// <summary>The matrix A.</summary>
    public CsrMatrix Matrix { get; }

    /// <summary>Aᵀ as a CSR matrix (the same instance as <see cref="Matrix"/> when A is symmetric).</summary>
    public CsrMatrix Transposed { get; }

    /// <summary>True when A equals Aᵀ exactly, so forward and transpose products share one matrix.</summary>
    public bool IsSymmetric { get; }

    /// <summary>The options the plan was made with.</summary>
    public CpuOptions Options { get; }

    /// <summary>The SIMD tier the kernels run with (<see cref="SimdTier.Auto"/> resolved).</summary>
    public SimdTier Tier { get; }

    /// <summary>Threads used per call, the caller included.</summary>
    public int Threads { get; }

    internal CsrMatrix Select(bool transpose) => transpose ? Transposed : Matrix;

    internal int[] Bounds(bool transpose) => transpose ? _transposedBounds : _bounds;
}
