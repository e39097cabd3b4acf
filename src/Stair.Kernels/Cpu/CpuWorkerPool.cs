// A small fixed pool of worker threads for the CPU kernels. Parallel.For allocates per
// call; this pool does not, so a training loop stays allocation-free. Work is handed out
// as numbered parts claimed from a shared counter: which thread runs a part never changes
// a result, because every part writes disjoint rows with a fixed accumulation order.
using System.Runtime.ExceptionServices;

namespace Stair.Kernels.Cpu;

/// <summary>Work split into numbered parts; <see cref="Execute"/> must be safe to run concurrently for different parts.</summary>
internal abstract class ParallelJob
{
    internal int NextPart;

    /// <summary>Number of parts of the current run.</summary>
    public int PartCount;

    /// <summary>Runs one part.</summary>
    public abstract void Execute(int part);

    internal void RunClaimedParts()
    {
        int part;
        while ((part = Interlocked.Increment(ref NextPart) - 1) < PartCount)
        {
            Execute(part);
        }
    }
}

internal sealed class CpuWorkerPool
{
    private static readonly Lazy<CpuWorkerPool> SharedPool = new(() => new CpuWorkerPool(Math.Max(0, Environment.ProcessorCount - 1)));

    private readonly object _gate = new();
    private readonly SemaphoreSlim[] _start;
    private readonly CountdownEvent _done = new(1);
    private ParallelJob? _job;
    private ExceptionDispatchInfo? _failure;

    private CpuWorkerPool(int workers)
    {
        _start = new SemaphoreSlim[workers];
        for (int i = 0; i < workers; i++)
        {
            _start[i] = new SemaphoreSlim(0);
            int index = i;
            var thread = new Thread(() => WorkerLoop(index))
            {
                IsBackground = true,
                Name = $"Stair.Kernels worker {i + 1}",
            };
            thread.Start();
        }
    }

    /// <summary>The process-wide pool (one worker per logical core beyond the caller's).</summary>
    public static CpuWorkerPool Shared => SharedPool.Value;

    /// <summary>Runs every part of <paramref name="job"/> on at most <paramref name="threads"/> threads, the caller included.</summary>
    public void Run(ParallelJob job, int threads)
    {
        job.NextPart = 0;
        int helpers = Math.Min(Math.Min(threads - 1, _start.Length), job.PartCount - 1);
        if (helpers <= 0)
        {
            job.RunClaimedParts();
            return;
        }
        lock (_gate)
        {
            _job = job;
            _failure = null;
            _done.Reset(helpers);
            for (int i = 0; i < helpers; i++)
            {
                _start[i].Release();
            }
            try
            {
                job.RunClaimedParts();
            }
            finally
            {
                _done.Wait();
                _job = null;
            }
            _failure?.Throw();
        }
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _start[index].Wait();
            try
            {
                _job!.RunClaimedParts();
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(ex), null);
            }
            finally
            {
                _done.Signal();
            }
        }
    }
}
