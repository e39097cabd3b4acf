// One ILGPU accelerator as the ILGPU backend of a ComputeContext sees it: the ILGPU context,
// the accelerator and its stream, the one cache every family loads its kernels through, and
// the allocation and scratch helpers the families' drivers share. Kernel sets are loaded once
// per accelerator, on first use, through Kernels<T>(); a failed compile clears ILGPU's cache
// (one failed kernel poisons later compiles in the same context) and is reported once.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Stair.Kernels.Gpu;

/// <summary>A family's ILGPU kernels, loaded together on one accelerator.</summary>
internal interface IKernelSet<TSelf>
    where TSelf : class, IKernelSet<TSelf>
{
    /// <summary>Compiles and loads the set on <paramref name="accelerator"/> (may throw; the cache recovers).</summary>
    static abstract TSelf Load(Accelerator accelerator);
}

internal sealed class IlgpuDevice : IDisposable
{
    private readonly Context _context;
    private readonly Dictionary<Type, object> _kernels = [];

    private IlgpuDevice(Context context, Accelerator accelerator, string description)
    {
        _context = context;
        Accelerator = accelerator;
        Description = description;
    }

    public Accelerator Accelerator { get; }

    public AcceleratorStream Stream => Accelerator.DefaultStream;

    /// <summary>The device, in words.</summary>
    public string Description { get; }

    /// <summary>Opens the first device of <paramref name="backend"/> (an OpenCL GPU before an OpenCL CPU).</summary>
    /// <exception cref="BackendUnavailableException">No device; the message says what is missing.</exception>
    public static IlgpuDevice Open(Backend backend)
    {
        if (backend == Backend.Cuda)
        {
            CudaDriver.EnsureResolver();
        }
        Context context = Context.Create(b => Configure(b, backend));
        Accelerator? accelerator = null;
        try
        {
            Device? device = backend switch
            {
                Backend.Cuda => context.Devices.OfType<CudaDevice>().FirstOrDefault(),
                Backend.OpenCL => context.Devices.OfType<CLDevice>().OrderBy(d => d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU ? 0 : 1).FirstOrDefault(),
                _ => context.Devices.OfType<CPUDevice>().FirstOrDefault(),
            };
            if (device is null)
            {
                string reason = backend switch
                {
                    Backend.Cuda => BackendDiscovery.ProbeCuda().Reason,
                    Backend.OpenCL => BackendDiscovery.ProbeOpenCL().Reason,
                    _ => null,
                } ?? "no device found";
                throw new BackendUnavailableException(backend, reason);
            }
            accelerator = device.CreateAccelerator(context);
            return new IlgpuDevice(context, accelerator, Describe(device));
        }
        catch
        {
            accelerator?.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The ILGPU context of <paramref name="backend"/>. CUDA also enables ILGPU.Algorithms, whose intrinsics give
    /// MathF.Exp and MathF.Log a PTX implementation (PTX has no such instruction); OpenCL and the simulator map
    /// them to their own math libraries and stay as they are. The PTX compile test uses this same configuration.
    /// </summary>
    internal static Context.Builder Configure(Context.Builder builder, Backend backend) => backend switch
    {
        Backend.Cuda => builder.Cuda().EnableAlgorithms(),
        Backend.OpenCL => builder.OpenCL(),
        _ => builder.DefaultCPU(),
    };

    private static string Describe(Device device) => device switch
    {
        CudaDevice cuda => $"{cuda.Name} (CUDA, compute capability {cuda.Architecture})",
        CLDevice cl => $"{cl.Name} ({cl.PlatformName}, {cl.DeviceVersion})",
        _ => $"{device.Name} (ILGPU CPU simulator)",
    };

    /// <summary>The kernel set <typeparamref name="T"/> of this accelerator, loaded on first use.</summary>
    public T Kernels<T>()
        where T : class, IKernelSet<T>
    {
        if (!_kernels.TryGetValue(typeof(T), out object? set))
        {
            set = Compile(T.Load, typeof(T).Name);
            _kernels[typeof(T)] = set;
        }
        return (T)set;
    }

    /// <summary>Replaces the cached set <typeparamref name="T"/> with one loaded by <paramref name="load"/> (tests force layouts with it).</summary>
    public void ReplaceKernels<T>(Func<Accelerator, T> load)
        where T : class, IKernelSet<T>
        => _kernels[typeof(T)] = Compile(load);

    /// <summary>
    /// Runs <paramref name="load"/> with the library's compile-failure recovery: a failure becomes one
    /// <see cref="NotSupportedException"/> naming the kernel (<paramref name="what"/>, else the set's type) and
    /// the device, with ILGPU's whole chain of causes, and ILGPU's caches are cleared so that the failed
    /// method's half-built IR cannot poison the next compile. Kernels loaded before stay loaded and usable.
    /// An OpenCL driver's refusal (a <see cref="CLException"/>) is tried once more before it is reported.
    /// </summary>
    public T Compile<T>(Func<Accelerator, T> load, string? what = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return load(Accelerator);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _context.ClearCache(ClearCacheMode.Everything);
                Exception cause = ex;
                while (cause.InnerException is not null)
                {
                    cause = cause.InnerException;
                }
                // An OpenCL driver that refuses a kernel ILGPU compiled (clBuildProgram/clCreateKernel failing: PoCL
                // did so once in ~10 CI runs, cause not established; other test processes were building the same
                // kernels) gets one more try; a failure in ILGPU's own compiler, or a second refusal, is reported.
                if (cause is CLException && attempt == 1)
                {
                    continue;
                }
                // The innermost cause first (e.g. "Not supported IL instruction of type 'Throw'"), then ILGPU's whole
                // chain, whose outer messages name the method that failed.
                throw new NotSupportedException(
                    $"A kernel failed to compile: {what ?? typeof(T).Name} on {Description}: {ExceptionText.Message(cause)}"
                    + $"{(attempt > 1 ? $" (attempt {attempt})" : "")} (ILGPU: {ExceptionText.Chain(ex)})", ex);
            }
        }
    }

