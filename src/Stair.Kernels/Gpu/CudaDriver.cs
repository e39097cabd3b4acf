// The NVIDIA driver as the CUDA backend finds it. ILGPU 1.5.3 imports the driver as `cuda`, which
// .NET resolves to libcuda.so; GPU machines and containers often ship only libcuda.so.1, and ILGPU
// then swallows the load failure and lists no device. EnsureResolver maps ILGPU's import to
// libcuda.so.1 (then libcuda.so) before anything of this library touches ILGPU's CUDA runtime.
// Probe asks the driver directly (cuInit, cuDriverGetVersion, the devices and their compute
// capability), so `stair-kernels devices` can say what ILGPU will do with each device, or why not.
// STAIR_TRACE=1 sends System.Diagnostics.Trace (where ILGPU writes the PTX JIT log) to stderr.
using System.Diagnostics;
using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace Stair.Kernels.Gpu;

/// <summary>One CUDA device as the driver reports it.</summary>
internal sealed record CudaDriverDevice(int Ordinal, string Name, int Major, int Minor, long MemoryBytes);

/// <summary>What the driver said: where it was loaded from, cuInit's result, its version and devices.</summary>
internal sealed record CudaDriverReport(string? LibraryPath, string? LoadProblem, int InitResult, string InitResultName, int DriverVersion,
    IReadOnlyList<CudaDriverDevice> Devices)
{
    public bool Loaded => LoadProblem is null;

    /// <summary>"13.0" for 13000.</summary>
    public string DriverVersionText => DriverVersion <= 0 ? "unknown" : $"{DriverVersion / 1000}.{DriverVersion % 1000 / 10}";
}

internal static unsafe class CudaDriver
{
    private const int DeviceAttributeComputeCapabilityMajor = 75, DeviceAttributeComputeCapabilityMinor = 76;
    private static readonly object Gate = new();
    private static bool _resolverSet;
    private static bool _traceSet;
    private static IntPtr _handle;
    private static string? _loadedName;

    /// <summary>Library names tried, in order.</summary>
    internal static string[] LibraryNames => OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"];

