// FSC/BSC's per-dimension strengths and layer count, prepared once on a context's device:
// β and the final scale c_j = 1 / Σ_{l=0..L} β_jˡ live next to the tables, so a training
// step copies nothing for them.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels;

/// <summary>The strengths β (length d) and layer count L of a stepwise convolution, resident on a device.</summary>
public sealed class StepwiseFilter : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _beta;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _scale;
    private bool _disposed;

    internal StepwiseFilter(ComputeContext owner, float[] beta, float[] scale, int layers,
        MemoryBuffer1D<float, Stride1D.Dense>? deviceBeta, MemoryBuffer1D<float, Stride1D.Dense>? deviceScale)
    {
        Owner = owner;
        Beta = beta;
        Scale = scale;
        Layers = layers;
        _beta = deviceBeta;
        _scale = deviceScale;
    }

    /// <summary>The context that owns the filter.</summary>
    public ComputeContext Owner { get; }

    /// <summary>Number of layers L.</summary>
    public int Layers { get; }

    /// <summary>Width d.</summary>
    public int Width => Beta.Length;

    internal float[] Beta { get; }

    internal float[] Scale { get; }

    internal ArrayView<float> BetaView => _beta!.View;

    internal ArrayView<float> ScaleView => _scale!.View;

    internal bool IsDisposed => _disposed;

    /// <summary>Frees the filter's device memory.</summary>
    public void Dispose()
    {
        lock (Owner.Gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                _beta?.Dispose();
                _scale?.Dispose();
            }
        }
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed || Owner.IsDisposed, this);
}
