// NativeReference: the C references and hardware probes of bench/native/stair_ref.c (see its
// header and kernels.md, "C references and probes"), compiled on this machine at run time with
// the system gcc and the flags of bench/native/build.sh, loaded with NativeLibrary and called
// through unmanaged function pointers (no marshalling, no allocation per call).
//
// The source travels with the benchmark build (native/stair_ref.c next to the assembly). The
// shared library is cached under $STAIR_CACHE_DIR (or the temp folder)/stair-native/<key>, the key
// a hash of the source, the flags, gcc's version and the CPU's model and flags, so it is compiled
// once per machine and reused by every benchmark process after the first.
//
// Every public method checks its arguments (exceptions name the argument) before any native call.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Stair.Kernels.Benchmarks.Native;

/// <summary>One run of the hardware probes (each the best of several timed repetitions).</summary>
/// <param name="TriadGBps">Stream triad a = b + s·c over float32 arrays larger than the caches, counting 12 bytes per element, GB/s (10⁹ bytes).</param>
/// <param name="GatherRowsPerSecond">Random whole-row gathers (rows summed into registers) from a table of <paramref name="GatherTableBytes"/>, rows per second.</param>
/// <param name="GatherRowBytes">Bytes per gathered row.</param>
/// <param name="GatherTableBytes">Bytes of the gathered table (whole rows).</param>
/// <param name="FmaGflops">Register-resident FMA chains, 2 flops per lane per FMA, GFLOP/s (so G FMA/s is half of it).</param>
/// <param name="Threads">Threads every probe ran on.</param>
public sealed record MachineProbe(double TriadGBps, double GatherRowsPerSecond, int GatherRowBytes, long GatherTableBytes, double FmaGflops, int Threads);

/// <summary>The C reference loops (SpMM, FSC, dense NT product) and the hardware probes of <c>bench/native/stair_ref.c</c>.</summary>
public sealed unsafe class NativeReference
{
    /// <summary>The compiler, looked up on PATH.</summary>
    internal const string CompilerName = "gcc";

    /// <summary>The flags of every build (bench/native/build.sh uses the same, a test holds them equal).</summary>
    internal static readonly string[] CompilerFlags = ["-O3", "-march=native", "-fopenmp", "-shared", "-fPIC"];

    private const string SourceFile = "stair_ref.c";
    private const string LibraryFile = "libstair_ref.so";

    private static readonly Lazy<string?> CompilerVersionLine = new(ReadCompilerVersion);
    private static readonly Lazy<(NativeReference? Library, string? Reason)> Default = new(() => Build(CompilerFlags));

    private readonly delegate* unmanaged<int> _isa;
    private readonly delegate* unmanaged<int, int*, int*, float*, float*, float*, int, int, void> _spmm;
    private readonly delegate* unmanaged<int, int*, int*, float*, float*, float*, int, int, float*, float*, float*, float*, int, void> _fsc;
    private readonly delegate* unmanaged<float*, int, float*, int, float*, int, int, int, int, int, int> _denseNt;
    private readonly delegate* unmanaged<float*, int, float*, int, int, int, int, int> _denseNtSelf;
    private readonly delegate* unmanaged<long, int, int, double> _triad;
    private readonly delegate* unmanaged<long, int, long, int, int, ulong, double> _gather;
    private readonly delegate* unmanaged<int, int, double> _fma;

    private NativeReference(nint handle, string libraryPath, string compiler)
    {
        _isa = (delegate* unmanaged<int>)NativeLibrary.GetExport(handle, "stair_ref_isa");
        _spmm = (delegate* unmanaged<int, int*, int*, float*, float*, float*, int, int, void>)NativeLibrary.GetExport(handle, "stair_ref_spmm");
        _fsc = (delegate* unmanaged<int, int*, int*, float*, float*, float*, int, int, float*, float*, float*, float*, int, void>)NativeLibrary.GetExport(handle, "stair_ref_fsc");
        _denseNt = (delegate* unmanaged<float*, int, float*, int, float*, int, int, int, int, int, int>)NativeLibrary.GetExport(handle, "stair_ref_dense_nt");
        _denseNtSelf = (delegate* unmanaged<float*, int, float*, int, int, int, int, int>)NativeLibrary.GetExport(handle, "stair_ref_dense_nt_self");
        _triad = (delegate* unmanaged<long, int, int, double>)NativeLibrary.GetExport(handle, "stair_probe_triad_gbps");
        _gather = (delegate* unmanaged<long, int, long, int, int, ulong, double>)NativeLibrary.GetExport(handle, "stair_probe_gather_rows_per_s");
        _fma = (delegate* unmanaged<int, int, double>)NativeLibrary.GetExport(handle, "stair_probe_fma_gflops");
        LibraryPath = libraryPath;
        Compiler = compiler;
        Isa = _isa();
    }