    /// <summary>
    /// Installs the resolver that maps ILGPU's `cuda` / `nvcuda` import to the driver's real file, once per process,
    /// and honours STAIR_TRACE. Returns a note when the application had already installed its own resolver for ILGPU.
    /// </summary>
    public static string? EnsureResolver()
    {
        lock (Gate)
        {
            if (!_traceSet)
            {
                _traceSet = true;
                if (Environment.GetEnvironmentVariable("STAIR_TRACE") == "1")
                {
                    Trace.Listeners.Add(new TextWriterTraceListener(Console.Error) { Name = "stair-trace" });
                    Trace.AutoFlush = true;
                }
            }
            if (_resolverSet)
            {
                return null;
            }
            _resolverSet = true;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(CudaAccelerator).Assembly, Resolve);
                return null;
            }
            catch (InvalidOperationException)
            {
                return "the application set its own native-library resolver for ILGPU; the driver is found by it";
            }
        }
    }

    private static IntPtr Resolve(string libraryName, System.Reflection.Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName is "cuda" or "nvcuda" && TryLoad() ? _handle : IntPtr.Zero;

    private static bool TryLoad()
    {
        lock (Gate)
        {
            if (_handle != IntPtr.Zero)
            {
                return true;
            }
            foreach (string name in LibraryNames)
            {
                if (NativeLibrary.TryLoad(name, out IntPtr handle))
                {
                    _handle = handle;
                    _loadedName = name;
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Loads the driver (if it exists) and asks it for its version and devices. Never throws.</summary>
    public static CudaDriverReport Probe()
    {
        EnsureResolver();
        if (!TryLoad())
        {
            return new CudaDriverReport(null, $"no CUDA driver library ({string.Join(" or ", LibraryNames)}): the NVIDIA driver is not installed",
                -1, "not called", 0, []);
        }
        string path = LoadedPath() ?? _loadedName!;
        try
        {
            var cuInit = (delegate* unmanaged<uint, int>)NativeLibrary.GetExport(_handle, "cuInit");
            int init = cuInit(0);
            string initName = ErrorName(init);
            int version = 0;
            if (NativeLibrary.TryGetExport(_handle, "cuDriverGetVersion", out IntPtr getVersion))
            {
                ((delegate* unmanaged<int*, int>)getVersion)(&version);
            }
            var devices = new List<CudaDriverDevice>();
            if (init == 0)
            {
                var getCount = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(_handle, "cuDeviceGetCount");
                var getDevice = (delegate* unmanaged<int*, int, int>)NativeLibrary.GetExport(_handle, "cuDeviceGet");
                var getName = (delegate* unmanaged<byte*, int, int, int>)NativeLibrary.GetExport(_handle, "cuDeviceGetName");
                var getAttribute = (delegate* unmanaged<int*, int, int, int>)NativeLibrary.GetExport(_handle, "cuDeviceGetAttribute");
                NativeLibrary.TryGetExport(_handle, "cuDeviceTotalMem_v2", out IntPtr totalMem);
                int count = 0;
                getCount(&count);
                byte* name = stackalloc byte[256];
                for (int ordinal = 0; ordinal < count; ordinal++)
                {
                    int device = 0, major = 0, minor = 0;
                    nuint bytes = 0;
                    name[0] = 0;
                    if (getDevice(&device, ordinal) != 0)
                    {
                        continue;
                    }
                    getName(name, 256, device);
                    getAttribute(&major, DeviceAttributeComputeCapabilityMajor, device);
                    getAttribute(&minor, DeviceAttributeComputeCapabilityMinor, device);
                    if (totalMem != IntPtr.Zero)
                    {
                        ((delegate* unmanaged<nuint*, int, int>)totalMem)(&bytes, device);
                    }
                    devices.Add(new CudaDriverDevice(ordinal, Marshal.PtrToStringUTF8((IntPtr)name) ?? "?", major, minor, (long)bytes));
                }
            }
            return new CudaDriverReport(path, null, init, initName, version, devices);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or InvalidOperationException)
        {
            return new CudaDriverReport(path, $"{path} is not a usable CUDA driver: {Chain(ex)}", -1, "not called", 0, []);
        }
    }

    /// <summary>The architecture and PTX ISA ILGPU 1.5.3 uses for a device, or why it does not list it.</summary>
    public static (string? Target, string? Problem) IlgpuTarget(CudaDriverDevice device, int driverVersion)
    {
        var arch = new CudaArchitecture(device.Major, device.Minor);
        bool known = typeof(CudaArchitecture).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Any(f => f.FieldType == typeof(CudaArchitecture) && (CudaArchitecture)f.GetValue(null)! == arch);
        if (!known)
        {
            return (null, $"ILGPU 1.5.3 does not know compute capability {device.Major}.{device.Minor}");
        }
        CudaDriverVersion driver = CudaDriverVersion.FromValue(driverVersion);
        if (!CudaAccelerator.TryGetInstructionSet(arch, driver, out CudaDriverVersion minimum, out CudaInstructionSet isa))
        {
            return (null, $"the driver ({driver}) is older than the {minimum} ILGPU needs for sm_{device.Major}{device.Minor}");
        }
        return ($"ILGPU compiles for sm_{device.Major}{device.Minor} with PTX ISA {isa}", null);
    }

    /// <summary>Every message of an exception and its inner exceptions, outermost first.</summary>
    public static string Chain(Exception ex) => ExceptionText.Chain(ex);

    private static string ErrorName(int result)
    {
        if (NativeLibrary.TryGetExport(_handle, "cuGetErrorName", out IntPtr getName))
        {
            byte* name = null;
            if (((delegate* unmanaged<int, byte**, int>)getName)(result, &name) == 0 && name is not null)
            {
                return $"{Marshal.PtrToStringUTF8((IntPtr)name)} ({result})";
            }
        }
        return result == 0 ? "CUDA_SUCCESS (0)" : $"error {result}";
    }

    // The file the loader mapped (e.g. /usr/lib/x86_64-linux-gnu/libcuda.so.580.65.06), from /proc/self/maps.
    private static string? LoadedPath()
    {
        try
        {
            return OperatingSystem.IsLinux()
                ? File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    .Where(f => f.Length >= 6 && Path.GetFileName(f[5]).StartsWith("libcuda.so", StringComparison.Ordinal)).Select(f => f[5]).FirstOrDefault()
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
