// Skips a test whose ILGPU backend has no device here, as tests/Stair.Kernels.Tests does
// (BackendPropagationTests.SkipIfMissing): with STAIR_REQUIRE_OPENCL=1 / STAIR_REQUIRE_CUDA=1
// (CI with PoCL, the GPU check) a missing or rejected device fails the test with the reason
// instead. The CPU backend and the ILGPU CPU simulator always run.
using Stair.Kernels;

namespace Stair.Recommender.Tests.Infrastructure;

internal static class BackendRequirement
{
    public static void SkipIfMissing(Backend backend)
    {
        string? required = backend switch
        {
            Backend.OpenCL => "STAIR_REQUIRE_OPENCL",
            Backend.Cuda => "STAIR_REQUIRE_CUDA",
            _ => null,
        };
        if (required is null)
        {
            return;
        }
        BackendReport report = BackendDiscovery.Probe().First(r => r.Backend == backend);
        string reason = $"no usable {backend} device: {report.Reason}"
            + string.Concat(report.Devices.Where(d => !d.Usable).Select(d => $"; {d.Name}: {d.Problem}")) + (report.Driver is null ? "" : $" (driver: {report.Driver})");
        if (Environment.GetEnvironmentVariable(required) == "1")
        {
            Assert.True(report.Available, $"{required}=1 but {reason}");
            return;
        }
        // The reason goes into the skip message: one run here skipped OpenCL while PoCL was in use by a parallel test.
        Skip.IfNot(report.Available, reason);
    }
}
