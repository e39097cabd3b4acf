// Faults that need a process of their own (issue 17.6): the OpenCL loader pointed at an empty vendors
// folder (ocl-icd reads OCL_ICD_VENDORS once per process, so this process's PoCL cannot be hidden from it),
// and a host whose memory limit is below a table (DOTNET_GCHeapHardLimit: the limit the GC reports, which
// the CPU backend checks). The parent test starts this test assembly (Infrastructure/InProcessRunner) with
// the environment set and one child test selected; the child tests skip when run any other way.
// CUDA needs no child: this machine has no driver at all.
using System.Diagnostics;
using Stair.Kernels.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Stair.Kernels.Tests.Backends;

public class FaultChildProcessTests(ITestOutputHelper output)
{
    private const string ChildVariable = "STAIR_FAULT_CHILD";

    [SkippableFact]
    public void Cuda_without_a_driver_is_a_BackendUnavailableException_naming_cuda_and_the_driver_files()
    {
        Skip.If(BackendDiscovery.IsAvailable(Backend.Cuda), "a CUDA driver is present");
        var e = Assert.Throws<BackendUnavailableException>(() => ComputeContext.Create(Backend.Cuda));
        Assert.Equal(Backend.Cuda, e.Backend);
        Assert.StartsWith("Backend Cuda is not available: ", e.Message);
        output.WriteLine($"CUDA refused: {e.Message}");
        Assert.Contains(string.Join(" or ", Gpu.CudaDriver.LibraryNames), e.Message);
        // Nothing was left half-open: the other backends still work in this process.
        using ComputeContext cpu = ComputeContext.Create(Backend.Cpu);
        new FaultTests.Workload(cpu, null).Propagate("CPU after the CUDA refusal");
        using ComputeContext simulator = ComputeContext.Create(Backend.IlgpuCpu);
        new FaultTests.Workload(simulator, cpu).Propagate("simulator after the CUDA refusal");
    }

    [Fact]
    public void OpenCL_with_no_driver_registered_is_a_BackendUnavailableException_naming_opencl()
    {
        string vendors = Directory.CreateTempSubdirectory("stair-no-icd-").FullName;
        try
        {
            RunChild("no-opencl", new() { ["OCL_ICD_VENDORS"] = vendors, ["OPENCL_VENDOR_PATH"] = vendors });
        }
        finally
        {
            Directory.Delete(vendors, recursive: true);
        }
    }

    [SkippableFact]
    public void Child_no_opencl()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable(ChildVariable) == "no-opencl", "runs only as the child of OpenCL_with_no_driver_registered_…");
        var e = Assert.Throws<BackendUnavailableException>(() => ComputeContext.Create(Backend.OpenCL));
        Console.WriteLine($"OpenCL refused: {e.Message}");
        Assert.Equal(Backend.OpenCL, e.Backend);
        Assert.StartsWith("Backend OpenCL is not available: ", e.Message);
        Assert.Contains("OCL_ICD_VENDORS", e.Message);
        Assert.False(BackendDiscovery.IsAvailable(Backend.OpenCL));
        // Auto falls back to the CPU, and the other backends work.
        using ComputeContext auto = ComputeContext.Create(Backend.Auto);
        Assert.Equal(Backend.Cpu, auto.Backend);
        new FaultTests.Workload(auto, null).Propagate("CPU after the OpenCL refusal");
        using ComputeContext simulator = ComputeContext.Create(Backend.IlgpuCpu);
        new FaultTests.Workload(simulator, auto).Propagate("simulator after the OpenCL refusal");
    }

    // 768 MiB for the whole child (the test framework needs ~100 MiB); the table asks for 1 GiB.
    private const long HardLimit = 768L << 20;

    [Fact]
    public void A_cpu_table_past_the_hosts_memory_limit_is_refused_with_the_size_and_the_limit()
    {
        RunChild("host-limit", new() { ["DOTNET_GCHeapHardLimit"] = $"0x{HardLimit:X}" });
    }

    [SkippableFact]
    public void Child_host_limit()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable(ChildVariable) == "host-limit", "runs only as the child of A_cpu_table_past_the_hosts_memory_limit_…");
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Assert.InRange(limit, 1, HardLimit);
        using ComputeContext context = ComputeContext.Create(Backend.Cpu);
        const int rows = 1 << 18, width = 1024; // 1 GiB of floats, under the 2³¹-element array limit
        var e = Assert.Throws<OutOfMemoryException>(() => context.CreateTable(rows, width));
        Console.WriteLine($"CPU refused: {e.Message}");
        Assert.Equal($"Could not allocate a {rows} × {width} table: {(long)rows * width * 4:N0} bytes, more than the {limit:N0} bytes of memory available to this process (the GC's limit).", e.Message);
        new FaultTests.Workload(context, null).Propagate("CPU after the refusal");
        using DeviceTable near = context.CreateTable(1 << 16, 1024); // 256 MiB: under the limit, allocated for real
        Assert.Equal(0f, near.ToArray()[^1]);
    }

    private void RunChild(string scenario, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet");
        foreach (string argument in new[] { "exec", typeof(FaultChildProcessTests).Assembly.Location, "--filter", $"*{nameof(FaultChildProcessTests)}.Child_{scenario.Replace('-', '_')}" })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment[ChildVariable] = scenario;
        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }
        ChildProcess.Result child = ChildProcess.Run(start, TimeSpan.FromMinutes(3));
        output.WriteLine(child.Output);
        Assert.True(child.ExitCode == 0 && child.Stdout.Contains("1 passed, 0 failed, 0 skipped", StringComparison.Ordinal),
            $"child '{scenario}' exited {child.ExitCode}:\n{child.Output}");
    }
}
