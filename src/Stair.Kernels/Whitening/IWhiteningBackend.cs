// The seam of whitening: the solver (WhiteningSolver) drives a WhiteningDevice, which the
// backend supplies: host SIMD products on the CPU backend (CpuWhiteningDevice), device tables
// and kernels on the ILGPU backends (AcceleratorWhiteningDevice).
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels;

internal interface IWhiteningBackend
{
    /// <summary>A device for one whitening run (disposed by the caller).</summary>
    WhiteningDevice OpenWhitening();
}
