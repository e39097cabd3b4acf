// A small fixed pool of worker threads for the CPU kernels. Parallel.For allocates per
// call; this pool does not, so a training loop stays allocation-free. Work is handed out
// as numbered parts claimed from a shared counter: which thread runs a part never changes
// a result, because every part writes disjoint rows with a fixed accumulation order.
// Idle workers poll for the next job for a short budget before blocking (kernels.md, "Worker
// pool"): on a VM, waking a blocked thread can take longer than the kernel it was woken for.
using System.Diagnostics;
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
    /// <summary>Default time an idle worker keeps polling for the next job before it blocks.</summary>
    internal const int DefaultSpinMicroseconds = 2000;

    /// <summary>Environment variable overriding <see cref="DefaultSpinMicroseconds"/> (0 blocks at once).</summary>
    internal const string SpinVariable = "STAIR_KERNELS_SPIN_US";

    private static readonly Lazy<CpuWorkerPool> SharedPool = new(() => new CpuWorkerPool(Math.Max(0, Environment.ProcessorCount - 1), SpinFromEnvironment()));

    [ThreadStatic]
    private static bool _insideJob;

    private readonly object _gate = new();
    private readonly Worker[] _workers;
    private readonly long _spinTicks;

    // The current job and its admission state. A run publishes _job, _helpers and _open, then
    // increments _generation; a worker that sees the new generation joins only while the run is
    // open, counted in _active, so the caller waits for helpers that are working and never for
    // one that has not woken yet.
    private ParallelJob? _job;
    private int _generation;
    private int _helpers;
    private int _open;
    private int _active;
    private ExceptionDispatchInfo? _failure;

    private sealed class Worker
    {
        public int Sleeping;
        public readonly SemaphoreSlim Wake = new(0);
    }

    /// <param name="workers">Worker threads to start.</param>
    /// <param name="spinMicroseconds">How long an idle worker polls before it blocks.</param>
    /// <param name="workerStarting">Tests only: runs first on each new worker thread, to hold its start back.</param>
    internal CpuWorkerPool(int workers, int spinMicroseconds, Action<int>? workerStarting = null)
    {
        _spinTicks = (long)spinMicroseconds * Stopwatch.Frequency / 1_000_000;
        _workers = new Worker[workers];
        for (int i = 0; i < workers; i++)
        {
            _workers[i] = new Worker();
            int index = i;
            // The generation is read here, not on the new thread: a thread that starts late would
            // otherwise take the first run's generation as already seen and sleep through that run.
            int generation = _generation;
            var thread = new Thread(() =>
            {
                workerStarting?.Invoke(index);
                WorkerLoop(index, generation);
            })
            {
                IsBackground = true,
                Name = $"Stair.Kernels worker {i + 1}",
            };
            thread.Start();
        }
    }

    /// <summary>The process-wide pool (one worker per logical core beyond the caller's).</summary>
    public static CpuWorkerPool Shared => SharedPool.Value;

    /// <summary>Number of worker threads (the caller is not counted).</summary>
    public int Workers => _workers.Length;

    private static int SpinFromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(SpinVariable);
        return int.TryParse(text, out int value) && value >= 0 ? value : DefaultSpinMicroseconds;
    }

    /// <summary>
    /// Runs every part of <paramref name="job"/> on at most <paramref name="threads"/> threads, the caller included.
    /// The caller always works; helpers join when they are awake, and a helper that wakes after every part was
    /// claimed is not waited for. A call from inside a running part runs inline on the calling thread.
    /// </summary>
    public void Run(ParallelJob job, int threads)
    {
        job.NextPart = 0;
        int helpers = Math.Min(Math.Min(threads - 1, _workers.Length), job.PartCount - 1);
        if (helpers <= 0 || _insideJob)
        {
            job.RunClaimedParts();
            return;
        }
        lock (_gate)
        {
            _failure = null;
            _job = job;
            _helpers = helpers;
            Volatile.Write(ref _open, 1);
            Interlocked.Increment(ref _generation);
            for (int i = 0; i < helpers; i++)
            {
                Worker worker = _workers[i];
                if (Interlocked.Exchange(ref worker.Sleeping, 0) == 1)
                {
                    worker.Wake.Release();
                }
            }
            ExceptionDispatchInfo? own = null;
            _insideJob = true;
            try
            {
                job.RunClaimedParts();
            }
            catch (Exception ex)
            {
                own = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                _insideJob = false;
            }
            // Close admission, then wait only for helpers already inside the job.
            Interlocked.Exchange(ref _open, 0);
            var spinner = new SpinWait();
            while (Volatile.Read(ref _active) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
            _job = null;
            own?.Throw();
            _failure?.Throw();
        }
    }

    private void WorkerLoop(int index, int seen)
    {
        _insideJob = true;
        Worker worker = _workers[index];
        while (true)
        {
            seen = WaitForNextRun(worker, seen);
            if (index >= Volatile.Read(ref _helpers))
            {
                continue;
            }
            Interlocked.Increment(ref _active);
            try
            {
                // Both checks after joining: either the caller sees this helper in _active and waits
                // for it, or the run was already closed (or replaced) and the helper stays out.
                if (Volatile.Read(ref _open) == 1 && Volatile.Read(ref _generation) == seen)
                {
                    _job!.RunClaimedParts();
                }
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(ex), null);
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }
        }
    }

    // Polls for a new generation for the spin budget, then blocks. Waking a blocked thread costs
    // ~1.4 ms on the 2-vCPU VM this library was tuned on (kernels.md, "Worker pool"), longer than
    // most kernels, so back-to-back kernels must find their helpers still polling.
    private int WaitForNextRun(Worker worker, int seen)
    {
        long deadline = Stopwatch.GetTimestamp() + _spinTicks;
        var spinner = new SpinWait();
        while (true)
        {
            int generation = Volatile.Read(ref _generation);
            if (generation != seen)
            {
                return generation;
            }
            if (Stopwatch.GetTimestamp() < deadline)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            // Announce the sleep, then look once more: a caller that bumped the generation before
            // the announcement is seen here; one that bumps it after finds the flag and releases.
            Interlocked.Exchange(ref worker.Sleeping, 1);
            generation = Volatile.Read(ref _generation);
            if (generation != seen)
            {
                if (Interlocked.Exchange(ref worker.Sleeping, 0) == 0)
                {
                    worker.Wake.Wait(); // a caller took the flag and released: consume that release
                }
                return generation;
            }
            worker.Wake.Wait();
            deadline = Stopwatch.GetTimestamp() + _spinTicks;
            spinner = default;
        }
    }
}
