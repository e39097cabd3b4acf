// What a device cannot hold is refused before anything is allocated, with the size and the device
// named, and the context stays usable afterwards.
namespace Stair.Kernels.Tests.Backends;

public class DeviceLimitTests
{
    [SkippableTheory]
    [InlineData(Backend.IlgpuCpu)]
    [InlineData(Backend.OpenCL)]
    [InlineData(Backend.Cuda)]
    public void A_table_past_the_devices_memory_is_refused_before_allocating(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        using ComputeContext context = ComputeContext.Create(backend);
        // 2³¹ − 1 rows × 2³¹ − 1 columns × 4 bytes: 1.8e19 bytes, past any device and past 2⁶³.
        var e = Assert.Throws<OutOfMemoryException>(() => context.CreateTable(int.MaxValue, int.MaxValue));
        Assert.Contains("18,446,744,056,529,682,436 bytes", e.Message);
        Assert.Contains("more than the", e.Message);
        using DeviceTable small = context.Upload([1f, 2f, 3f], 1, 3);
        Assert.Equal([1f, 2f, 3f], small.ToArray());
    }

    [Fact]
    public void A_host_table_past_an_arrays_limit_is_refused_naming_rows_and_width()
    {
        using ComputeContext context = ComputeContext.Create(Backend.Cpu);
        var e = Assert.ThrowsAny<ArgumentException>(() => context.CreateTable(1 << 30, 64));
        Assert.Contains("1073741824 × 64", e.Message);
    }
}