    /// <summary>What the library was compiled for: 512 (AVX-512), 256 (AVX2 + FMA) or 1 (scalar).</summary>
    public int Isa { get; }

    /// <summary>The loaded shared library.</summary>
    public string LibraryPath { get; }

    /// <summary>The first line of <c>gcc --version</c> of the compiler that built it.</summary>
    public string Compiler { get; }

    /// <summary>The command line the library was built with (for reports).</summary>
    public static string BuildCommand => $"{CompilerName} {string.Join(' ', CompilerFlags)} -o {LibraryFile} {SourceFile}";

    /// <summary>True when <c>gcc</c> runs on this machine (Linux only); when false, <see cref="TryLoad"/> cannot succeed.</summary>
    public static bool CompilerAvailable => OperatingSystem.IsLinux() && CompilerVersionLine.Value is not null;

    /// <summary>
    /// The C references, compiled (once per machine and source) and loaded (once per process);
    /// null with a one-line <paramref name="reason"/> when gcc is missing, the compile fails
    /// (the reason quotes gcc's first error line) or the library does not load.
    /// </summary>
    public static NativeReference? TryLoad(out string? reason)
    {
        (NativeReference? library, reason) = Default.Value;
        return library;
    }

    /// <summary>Compiles and loads the source with the given flags (tests build other instruction sets with it); not cached per process.</summary>
    internal static (NativeReference? Library, string? Reason) Build(IReadOnlyList<string> flags)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, $"the C references are built as a Linux shared library; this is {RuntimeInformation.OSDescription}");
        }
        string? compiler = CompilerVersionLine.Value;
        if (compiler is null)
        {
            return (null, $"{CompilerName} not found on PATH (install gcc and libgomp1, e.g. with bench/native/build.sh as root)");
        }
        string? source = FindSource();
        if (source is null)
        {
            return (null, $"{SourceFile} not found in {Path.Combine(AppContext.BaseDirectory, "native")} (it is copied there by the benchmark project)");
        }
        string directory;
        try
        {
            directory = Path.Combine(CacheRoot(), CacheKey(File.ReadAllBytes(source), flags, compiler));
            string library = Path.Combine(directory, LibraryFile);
            if (!File.Exists(library))
            {
                string? failure = Compile(source, directory, library, flags);
                if (failure is not null)
                {
                    return (null, failure);
                }
            }
            nint handle;
            try
            {
                handle = NativeLibrary.Load(library);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                return (null, $"could not load {library}: {FirstLine(e.Message)}");
            }
            try
            {
                return (new NativeReference(handle, library, compiler), null);
            }
            catch (EntryPointNotFoundException e)
            {
                return (null, $"{library} lacks an export: {FirstLine(e.Message)}");
            }
        }
        catch (IOException e)
        {
            return (null, $"could not prepare the native build cache: {FirstLine(e.Message)}");
        }
        catch (UnauthorizedAccessException e)
        {
            return (null, $"could not prepare the native build cache: {FirstLine(e.Message)}");
        }
    }

    /// <summary>Y = A·X with the C reference loop (bitwise equal to <see cref="Propagation.Spmm"/>).</summary>
    /// <param name="matrix">A.</param>
    /// <param name="input">X, row-major: A's columns × <paramref name="width"/>.</param>
    /// <param name="output">Y, row-major: A's rows × <paramref name="width"/>; must not overlap X.</param>
    /// <param name="width">Dense width d (≥ 1).</param>
    /// <param name="threads">OpenMP threads (≥ 1).</param>
    public void Spmm(CsrMatrix matrix, ReadOnlySpan<float> input, Span<float> output, int width, int threads)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        Propagation.ValidateWidth(width);
        ValidateThreads(threads);
        Propagation.ValidateTable(input, matrix.Columns, width, nameof(input));
        Propagation.ValidateTable(output, matrix.Rows, width, nameof(output));
        if (output.Overlaps(input))
        {
            throw new ArgumentException("The output table must not overlap the input table.", nameof(output));
        }
        if (matrix.Rows == 0)
        {
            return;
        }
        fixed (int* rowPointers = matrix.RowPointers)
        fixed (int* columns = matrix.ColumnIndices)
        fixed (float* values = matrix.Values)
        fixed (float* x = input)
        fixed (float* y = output)
        {
            _spmm(matrix.Rows, rowPointers, columns, values, x, y, width, threads);
        }
    }

    /// <summary>
    /// Forward stepwise convolution with the C reference loop, in Horner form like
    /// <see cref="Propagation.Fsc"/> and bitwise equal to it (without its zero-row skip, which
    /// changes no bit). For FSC backward pass Aᵀ (a plan's <see cref="PropagationPlan.Transposed"/>).
    /// </summary>
    /// <param name="matrix">The square matrix A.</param>
    /// <param name="input">E, row-major N × <paramref name="width"/>.</param>
    /// <param name="output">The result, N × <paramref name="width"/>; must not overlap E or β.</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="layers">L (≥ 0); L = 0 copies E.</param>
    /// <param name="beta">β, length d, each finite and in [0, 1].</param>
    /// <param name="workspace">Scratch for N rows of width d: its two layer tables and its scale row.</param>
    /// <param name="threads">OpenMP threads (≥ 1).</param>
    public void Fsc(CsrMatrix matrix, ReadOnlySpan<float> input, Span<float> output, int width, int layers,
        ReadOnlySpan<float> beta, PropagationWorkspace workspace, int threads)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (!matrix.IsSquare)
        {
            throw new ArgumentException($"Stepwise convolution needs a square matrix, got {matrix.Rows} × {matrix.Columns}.", nameof(matrix));
        }
        Propagation.ValidateWidth(width);
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        ValidateThreads(threads);
        int n = matrix.Rows;
        Propagation.ValidateTable(input, n, width, nameof(input));
        Propagation.ValidateTable(output, n, width, nameof(output));
        if (output.Overlaps(input))
        {
            throw new ArgumentException("The output table must not overlap the input table.", nameof(output));
        }
        Propagation.ValidateBeta(beta, width);
        if (output.Overlaps(beta))
        {
            throw new ArgumentException("The output table must not overlap β.", nameof(output));
        }
        ArgumentNullException.ThrowIfNull(workspace);
        if (workspace.Width != width || workspace.Rows < n)
        {
            throw new ArgumentException($"The workspace serves {workspace.Rows} rows of width {workspace.Width}; this call needs {n} rows of width {width}.", nameof(workspace));
        }
        if (n == 0)
        {
            return;
        }
        float[] scale = workspace.Scale;
        if (layers > 0)
        {
            StepwiseWeights.FinalScale(beta, layers, scale);
        }
        fixed (int* rowPointers = matrix.RowPointers)
        fixed (int* columns = matrix.ColumnIndices)
        fixed (float* values = matrix.Values)
        fixed (float* e = input)
        fixed (float* y = output)
        fixed (float* b = beta)
        fixed (float* c = scale)
        {
            _fsc(n, rowPointers, columns, values, e, y, width, layers, b, c, workspace.Layer(0), workspace.Layer(1), threads);
        }
    }

    /// <summary>
    /// C[i·ldc + j] = Σ_p A[i·lda + p]·B[j·ldb + p] for i &lt; m, j &lt; n (C = A·Bᵀ, the arguments
    /// of the library's dense NT product), with the register-blocked C loop; overwrites C.
    /// </summary>
    public void MultiplyTransposed(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, int threads)
    {
        ValidateDense(a, lda, c, ldc, m, n, k, threads);
        if (ldb < Math.Max(1, k))
        {
            throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"Leading dimension ldb must be at least max(1, k = {k}).");
        }
        ValidateOperand(b, n, ldb, k, nameof(b));
        if (c.Overlaps(b))
        {
            throw new ArgumentException("C must not overlap B.", nameof(c));
        }
        int status;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            status = _denseNt(pa, lda, pb, ldb, pc, ldc, m, n, k, threads);
        }
        ThrowIfFailed(status, (long)(n + 63) / 64 * 64 * k * sizeof(float));
    }

    /// <summary>C = A·Aᵀ (m × m, exactly symmetric): the C loop computes the tiles that touch the upper triangle and mirrors them.</summary>
    public void MultiplySelfTransposed(ReadOnlySpan<float> a, int lda, Span<float> c, int ldc, int m, int k, int threads)
    {
        ValidateDense(a, lda, c, ldc, m, m, k, threads);
        int status;
        fixed (float* pa = a)
        fixed (float* pc = c)
        {
            status = _denseNtSelf(pa, lda, pc, ldc, m, k, threads);
        }
        ThrowIfFailed(status, (long)(m + 63) / 64 * 64 * k * sizeof(float));
    }

    /// <summary>Stream triad a[i] = b[i] + s·c[i] over three float32 arrays of <paramref name="elements"/>; GB/s counting 12 bytes per element, best of <paramref name="reps"/>.</summary>
    public double TriadGBps(long elements, int reps, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(elements, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        ValidateThreads(threads);
        return CheckProbe(_triad(elements, reps, threads), 3 * elements * sizeof(float));
    }

    /// <summary>
    /// Rows per second of <paramref name="gathers"/> random whole-row reads (row ids from splitmix64 with
    /// <paramref name="seed"/>) from a 64-byte-aligned table of <paramref name="tableRows"/> rows of
    /// <paramref name="rowFloats"/> floats, each thread summing its rows in registers; best of <paramref name="reps"/>.
    /// </summary>
    public double GatherRowsPerSecond(long tableRows, int rowFloats, long gathers, int reps, int threads, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tableRows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tableRows, int.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowFloats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gathers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        ValidateThreads(threads);
        return CheckProbe(_gather(tableRows, rowFloats, gathers, reps, threads, seed), tableRows * rowFloats * sizeof(float) + gathers * sizeof(int));
    }

    /// <summary>GFLOP/s of independent register-resident FMA chains on <paramref name="threads"/> threads (2 flops per lane per FMA), best of <paramref name="reps"/>.</summary>
    public double FmaGflops(int threads, int reps)
    {
        ValidateThreads(threads);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        return CheckProbe(_fma(threads, reps), 0);
    }

    /// <summary>
    /// All three probes, each sized to take well under a second: a triad over 3 × 128 MiB, 8 M gathers of
    /// <paramref name="rowBytes"/>-byte rows from a table of <paramref name="tableBytes"/> (rounded down to whole
    /// rows), and the FMA chains.
    /// </summary>
    /// <param name="tableBytes">Size of the gathered table (e.g. the X table a SpMM gathers from), at least one row.</param>
    /// <param name="rowBytes">Bytes per row (a multiple of 4, e.g. 256 for d = 64 floats).</param>
    /// <param name="threads">Threads (≥ 1), e.g. those of the benchmarked kernels.</param>
    public MachineProbe Probe(long tableBytes, int rowBytes, int threads)
    {
        if (rowBytes < sizeof(float) || rowBytes % sizeof(float) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rowBytes), rowBytes, "Row bytes must be a positive multiple of 4 (whole floats).");
        }
        if (tableBytes < rowBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(tableBytes), tableBytes, $"The table must hold at least one row of {rowBytes} bytes.");
        }
        long tableRows = tableBytes / rowBytes;
        if (tableRows > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(tableBytes), tableBytes, $"The table may hold at most {int.MaxValue} rows (int32 row ids).");
        }
        ValidateThreads(threads);
        double triad = TriadGBps(1L << 25, 8, threads);
        double gather = GatherRowsPerSecond(tableRows, rowBytes / sizeof(float), 1L << 23, 5, threads, seed: 0x5EED_2026UL);
        double fma = FmaGflops(threads, 5);
        return new MachineProbe(triad, gather, rowBytes, tableRows * rowBytes, fma, threads);
    }

    private static void ValidateThreads(int threads)
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "Thread count must be at least 1.");
        }
    }

    private static void ValidateDense(ReadOnlySpan<float> a, int lda, Span<float> c, int ldc, int m, int n, int k, int threads)
    {
        ValidateThreads(threads);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (lda < Math.Max(1, k))
        {
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"Leading dimension lda must be at least max(1, k = {k}).");
        }
        if (ldc < Math.Max(1, n))
        {
            throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"Leading dimension ldc must be at least max(1, n = {n}).");
        }
        ValidateOperand(a, m, lda, k, nameof(a));
        long needC = m == 0 || n == 0 ? 0 : (long)(m - 1) * ldc + n;
        if (c.Length < needC)
        {
            throw new ArgumentException($"C ({m} × {n}, ldc = {ldc}) needs {needC} floats, got {c.Length}.", nameof(c));
        }
        if (c.Overlaps(a))
        {
            throw new ArgumentException("C must not overlap A.", nameof(c));
        }
    }

    private static void ValidateOperand(ReadOnlySpan<float> operand, int rows, int ld, int k, string name)
    {
        long need = rows == 0 || k == 0 ? 0 : (long)(rows - 1) * ld + k;
        if (operand.Length < need)
        {
            throw new ArgumentException($"The operand ({rows} × {k}, leading dimension {ld}) needs {need} floats, got {operand.Length}.", name);
        }
    }

    private static void ThrowIfFailed(int status, long bytes)
    {
        if (status != 0)
        {
            throw new OutOfMemoryException($"The C dense product could not allocate its packed copy of B ({bytes} bytes).");
        }
    }

    private static double CheckProbe(double result, long bytes)
    {
        if (!(result > 0) || !double.IsFinite(result))
        {
            throw new OutOfMemoryException($"The probe could not allocate its buffers ({bytes} bytes).");
        }
        return result;
    }

    private static string? FindSource()
    {
        foreach (string? folder in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(NativeReference).Assembly.Location) })
        {
            if (!string.IsNullOrEmpty(folder) && Path.Combine(folder, "native", SourceFile) is var path && File.Exists(path))
            {
                return path;
            }
        }
        return null;
    }

    private static string CacheRoot()
    {
        string? configured = Environment.GetEnvironmentVariable("STAIR_CACHE_DIR");
        return Path.Combine(string.IsNullOrWhiteSpace(configured) ? Path.GetTempPath() : configured, "stair-native");
    }

    // The source, the flags, the compiler and the CPU (-march=native): any change gives a new folder.
    private static string CacheKey(byte[] source, IReadOnlyList<string> flags, string compiler)
    {
        var text = new StringBuilder();
        text.Append(string.Join(' ', flags)).Append('\n').Append(compiler).Append('\n').Append(CpuIdentity());
        byte[] key = source.Concat(Encoding.UTF8.GetBytes(text.ToString())).ToArray();
        byte[] hash = SHA256.HashData(key);
        return Convert.ToHexString(hash, 0, 8).ToLowerInvariant();
    }

    private static string CpuIdentity()
    {
        try
        {
            return string.Join('\n', File.ReadLines("/proc/cpuinfo")
                .Where(line => line.StartsWith("model name", StringComparison.Ordinal) || line.StartsWith("flags", StringComparison.Ordinal))
                .Distinct());
        }
        catch (IOException)
        {
            return "";
        }
    }

    // Compiles to a private temporary name and renames it into place, so concurrent processes never load a half-written file.
    private static string? Compile(string source, string directory, string library, IReadOnlyList<string> flags)
    {
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $"{LibraryFile}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var arguments = new List<string>(flags) { "-o", temporary, source };
        var result = RunProcess(CompilerName, arguments, TimeSpan.FromMinutes(3));
        if (result is null)
        {
            return $"{CompilerName} not found on PATH";
        }
        (int exitCode, _, string stderr) = result.Value;
        if (exitCode != 0 || !File.Exists(temporary))
        {
            File.Delete(temporary);
            if (!Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory); // no empty folder per failed flag set
            }
            string[] lines = stderr.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            string first = lines.FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("cannot find", StringComparison.Ordinal))
                ?? lines.FirstOrDefault()
                ?? "no diagnostics";
            return $"{CompilerName} failed on {SourceFile} (exit {exitCode}): {first}";
        }
        File.Move(temporary, library, overwrite: true);
        return null;
    }

    private static string? ReadCompilerVersion()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var result = RunProcess(CompilerName, ["--version"], TimeSpan.FromSeconds(30));
        if (result is not { } r || r.Exit != 0)
        {
            return null;
        }
        string first = r.Output.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
        return first.Length > 0 ? first : CompilerName;
    }

    // Null when the program cannot be started (not installed); exit code −1 when it ran past the timeout.
    private static (int Exit, string Output, string Errors)? RunProcess(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (-1, output.Result, $"{program} ran past {timeout.TotalSeconds:0} s and was stopped");
            }
            process.WaitForExit();
            return (process.ExitCode, output.Result, errors.Result);
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
