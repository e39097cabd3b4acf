// A graph prepared once for propagation on the CPU: the validated CSR, its transpose (or
// the matrix itself when it is symmetric), the nnz-balanced row partitions and the
// resolved SIMD tier. Every kernel call after that is allocation-free.
using Stair.Kernels.Cpu.Propagation;

namespace Stair.Kernels;

/// <summary>
/// A CSR matrix prepared for repeated propagation calls on the CPU (see <see cref="Propagation"/>).
/// </summary>
/// <remarks>
/// Preparing checks whether the matrix equals its transpose (O(nnz), in place when its rows are
/// sorted without repeats); when it does (as Ã and S̃ do) the matrix serves both directions,
/// otherwise the plan builds and keeps the transpose (another nnz entries of memory). A plan is
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
        : this(matrix, options, forwardOnly: false)
    {
    }

    /// <summary>A plan for products with A only (no symmetry check, no transpose): the distributed driver's local blocks.</summary>
    internal PropagationPlan(CsrMatrix matrix, CpuOptions? options, bool forwardOnly)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        options ??= CpuOptions.Default;
        options.Validate();
        Matrix = matrix;
        Options = options;
        Tier = SimdTiers.Resolve(options.Tier);
        Threads = options.EffectiveThreads;

        // A symmetric matrix with sorted rows (every builder's) is recognized in place; only a
        // matrix that is not symmetric pays for (and keeps) its transpose.
        _bounds = RowPartition.Build(matrix.RowOffsets, Threads);
        if (forwardOnly)
        {
            ForwardOnly = true;
            Transposed = matrix;
            _transposedBounds = _bounds;
            return;
        }
        IsSymmetric = matrix.IsSymmetric();
        Transposed = IsSymmetric ? matrix : matrix.Transpose();
        _transposedBounds = IsSymmetric ? _bounds : RowPartition.Build(Transposed.RowOffsets, Threads);
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

    /// <summary>True for a plan made for products with A only (transposed products are refused).</summary>
    internal bool ForwardOnly { get; }

    internal CsrMatrix Select(bool transpose) => !transpose ? Matrix
        : ForwardOnly ? throw new InvalidOperationException("This plan was prepared for products with A only.") : Transposed;

    internal int[] Bounds(bool transpose) => transpose ? _transposedBounds : _bounds;
}
