// The few MPI calls the distributed kernels need, bound by P/Invoke against MPICH's ABI
// (libmpich.so.12: MPICH, Intel MPI, MVAPICH and Cray MPICH share it). Handles are ints; the
// constants are MPICH's mpi.h values. MPI.NET 1.4.0 was tried first and not used (kernels.md,
// "Distributed"): it imports msmpi.dll (it ran on MPICH only through a name-remapping resolver)
// and moves whole T[] arrays, where the halo exchange sends from and receives into pinned tables.
using System.Runtime.InteropServices;

namespace Stair.Kernels.Distributed;

internal static unsafe partial class MpiNative
{
    private const string Library = "stair-mpi"; // resolved below: libmpich.so.12, libmpich.so, or STAIR_MPI_LIBRARY

    public const int Success = 0;
    public const int CommWorld = 0x44000000;
    public const int Byte = 0x4c00010d;
    public const int Int = 0x4c000405;
    public const int Float = 0x4c00040a;
    public const int Double = 0x4c00080b;
    public const int LongLong = 0x4c000809;
    public const int OpMax = 0x58000001;
    public const int OpMin = 0x58000002;
    public const int OpSum = 0x58000003;
    public const int RequestNull = 0x2c000000;
    public const int ErrorsReturn = 0x54000001;
    public const int ThreadSerialized = 2;
    public const int ThreadMultiple = 3;
    public static readonly void* StatusesIgnore = (void*)1;

    static MpiNative()
    {
        NativeLibrary.SetDllImportResolver(typeof(MpiNative).Assembly, (name, assembly, path) => name == Library ? Load() : IntPtr.Zero);
    }

    /// <summary>The library that was loaded (for messages).</summary>
    public static string? LoadedFrom { get; private set; }

    private static IntPtr Load()
    {
        string? custom = Environment.GetEnvironmentVariable("STAIR_MPI_LIBRARY");
        string[] candidates = custom is { Length: > 0 } ? [custom] : ["libmpich.so.12", "libmpich.so"];
        var tried = new List<string>();
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                LoadedFrom = candidate;
                return handle;
            }
            tried.Add(candidate);
        }
        throw new MpiUnavailableException(
            $"No MPI library could be loaded (tried {string.Join(", ", tried)}). On Debian or Ubuntu install MPICH: " +
            "apt-get install mpich libmpich-dev; elsewhere point STAIR_MPI_LIBRARY at an MPICH-ABI libmpi (MPICH, Intel MPI, MVAPICH, Cray MPICH).");
    }

    [LibraryImport(Library)] public static partial int MPI_Initialized(out int flag);
    [LibraryImport(Library)] public static partial int MPI_Finalized(out int flag);
    [LibraryImport(Library)] public static partial int MPI_Init_thread(int* argc, byte*** argv, int required, out int provided);
    [LibraryImport(Library)] public static partial int MPI_Finalize();
    [LibraryImport(Library)] public static partial int MPI_Comm_rank(int comm, out int rank);
    [LibraryImport(Library)] public static partial int MPI_Comm_size(int comm, out int size);
    [LibraryImport(Library)] public static partial int MPI_Comm_set_errhandler(int comm, int handler);
    [LibraryImport(Library)] public static partial int MPI_Barrier(int comm);
    [LibraryImport(Library)] public static partial int MPI_Abort(int comm, int code);
    [LibraryImport(Library)] public static partial int MPI_Allreduce(void* send, void* receive, int count, int type, int op, int comm);
    [LibraryImport(Library)] public static partial int MPI_Bcast(void* buffer, int count, int type, int root, int comm);
    [LibraryImport(Library)] public static partial int MPI_Allgather(void* send, int sendCount, int sendType, void* receive, int receiveCount, int receiveType, int comm);
    [LibraryImport(Library)] public static partial int MPI_Alltoall(void* send, int sendCount, int sendType, void* receive, int receiveCount, int receiveType, int comm);
    [LibraryImport(Library)] public static partial int MPI_Alltoallv(void* send, int* sendCounts, int* sendDisplacements, int sendType,
        void* receive, int* receiveCounts, int* receiveDisplacements, int receiveType, int comm);
    [LibraryImport(Library)] public static partial int MPI_Isend(void* buffer, int count, int type, int destination, int tag, int comm, out int request);
    [LibraryImport(Library)] public static partial int MPI_Irecv(void* buffer, int count, int type, int source, int tag, int comm, out int request);
    [LibraryImport(Library)] public static partial int MPI_Testall(int count, int* requests, out int flag, void* statuses);
    [LibraryImport(Library)] public static partial int MPI_Cancel(int* request);
    [LibraryImport(Library)] public static partial int MPI_Request_free(int* request);
    [LibraryImport(Library)] public static partial int MPI_Error_string(int code, byte* text, out int length);
}

/// <summary>No MPI library could be loaded; the message names the package to install.</summary>
public sealed class MpiUnavailableException(string message) : Exception(message);

/// <summary>An MPI call failed, or the ranks disagreed (a plan, an argument, a timeout); every rank gets one.</summary>
public sealed class MpiException(string message) : Exception(message);
