// The ILGPU backend of the dense product: one launch of DenseKernels on whole tables
// (asynchronous; a download or Synchronize waits for it).
namespace Stair.Kernels.Gpu.Dense;

internal sealed class IlgpuDense(IlgpuDevice device) : IDenseBackend
{
    public void MultiplyTransposed(DeviceTable a, DeviceTable b, DeviceTable c, bool sameTable)
    {
        int m = a.Rows, n = b.Rows, k = a.Width;
        device.Kernels<DenseKernels>().MultiplyTransposed(device.Stream, a.View, k, b.View, k, c.View, n, m, n, k);
    }
}
