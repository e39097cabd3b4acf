// PeerRunner: runs bench/peers/peers.py on a manifest from PeerData.Export in a child Python
// process and reads its JSON. What goes wrong on the Python side never throws: no interpreter, a
// timeout (the process tree is killed) or a non-zero exit each become one Skipped entry naming the
// cause (with the cases the script had finished, which it writes after every case), so the report
// still gets written. What is the caller's mistake throws: a missing or malformed manifest, a missing
// script, and a script that exits 0 but leaves no valid output (a protocol bug).
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Stair.Kernels.Benchmarks.Report;

/// <summary>One peer's timing of one case.</summary>
/// <param name="Kernel">As in <see cref="PeerCase.Kernel"/>.</param>
/// <param name="Shape">As in <see cref="PeerCase.Shape"/>.</param>
/// <param name="Peer">The library call timed, e.g. "torch.sparse.mm (CSR)".</param>
/// <param name="MedianMs">Median of <paramref name="Reps"/> timed runs after one warm-up, milliseconds.</param>
/// <param name="MinMs">Fastest run, milliseconds.</param>
/// <param name="MaxMs">Slowest run, milliseconds.</param>
/// <param name="Reps">Timed runs.</param>
/// <param name="MaxRelativeError">The peer's error against the reference (peers.py's docstring defines it per kernel;
/// SpMM/FSC: componentwise, relative to |A|·|X|); null where no reference was available.</param>
public sealed record PeerResult(string Kernel, string Shape, string Peer, double MedianMs, double MinMs, double MaxMs, int Reps, double? MaxRelativeError);

/// <summary>Everything one peers.py run reported.</summary>
/// <param name="Results">The timed peers.</param>
/// <param name="Skipped">Peers not timed and why (a missing module, a failed check, the reference BLAS, or the run itself: no interpreter, a timeout, an exit code).</param>
/// <param name="Python">The interpreter's version (null when none ran).</param>
/// <param name="Versions">Module versions: numpy, scipy, torch, sklearn (those that imported).</param>
/// <param name="Blas">The BLAS numpy/scipy loaded, e.g. "openblas-pthread 0.3.21" (null when unknown).</param>
public sealed record PeerRun(IReadOnlyList<PeerResult> Results, IReadOnlyList<(string Peer, string Reason)> Skipped, string? Python,
    IReadOnlyDictionary<string, string> Versions, string? Blas);

/// <summary>Runs the Python peers of the benchmark report.</summary>
public static class PeerRunner
{
    /// <summary>The environment variable naming the Python interpreter (overrides <see cref="DefaultPython"/>'s search).</summary>
    public const string PythonVariable = "STAIR_PEERS_PYTHON";

    /// <summary>The name of the JSON output, written next to the manifest.</summary>
    public const string OutputFileName = "peers.json";

    /// <summary>peers.py as shipped next to the bench assembly (the project copies bench/peers/ to peers/ in its output).</summary>
    public static string DefaultScriptPath => Path.Combine(AppContext.BaseDirectory, "peers", "peers.py");

    /// <summary>
    /// $STAIR_PEERS_PYTHON if set; else /usr/bin/python3 when it exists (Debian's interpreter, the one that sees the
    /// packages bench/peers/install.sh installs; a pyenv or venv python3 earlier on PATH does not); else "python3" on PATH.
    /// </summary>
    public static string DefaultPython()
    {
        string? chosen = Environment.GetEnvironmentVariable(PythonVariable);
        if (!string.IsNullOrWhiteSpace(chosen))
        {
            return chosen;
        }
        return File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    }

    /// <summary>Runs <paramref name="scriptPath"/> on <paramref name="manifestPath"/> with <see cref="DefaultPython"/>.</summary>
    public static PeerRun Run(string manifestPath, string scriptPath, TimeSpan timeout) => Run(manifestPath, scriptPath, timeout, DefaultPython());

