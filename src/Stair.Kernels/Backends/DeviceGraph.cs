// A CSR graph prepared on a ComputeContext's device: the matrix and its transpose (one
// copy when symmetric) in device memory, or a PropagationPlan on the CPU backend.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels;

/// <summary>A sparse matrix resident on a <see cref="ComputeContext"/>'s device, ready for propagation.</summary>
public sealed class DeviceGraph : IDisposable
{
    private readonly List<IDisposable> _buffers;
    private bool _disposed;

    internal DeviceGraph(ComputeContext owner, CsrMatrix matrix, PropagationPlan? plan, DeviceCsr? forward, DeviceCsr? transposed, bool symmetric, List<IDisposable> buffers)
    {
        Owner = owner;
        Rows = matrix.Rows;
        Columns = matrix.Columns;
        NonZeros = matrix.NonZeros;
        Plan = plan;
        Forward = forward;
        TransposedCsr = transposed;
        IsSymmetric = symmetric;
        _buffers = buffers;
    }

    /// <summary>The context that owns the graph.</summary>
    public ComputeContext Owner { get; }

    /// <summary>Rows of the matrix.</summary>
    public int Rows { get; }

    /// <summary>Columns of the matrix.</summary>
    public int Columns { get; }

    /// <summary>Stored entries.</summary>
    public long NonZeros { get; }

    /// <summary>True when A equals Aᵀ, so one copy serves both directions.</summary>
    public bool IsSymmetric { get; }

    internal PropagationPlan? Plan { get; }

    internal DeviceCsr? Forward { get; }

    internal DeviceCsr? TransposedCsr { get; }

    internal bool IsDisposed => _disposed;

    /// <summary>Frees the graph's device memory.</summary>
    public void Dispose()
    {
        lock (Owner.Gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                foreach (IDisposable buffer in _buffers)
                {
                    buffer.Dispose();
                }
                _buffers.Clear();
            }
        }
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed || Owner.IsDisposed, this);
}

/// <summary>Device views of one CSR matrix, with its hub rows split into chunks when it has any.</summary>
internal sealed record DeviceCsr(int Rows, int Columns, ArrayView<long> RowOffsets, ArrayView<int> ColumnIndices, ArrayView<float> Values, HubChunks? Hubs);

/// <summary>
/// Rows longer than <paramref name="Threshold"/> entries ("hubs"), each split into chunks of
/// consecutive entries: hub h owns chunks [ChunkPointers[h], ChunkPointers[h+1]), chunk c
/// covers entries [ChunkBegin[c], ChunkEnd[c]).
/// </summary>
internal sealed record HubChunks(int Threshold, int HubCount, int ChunkCount, ArrayView<int> HubRows, ArrayView<int> ChunkPointers,
    ArrayView<long> ChunkBegin, ArrayView<long> ChunkEnd);
