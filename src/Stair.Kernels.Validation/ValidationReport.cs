// `validate --report DIR`: the validation table as JSON and Markdown under the same machine
// header as the benchmark report, so "this kernel on this hardware" can be shared as one folder.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stair.Kernels.Validation;

/// <summary>One validation run: where, what was asked, every case and the totals.</summary>
public sealed record ValidationReport(DateTimeOffset Started, string Command, MachineDescription Machine, IReadOnlyList<ValidationResult> Results)
{
    /// <summary>Cases within tolerance.</summary>
    public int Passed => Results.Count(r => r.Passed);

    /// <summary>Cases outside tolerance or stopped by an exception.</summary>
    public int Failed => Results.Count - Passed;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes validate.json and validate.md into <paramref name="folder"/> (created if missing) and returns their paths.</summary>
    public (string Json, string Markdown) Write(string folder)
    {
        Directory.CreateDirectory(folder);
        string json = Path.Combine(folder, "validate.json");
        string md = Path.Combine(folder, "validate.md");
        File.WriteAllText(json, JsonSerializer.Serialize(this, Json));
        File.WriteAllText(md, ToMarkdown());
        return (json, md);
    }

    /// <summary>Reads a validate.json written by <see cref="Write"/>.</summary>
    public static ValidationReport Read(string folder) =>
        JsonSerializer.Deserialize<ValidationReport>(File.ReadAllText(Path.Combine(folder, "validate.json")), Json)
        ?? throw new InvalidDataException($"{folder}/validate.json holds no report.");

    /// <summary>The machine header, the totals and one table row per case.</summary>
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Stair.Kernels validation").AppendLine();
        md.AppendLine(c, $"{Started:yyyy-MM-dd HH:mm zzz}; command `{Command}`; **{Passed} passed, {Failed} failed**.").AppendLine();
        md.AppendLine("max err is the largest error relative to the rounding scale |A|·|X| (for knn-topk: items whose neighbour list differs from a float64 brute force); a case passes within the float32 forward-error bound.").AppendLine();
        md.AppendLine("## Machine").AppendLine();
        md.AppendLine(Machine.ToMarkdown());
        md.AppendLine("## Cases").AppendLine();
        md.AppendLine("| kernel | backend | size | max err | tolerance | ok | median ms |");
        md.AppendLine("|---|---|---|---:|---:|---|---:|");
        foreach (ValidationResult r in Results)
        {
            md.AppendLine(c, $"| {r.Kernel} | {r.Backend} | {r.Size} | {r.MaxError:E2} | {r.Tolerance:E2} | {(r.Passed ? "pass" : "**FAIL**")} | {r.MedianMilliseconds:F3} |");
            if (r.Error is not null)
            {
                md.AppendLine(c, $"| | | error: {r.Error.Replace('|', '/').ReplaceLineEndings(" ")} | | | | |");
            }
        }
        return md.ToString();
    }
}
