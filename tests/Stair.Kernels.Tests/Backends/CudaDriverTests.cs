// The CUDA driver by its real name, checked on a machine without one: a stand-in driver built
// from Fixtures/cuda_stub.c (one compute-capability-9.0 device on driver 13.0) is installed as
// libcuda.so.1 only, the name GPU machines ship and ILGPU 1.5.3 does not load. `devices` in a child
// process must then show the file it loaded, cuInit's result, the driver version, and the device
// as ILGPU lists it (warp size and SM count come from ILGPU's own CudaDevice, so they appear only
// when ILGPU reached the stub through the library's resolver), with the target ILGPU compiles for.
using System.Diagnostics;
using Stair.Kernels.Gpu;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Backends;

public class CudaDriverTests
{
    [SkippableFact]
    public void Devices_finds_a_driver_installed_only_as_libcuda_so_1()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the driver's file names are Linux's");
        Skip.If(BackendDiscovery.IsAvailable(Backend.Cuda), "a real CUDA driver is present; the stand-in would not be loaded");
        string dir = Directory.CreateTempSubdirectory("stair-cuda-stub-").FullName;
        try
        {
            string source = Path.Combine(AppContext.BaseDirectory, "Fixtures", "cuda_stub.c");
            (int gcc, string gccOutput) = Run("gcc", ["-shared", "-fPIC", "-O1", "-o", Path.Combine(dir, "libcuda.so.1"), source], null);
            Assert.True(gcc == 0, "gcc could not build the stand-in driver: " + gccOutput);
            string log = Path.Combine(dir, "calls.log");
            var environment = new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = dir, ["STAIR_CUDA_STUB_LOG"] = log };
            (int exit, string output) = Run("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "stair-kernels.dll"), "devices", "--require", "cuda"], environment);

            Assert.True(exit == 0, output);
            Assert.Contains($"driver: {Path.Combine(dir, "libcuda.so.1")}, cuInit CUDA_SUCCESS (0), driver 13.0, 1 device(s)", output);
            Assert.Contains("+ Stub H200", output);
            Assert.Contains("compute capability 9.0, warp size 32, 132 SMs; ILGPU compiles for sm_90 with PTX ISA 8.8", output);
            // The library's probe calls cuInit once; ILGPU's device enumeration is the second caller.
            Assert.True(File.ReadLines(log).Count(l => l == "cuInit") >= 2, "ILGPU never called the driver: " + File.ReadAllText(log));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void No_driver_is_reported_with_the_names_tried()
    {
        Skip.If(BackendDiscovery.IsAvailable(Backend.Cuda), "a CUDA driver is present");
        BackendReport cuda = BackendDiscovery.Probe().Single(r => r.Backend == Backend.Cuda);
        Assert.False(cuda.Available);
        Assert.Contains(string.Join(" or ", CudaDriver.LibraryNames), cuda.Reason);
    }

    [Fact]
    public void Error_chains_name_every_inner_exception()
    {
        var ex = new InvalidOperationException("outer", new DllNotFoundException("libcuda.so", new IOException("inner")));
        Assert.Equal("InvalidOperationException: outer → DllNotFoundException: libcuda.so → IOException: inner", CudaDriver.Chain(ex));
    }

    private static (int Exit, string Output) Run(string file, string[] arguments, Dictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach ((string key, string value) in environment ?? [])
        {
            start.Environment[key] = value;
        }
        ChildProcess.Result child = ChildProcess.Run(start, TimeSpan.FromMinutes(2));
        return (child.ExitCode, child.Output);
    }
}
