// The process's MPI session and its world communicator, with the collective and point-to-point
// operations the distributed kernels use. Every failing call throws MpiException with MPI's own
// text (errors are returned, not fatal: MPI_ERRORS_RETURN). Waits on non-blocking transfers have a
// deadline, so a rank whose peer died ends with an error instead of hanging.
using System.Runtime.InteropServices;
using System.Text;

namespace Stair.Kernels.Distributed;

/// <summary>
/// MPI for this process: <see cref="Initialize"/> once (MPI_Init_thread, asking for
/// MPI_THREAD_SERIALIZED), then <see cref="World"/>; <see cref="Dispose"/> finalizes.
/// </summary>
public sealed class MpiSession : IDisposable
{
    private static MpiSession? _current;
    private bool _disposed;

    private MpiSession(MpiComm world, int threadLevel, string library)
    {
        World = world;
        ThreadLevel = threadLevel;
        Library = library;
    }

    /// <summary>The world communicator: every process of the job.</summary>
    public MpiComm World { get; }

    /// <summary>The thread support MPI granted (2 = serialized, 3 = multiple).</summary>
    public int ThreadLevel { get; }

    /// <summary>The MPI library that was loaded.</summary>
    public string Library { get; }

    /// <summary>Initializes MPI (once per process; later calls return the same session).</summary>
    /// <exception cref="MpiUnavailableException">No MPI library can be loaded; the message names the Debian package.</exception>
    /// <exception cref="MpiException">MPI refused to start, or grants less than serialized thread support.</exception>
    public static unsafe MpiSession Initialize()
    {
        lock (typeof(MpiSession))
        {
            if (_current is { _disposed: false })
            {
                return _current;
            }
            if (_current is not null)
            {
                throw new MpiException("MPI was finalized in this process and cannot be started again.");
            }
            Check(MpiNative.MPI_Initialized(out int initialized), "MPI_Initialized");
            int provided = MpiNative.ThreadMultiple;
            if (initialized == 0)
            {
                Check(MpiNative.MPI_Init_thread(null, null, MpiNative.ThreadSerialized, out provided), "MPI_Init_thread");
            }
            if (provided < MpiNative.ThreadSerialized)
            {
                throw new MpiException($"MPI granted thread level {provided}; the distributed kernels need MPI_THREAD_SERIALIZED (2) or more.");
            }
            Check(MpiNative.MPI_Comm_set_errhandler(MpiNative.CommWorld, MpiNative.ErrorsReturn), "MPI_Comm_set_errhandler");
            _current = new MpiSession(new MpiComm(MpiNative.CommWorld), provided, MpiNative.LoadedFrom ?? "?");
            return _current;
        }
    }

    /// <summary>Finalizes MPI (every rank must call it; collective).</summary>
    public void Dispose()
    {
        lock (typeof(MpiSession))
        {
            if (!_disposed)
            {
                _disposed = true;
                Check(MpiNative.MPI_Finalize(), "MPI_Finalize");
            }
        }
    }

    internal static unsafe void Check(int code, string call)
    {
        if (code == MpiNative.Success)
        {
            return;
        }
        byte* text = stackalloc byte[1024];
        string message = MpiNative.MPI_Error_string(code, text, out int length) == MpiNative.Success
            ? Encoding.ASCII.GetString(text, Math.Clamp(length, 0, 1024))
            : $"error {code}";
        throw new MpiException($"{call} failed: {message}");
    }
}