    /// <summary>
    /// Runs <c>python scriptPath manifestPath peers.json</c> (peers.json beside the manifest), reading its output and error
    /// as they come, killing the process tree after <paramref name="timeout"/>, and returns what it reported.
    /// </summary>
    /// <param name="manifestPath">manifest.json from <see cref="PeerData.Export(string, IEnumerable{PeerCase})"/>.</param>
    /// <param name="scriptPath">peers.py (e.g. <see cref="DefaultScriptPath"/>).</param>
    /// <param name="timeout">Wall-clock limit of the whole run (&gt; 0).</param>
    /// <param name="python">The interpreter: a path or a name looked up on PATH.</param>
    /// <returns>The results; no interpreter, a timeout or a non-zero exit give a run whose <see cref="PeerRun.Skipped"/>
    /// names the cause (after the results of the cases finished before it).</returns>
    /// <exception cref="FileNotFoundException">The manifest, a file it names, or the script is missing.</exception>
    /// <exception cref="InvalidDataException">The manifest is malformed, or the script exited 0 without valid output.</exception>
    public static PeerRun Run(string manifestPath, string scriptPath, TimeSpan timeout, string python)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(manifestPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(scriptPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(python);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        manifestPath = Path.GetFullPath(manifestPath);
        PeerData.ReadManifest(manifestPath);
        if (!File.Exists(scriptPath))
        {
            throw new FileNotFoundException($"The peer script {scriptPath} is missing.", scriptPath);
        }
        string output = Path.Combine(Path.GetDirectoryName(manifestPath)!, OutputFileName);
        File.Delete(output);

        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(manifestPath)!,
        };
        start.ArgumentList.Add(Path.GetFullPath(scriptPath));
        start.ArgumentList.Add(manifestPath);
        start.ArgumentList.Add(output);

        var log = new StringBuilder();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception($"{python} did not start.");
        }
        catch (Win32Exception e)
        {
            return Empty(("python3", $"no Python interpreter: '{python}' could not be started ({e.Message}); install one with bench/peers/install.sh or set {PythonVariable}"));
        }
        using (process)
        {
            process.OutputDataReceived += (_, e) => Append(log, e.Data);
            process.ErrorDataReceived += (_, e) => Append(log, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            bool exited = process.WaitForExit(timeout);
            if (!exited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.WaitForExit(); // drains the redirected streams
            string text;
            lock (log)
            {
                text = log.ToString();
            }
            File.WriteAllText(Path.ChangeExtension(output, ".log"), text);
            if (!exited)
            {
                return WithSkip(TryRead(output), ("peers.py", $"timed out after {timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s and was killed; " +
                    $"cases finished before are kept. Last output: {Tail(text)}"));
            }
            if (process.ExitCode != 0)
            {
                return WithSkip(TryRead(output), ("peers.py", $"exited with code {process.ExitCode}: {Tail(text)}"));
            }
            if (!File.Exists(output))
            {
                throw new InvalidDataException($"peers.py exited 0 but wrote no {output}. Output: {Tail(text)}");
            }
            return Parse(File.ReadAllText(output));
        }
    }

    /// <summary>Parses peers.py's JSON (the format its docstring gives).</summary>
    /// <exception cref="InvalidDataException">Not JSON, or a required field is missing or of the wrong type.</exception>
    internal static PeerRun Parse(string json)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            JsonElement root = doc.RootElement;
            var results = new List<PeerResult>();
            foreach (JsonElement r in Items(root, "results"))
            {
                results.Add(new PeerResult(Text(r, "kernel"), Text(r, "shape"), Text(r, "peer"), Number(r, "median_ms"), Number(r, "min_ms"),
                    Number(r, "max_ms"), r.GetProperty("reps").GetInt32(), OptionalNumber(r, "max_rel_error")));
            }
            var skipped = new List<(string, string)>();
            foreach (JsonElement s in Items(root, "skipped"))
            {
                skipped.Add((Text(s, "peer"), Text(s, "reason")));
            }
            var versions = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("versions", out JsonElement v) && v.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in v.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        versions[p.Name] = p.Value.GetString()!;
                    }
                }
            }
            return new PeerRun(results, skipped, OptionalText(root, "python"), versions, OptionalText(root, "blas"));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Not a peers.py result: {e.Message}", e);
        }
    }

    private static PeerRun Empty(params (string Peer, string Reason)[] skipped) =>
        new([], skipped, null, new Dictionary<string, string>(), null);

    private static PeerRun WithSkip(PeerRun? partial, (string Peer, string Reason) skip) => partial is null
        ? Empty(skip)
        : partial with { Skipped = [.. partial.Skipped, skip] };

    // What a killed or failed run left (peers.py rewrites its output after every case; a half-written file is ignored).
    private static PeerRun? TryRead(string output)
    {
        try
        {
            return File.Exists(output) ? Parse(File.ReadAllText(output)) : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }
    }

    private static string Tail(string text)
    {
        const int keep = 2_000;
        text = text.Trim();
        return text.Length == 0 ? "(nothing)" : text.Length <= keep ? text : "…" + text[^keep..];
    }

    private static JsonElement.ArrayEnumerator Items(JsonElement root, string name) => root.GetProperty(name).EnumerateArray();

    private static string Text(JsonElement e, string name) => e.GetProperty(name).GetString()
        ?? throw new InvalidOperationException($"'{name}' is null.");

    private static string? OptionalText(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double Number(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    // peers.py writes a non-finite error as a string ("inf", "nan"): JSON has no such numbers.
    private static double? OptionalNumber(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.String)
        {
            return v.GetDouble();
        }
        return v.GetString() switch
        {
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            "nan" => double.NaN,
            string other => double.Parse(other, NumberStyles.Float, CultureInfo.InvariantCulture),
            null => null,
        };
    }
}