    /// <summary>
    /// A buffer of at least one element (ILGPU needs one); a device that cannot serve the request gets one
    /// clear exception naming what was being allocated and how many bytes.
    /// </summary>
    public unsafe MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length, string what)
        where T : unmanaged
    {
        long count = Math.Max(1, length);
        // Refused before the driver is asked: a request past the device's memory (or past 64-bit bytes) cannot succeed.
        if (count > Accelerator.MemorySize / sizeof(T))
        {
            throw new OutOfMemoryException(
                $"Could not allocate {what}: {(decimal)count * sizeof(T):N0} bytes, more than the {Accelerator.MemorySize:N0} bytes of {Description}.");
        }
        try
        {
            return Accelerator.Allocate1D<T>(count);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            throw new OutOfMemoryException($"Could not allocate {what}: {count * sizeof(T):N0} bytes on {Description} ({ex.Message}).", ex);
        }
    }

    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        Accelerator.Dispose();
        _context.Dispose();
    }
}

/// <summary>A device buffer a driver keeps between calls, grown (never shrunk) to the largest request.</summary>
internal sealed class DeviceScratch<T>(IlgpuDevice device, string what) : IDisposable
    where T : unmanaged
{
    private MemoryBuffer1D<T, Stride1D.Dense>? _buffer;

    /// <summary>A view of at least <paramref name="length"/> elements (the whole buffer, possibly longer); <paramref name="minimum"/> avoids regrowing small buffers.</summary>
    public ArrayView<T> View(long length, long minimum = 1)
    {
        if (_buffer is null || _buffer.Length < length)
        {
            _buffer?.Dispose();
            _buffer = null;
            _buffer = device.Allocate<T>(Math.Max(length, minimum), what);
        }
        return _buffer.View;
    }

    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }
}
