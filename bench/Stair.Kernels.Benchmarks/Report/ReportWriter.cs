// Writes a report folder: report.json (the PerformanceReport, camelCase, enums as strings),
// report.md (ReportMarkdown) and charts/*.png (ReportCharts), and reads report.json back.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stair.Kernels.Benchmarks.Report;

internal static class ReportWriter
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write(PerformanceReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        IReadOnlyList<string> charts = ReportCharts.Write(report, Path.Combine(folder, "charts"));
        File.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(report, Json));
        File.WriteAllText(Path.Combine(folder, "report.md"), ReportMarkdown.Render(report, charts));
    }

    public static PerformanceReport Read(string folder) =>
        JsonSerializer.Deserialize<PerformanceReport>(File.ReadAllText(Path.Combine(folder, "report.json")), Json)
        ?? throw new InvalidDataException($"{folder}/report.json holds no report.");
}
