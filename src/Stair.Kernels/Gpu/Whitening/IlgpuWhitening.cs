// The ILGPU backend of whitening: features centered and transposed on the device, products on
// the shared dense kernels (AcceleratorWhiteningDevice).
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Gpu.Whitening;

internal sealed class IlgpuWhitening(ComputeContext owner, IlgpuDevice device) : IWhiteningBackend
{
    public WhiteningDevice OpenWhitening() => new AcceleratorWhiteningDevice(owner, device);
}
