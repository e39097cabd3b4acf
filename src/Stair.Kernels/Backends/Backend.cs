// Where a kernel runs. The SIMD CPU paths are their own backend; the three ILGPU
// accelerators run the hand-written ILGPU kernels under Gpu/.
namespace Stair.Kernels;

/// <summary>A place kernels can run.</summary>
public enum Backend
{
    /// <summary>The fastest available: CUDA, then an OpenCL GPU, then the SIMD CPU paths.</summary>
    Auto = 0,

    /// <summary>The hand-written SIMD CPU paths (AVX-512, AVX2+FMA, scalar).</summary>
    Cpu = 1,

    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend (needs only the NVIDIA driver).</summary>
    Cuda = 2,

    /// <summary>An OpenCL 2.0+ device with generic address space through ILGPU's OpenCL backend.</summary>
    OpenCL = 3,

    /// <summary>ILGPU's CPU accelerator: a slow simulator that runs the very same ILGPU kernels, for checking them.</summary>
    IlgpuCpu = 4,
}

/// <summary>No device is available for a requested backend; the message says what is missing.</summary>
public sealed class BackendUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BackendUnavailableException(Backend backend, string reason)
        : base($"Backend {backend} is not available: {reason}")
    {
        Backend = backend;
        Reason = reason;
    }

    /// <summary>The backend that was requested.</summary>
    public Backend Backend { get; }

    /// <summary>Why it is unavailable.</summary>
    public string Reason { get; }
}
