// What this machine offers: every backend, its devices and their capabilities, and for a
// missing backend the plain reason (no libcuda, no OpenCL loader, no ICD, an OpenCL device
// without generic address space, …). `stair-kernels devices` prints this.
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Stair.Kernels.Gpu;

namespace Stair.Kernels;

/// <summary>One device of a backend.</summary>
/// <param name="Name">Device name.</param>
/// <param name="Usable">True when the library can run on it.</param>
/// <param name="Details">Capabilities: memory, warp size, compute capability or OpenCL version, generic address space.</param>
/// <param name="Problem">Why it cannot be used, when <paramref name="Usable"/> is false.</param>
public sealed record DeviceReport(string Name, bool Usable, string Details, string? Problem);

/// <summary>A backend, whether it is available, its devices, and why not when it is missing.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Available">True when at least one usable device exists.</param>
/// <param name="Devices">Devices seen (usable or not).</param>
/// <param name="Reason">Why the backend is unavailable, when it is.</param>
public sealed record BackendReport(Backend Backend, bool Available, IReadOnlyList<DeviceReport> Devices, string? Reason)
{
    /// <summary>The driver or runtime behind the backend, in words (CUDA: the library loaded and from where, cuInit's result, the driver version).</summary>
    public string? Driver { get; init; }
}

/// <summary>Discovers backends and devices.</summary>
public static class BackendDiscovery
{
    /// <summary>Probes every backend. Never throws for a missing driver: that is reported as a reason.</summary>
    public static IReadOnlyList<BackendReport> Probe()
    {
        return [ProbeCpu(), ProbeCuda(), ProbeOpenCL(), ProbeIlgpuCpu()];
    }

    /// <summary>True when a device for <paramref name="backend"/> exists (Auto and Cpu always do).</summary>
    public static bool IsAvailable(Backend backend) => backend switch
    {
        Backend.Auto or Backend.Cpu or Backend.IlgpuCpu => true,
        Backend.Cuda => ProbeCuda().Available,
        Backend.OpenCL => ProbeOpenCL().Available,
        _ => false,
    };

    private static BackendReport ProbeCpu()
    {
        string tiers = string.Join(", ", SimdTiers.Supported).ToLowerInvariant();
        var device = new DeviceReport($"{RuntimeInformation.ProcessArchitecture} CPU, {Environment.ProcessorCount} logical cores", true,
            $"SIMD tiers: {tiers}", null);
        return new BackendReport(Backend.Cpu, true, [device], null);
    }

    private static BackendReport ProbeIlgpuCpu()
    {
        using Context context = Context.Create(b => b.DefaultCPU());
        var devices = context.Devices.Select(d => new DeviceReport(d.Name, true,
            $"simulator; warp size {d.WarpSize}, max group {d.MaxNumThreadsPerGroup}", null)).ToList();
        return new BackendReport(Backend.IlgpuCpu, devices.Count > 0, devices, devices.Count > 0 ? null : "ILGPU registered no CPU accelerator");
    }

    internal static BackendReport ProbeCuda()
    {
        CudaDriverReport driver = CudaDriver.Probe();
        if (!driver.Loaded)
        {
            return new BackendReport(Backend.Cuda, false, [], driver.LoadProblem);
        }
        string driverText = $"{driver.LibraryPath}, cuInit {driver.InitResultName}, driver {driver.DriverVersionText}, {driver.Devices.Count} device(s)";
        if (driver.InitResult != 0)
        {
            return new BackendReport(Backend.Cuda, false, [], $"cuInit failed: {driver.InitResultName}") { Driver = driverText };
        }
        try
        {
            // Usable means ILGPU's default filter (what ComputeContext opens) keeps the device.
            using Context context = Context.Create(b => IlgpuDevice.Configure(b, Backend.Cuda));
            var listed = context.Devices.OfType<CudaDevice>().ToDictionary(d => d.DeviceId);
            var devices = new List<DeviceReport>();
            foreach (CudaDriverDevice d in driver.Devices)
            {
                (string? target, string? problem) = CudaDriver.IlgpuTarget(d, driver.DriverVersion);
                bool usable = listed.TryGetValue(d.Ordinal, out CudaDevice? device);
                string details = $"{Gib(d.MemoryBytes)} GiB, compute capability {d.Major}.{d.Minor}"
                    + (device is null ? "" : $", warp size {device.WarpSize}, {device.NumMultiprocessors} SMs")
                    + (target is null ? "" : $"; {target}");
                devices.Add(new DeviceReport(d.Name, usable, details,
                    usable ? null : problem ?? "ILGPU did not list it (its device filter rejected it)"));
            }
            bool any = devices.Any(d => d.Usable);
            return new BackendReport(Backend.Cuda, any, devices, any ? null : devices.Count == 0 ? "the CUDA driver is present but reports no device" : "no CUDA device is supported by ILGPU")
            {
                Driver = driverText,
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new BackendReport(Backend.Cuda, false, [], $"ILGPU's CUDA runtime failed: {CudaDriver.Chain(ex)}") { Driver = driverText };
        }
    }

    internal static BackendReport ProbeOpenCL()
    {
        string[] loaderNames = OperatingSystem.IsWindows() ? ["OpenCL.dll"] : ["libOpenCL.so", "libOpenCL.so.1"];
        if (!CanLoad(loaderNames[0]))
        {
            string hint = CanLoad("libOpenCL.so.1")
                ? "libOpenCL.so.1 exists but ILGPU loads libOpenCL.so, which only the development package links (Debian: ocl-icd-opencl-dev)"
                : "no OpenCL loader (libOpenCL.so; Debian: ocl-icd-opencl-dev)";
            return new BackendReport(Backend.OpenCL, false, [], hint);
        }
        try
        {
            using Context context = Context.Create(b => b.OpenCL(_ => true));
            var devices = new List<DeviceReport>();
            foreach (CLDevice d in context.Devices.OfType<CLDevice>())
            {
                bool version = d.CLStdVersion >= CLBackend.MinimumVersion;
                bool generic = d.Capabilities.GenericAddressSpace;
                string? problem = !version ? $"OpenCL C {d.CLStdVersion} is below the {CLBackend.MinimumVersion} ILGPU needs"
                    : !generic ? "no generic address space (ILGPU's OpenCL backend requires it; e.g. Debian 12's PoCL 3.1)"
                    : null;
                devices.Add(new DeviceReport($"{d.Name} ({d.PlatformName})", problem is null,
                    $"{d.DeviceType}, {Gib(d.MemorySize)} GiB, {d.DeviceVersion}, OpenCL C {d.CLStdVersion}, generic address space {(generic ? "yes" : "no")}, warp size {d.WarpSize}, max group {d.MaxNumThreadsPerGroup}",
                    problem));
            }
            bool any = devices.Any(d => d.Usable);
            string? reason = any ? null
                : devices.Count == 0 ? "the OpenCL loader finds no platform (no ICD registered; check OCL_ICD_VENDORS or /etc/OpenCL/vendors)"
                : "no OpenCL device has OpenCL C 2.0 with generic address space";
            return new BackendReport(Backend.OpenCL, any, devices, reason);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new BackendReport(Backend.OpenCL, false, [], $"the OpenCL runtime failed: {CudaDriver.Chain(ex)}");
        }
    }

    private static bool CanLoad(string name)
    {
        if (NativeLibrary.TryLoad(name, out IntPtr handle))
        {
            NativeLibrary.Free(handle);
            return true;
        }
        return false;
    }

    private static string Gib(long bytes) => (bytes / (1024.0 * 1024 * 1024)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
}