/// <summary>An MPI communicator and the operations the distributed kernels use on it.</summary>
public sealed unsafe class MpiComm
{
    internal MpiComm(int handle)
    {
        Handle = handle;
        MpiSession.Check(MpiNative.MPI_Comm_rank(handle, out int rank), "MPI_Comm_rank");
        MpiSession.Check(MpiNative.MPI_Comm_size(handle, out int size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    internal int Handle { get; }

    /// <summary>This process's rank in [0, <see cref="Size"/>).</summary>
    public int Rank { get; }

    /// <summary>Number of processes.</summary>
    public int Size { get; }

    /// <summary>How long a wait on a peer may take before the rank gives up with an error (default 300 s; STAIR_MPI_TIMEOUT_S).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("STAIR_MPI_TIMEOUT_S"), System.Globalization.CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 300);

    /// <summary>Waits for every rank.</summary>
    public void Barrier() => MpiSession.Check(MpiNative.MPI_Barrier(Handle), "MPI_Barrier");

    /// <summary>Ends every process of the job with <paramref name="code"/> (for a rank that cannot go on).</summary>
    public void Abort(int code) => MpiNative.MPI_Abort(Handle, code);

    /// <summary>Element-wise sum over the ranks, in place.</summary>
    public void AllReduceSum(Span<long> values) => AllReduce(values, MpiNative.LongLong, MpiNative.OpSum);

    /// <summary>Element-wise maximum over the ranks, in place.</summary>
    public void AllReduceMax(Span<long> values) => AllReduce(values, MpiNative.LongLong, MpiNative.OpMax);

    /// <summary>Element-wise sum over the ranks, in place.</summary>
    public void AllReduceSum(Span<double> values) => AllReduce(values, MpiNative.Double, MpiNative.OpSum);

    /// <summary>Rank <paramref name="root"/>'s values into every rank's <paramref name="values"/> (the same length on every rank).</summary>
    public void Broadcast(Span<double> values, int root) => Broadcast(values, MpiNative.Double, root);

    /// <summary>Rank <paramref name="root"/>'s values into every rank's <paramref name="values"/> (the same length on every rank).</summary>
    public void Broadcast(Span<long> values, int root) => Broadcast(values, MpiNative.LongLong, root);

    /// <summary>Every rank's <paramref name="mine"/> (all the same length), concatenated in rank order.</summary>
    public long[] AllGather(ReadOnlySpan<long> mine)
    {
        var all = new long[checked(mine.Length * Size)];
        fixed (long* send = mine)
        fixed (long* receive = all)
        {
            MpiSession.Check(MpiNative.MPI_Allgather(send, mine.Length, MpiNative.LongLong, receive, mine.Length, MpiNative.LongLong, Handle), "MPI_Allgather");
        }
        return all;
    }

    /// <summary>One int to and from each rank: receive[q] is what rank q sent to this rank.</summary>
    public int[] AllToAll(ReadOnlySpan<int> send)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(send.Length, Size, nameof(send));
        var receive = new int[Size];
        fixed (int* s = send)
        fixed (int* r = receive)
        {
            MpiSession.Check(MpiNative.MPI_Alltoall(s, 1, MpiNative.Int, r, 1, MpiNative.Int, Handle), "MPI_Alltoall");
        }
        return receive;
    }

    /// <summary>Ints of varying counts to and from each rank (rank q's part of <paramref name="send"/> is sendCounts[q] long, in rank order).</summary>
    public int[] AllToAllV(ReadOnlySpan<int> send, ReadOnlySpan<int> sendCounts)
    {
        int[] receiveCounts = AllToAll(sendCounts);
        int[] sendDisplacements = Displacements(sendCounts), receiveDisplacements = Displacements(receiveCounts);
        var receive = new int[receiveDisplacements[^1] + receiveCounts[^1]];
        fixed (int* s = send)
        fixed (int* r = receive)
        fixed (int* sc = sendCounts)
        fixed (int* sd = sendDisplacements)
        fixed (int* rc = receiveCounts)
        fixed (int* rd = receiveDisplacements)
        {
            MpiSession.Check(MpiNative.MPI_Alltoallv(s, sc, sd, MpiNative.Int, r, rc, rd, MpiNative.Int, Handle), "MPI_Alltoallv");
        }
        return receive;
    }

    internal int SendFloats(float* buffer, long count, int destination, int tag)
    {
        MpiSession.Check(MpiNative.MPI_Isend(buffer, CountOf(count), MpiNative.Float, destination, tag, Handle, out int request), "MPI_Isend");
        return request;
    }

    internal int ReceiveFloats(float* buffer, long count, int source, int tag)
    {
        MpiSession.Check(MpiNative.MPI_Irecv(buffer, CountOf(count), MpiNative.Float, source, tag, Handle, out int request), "MPI_Irecv");
        return request;
    }

    /// <summary>Waits for every request, polling until <see cref="Timeout"/>; then throws naming <paramref name="what"/>.</summary>
    internal void WaitAll(Span<int> requests, string what)
    {
        if (requests.IsEmpty)
        {
            return;
        }
        long deadline = Environment.TickCount64 + (long)Timeout.TotalMilliseconds;
        var spin = new SpinWait();
        fixed (int* r = requests)
        {
            while (true)
            {
                MpiSession.Check(MpiNative.MPI_Testall(requests.Length, r, out int done, MpiNative.StatusesIgnore), "MPI_Testall");
                if (done != 0)
                {
                    return;
                }
                if (Environment.TickCount64 > deadline)
                {
                    throw new MpiException($"Rank {Rank} waited {Timeout.TotalSeconds:F0} s for {what} and gave up (a peer rank failed or stalled).");
                }
                spin.SpinOnce(sleep1Threshold: 1000);
            }
        }
    }

    private void Broadcast<T>(Span<T> values, int type, int root)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        fixed (T* v = values)
        {
            MpiSession.Check(MpiNative.MPI_Bcast(v, values.Length, type, root, Handle), "MPI_Bcast");
        }
    }

    private void AllReduce<T>(Span<T> values, int type, int op)
        where T : unmanaged
    {
        fixed (T* v = values)
        {
            MpiSession.Check(MpiNative.MPI_Allreduce((void*)(-1), v, values.Length, type, op, Handle), "MPI_Allreduce"); // MPI_IN_PLACE
        }
    }

    private static int CountOf(long count) => count <= int.MaxValue ? (int)count
        : throw new MpiException($"One message of {count:N0} elements is past MPI's int count; split the rows over more ranks.");

    private static int[] Displacements(ReadOnlySpan<int> counts)
    {
        var d = new int[counts.Length];
        for (int q = 1; q < counts.Length; q++)
        {
            d[q] = checked(d[q - 1] + counts[q - 1]);
        }
        return d;
    }
}
