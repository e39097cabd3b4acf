// What a device cannot hold is refused before anything is allocated, with the size and the device
// named, and the context stays usable afterwards.
using Stair.Kernels.Tests.Infrastructure;

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
        // Then just past the limit the library checks (the device's reported memory, named in the message):
        // the fewest float32 elements rows × width over that many bytes, at most one row's worth past it. This
        // is refused by the library's own check, not by the driver or by the host declining to overcommit:
        // nothing of that size is ever requested from either.
        var m = System.Text.RegularExpressions.Regex.Match(e.Message, @"more than the ([0-9,]+) bytes of");
        Assert.True(m.Success, e.Message);
        long limit = long.Parse(m.Groups[1].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);
        long elements = limit / sizeof(float) + 1;                                   // one float past what the check allows
        int width = (int)Math.Max(1, (elements + int.MaxValue - 1) / int.MaxValue);  // rows must fit an int
        int rows = (int)((elements + width - 1) / width);
        decimal bytes = (decimal)rows * width * sizeof(float);
        Assert.InRange(bytes - limit, 1, (decimal)width * sizeof(float) + sizeof(float));
        var past = Assert.Throws<OutOfMemoryException>(() => context.CreateTable(rows, width));
        Assert.Contains($"{bytes:N0} bytes, more than the {limit:N0} bytes of", past.Message);
        using DeviceTable small = context.Upload([1f, 2f, 3f], 1, 3);
        Bits.AssertBitsEqual([1f, 2f, 3f], small.ToArray(), "a small table after the refusals");
    }

    [Fact]
    public void A_host_table_past_an_arrays_limit_is_refused_naming_rows_and_width()
    {
        using ComputeContext context = ComputeContext.Create(Backend.Cpu);
        var e = Assert.ThrowsAny<ArgumentException>(() => context.CreateTable(1 << 30, 64));
        Assert.Contains("1073741824 × 64", e.Message);
    }
}
