// `stair-kernels train` end to end on a small MMRec directory: metrics table, summary,
// JSON report, PNG plot; and one clear error line for bad data or options.
using System.Globalization;
using Stair.Kernels;
using Stair.Kernels.Cli;
using Stair.Kernels.IO;
using Stair.Recommender.Tests.Infrastructure;
using Stair.Recommender.Training;

namespace Stair.Recommender.Tests.Training;

public class TrainCommandTests
{
    // Writes the planted data set in the MMRec layout (train/valid/test as x_label 0/1/2).
    internal static void WriteMmrec(RecommendationDataset data, TempDirectory dir)
    {
        var rows = new List<string>();
        foreach ((CsrMatrix split, int label) in new[] { (data.Train, 0), (data.Validation, 1), (data.Test, 2) })
        {
            for (int u = 0; u < split.Rows; u++)
            {
                for (int k = split.RowPointers[u]; k < split.RowPointers[u + 1]; k++)
                {
                    rows.Add(string.Create(CultureInfo.InvariantCulture, $"{u}\t{split.ColumnIndices[k]}\t1\t{rows.Count}\t{label}"));
                }
            }
        }
        dir.WriteInter("planted.inter", "userID\titemID\trating\ttimestamp\tx_label", [.. rows]);
        foreach (ModalityFeatures m in data.Modalities)
        {
            Npy.Write(dir.File($"{m.Name}_feat.npy"), m.Features, data.Items, m.Columns);
        }
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Train_prints_metrics_and_writes_the_report_and_the_plot()
    {
        using var dir = new TempDirectory();
        WriteMmrec(StairTrainerTests.Planted(), dir);
        string json = dir.File("run.json"), png = dir.File("run.png");
        (int code, string output, string error) = Run("train", "--data", dir.Path, "--epochs", "10", "--eval-every", "5", "--dim", "16",
            "--batch-size", "256", "--lr", "0.01", "--knn", "3,1", "--seed", "5", "--metrics-out", json, "--plot", png);
        Assert.True(code == 0, error);
        Assert.Contains("Recall@20", output);
        Assert.Contains("best epoch", output);
        Assert.Contains("s per epoch", output);
        TrainingReport report = TrainingReport.FromJson(File.ReadAllText(json));
        Assert.Equal(2, report.Evaluations.Count);
        Assert.Equal(new[] { 3, 1 }, report.Options.Knn);
        byte[] image = File.ReadAllBytes(png);
        Assert.True(image.Length > 1000);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, image[..4]);
    }

    [Fact]
    public void Bad_data_and_options_get_one_error_line()
    {
        using var dir = new TempDirectory();
        WriteMmrec(StairTrainerTests.Planted(), dir);
        (int code, _, string error) = Run("train", "--data", dir.File("missing"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error);
        Assert.Single(error.Trim().Split('\n'));

        (code, _, error) = Run("train", "--data", dir.Path, "--knn", "1,2,3");
        Assert.Equal(2, code);
        Assert.Contains("--knn gives 3", error);

        (code, _, error) = Run("train", "--data", dir.Path, "--lr", "0");
        Assert.Equal(2, code);
        Assert.Contains("learning rate", error);

        (code, _, error) = Run("train", "--data", dir.Path, "--epochs", "0");
        Assert.Equal(2, code);
        Assert.Contains("--epochs", error);
    }

    [Fact]
    public void Lightgcn_and_the_single_ablation_flags_reach_the_trainer()
    {
        using var dir = new TempDirectory();
        WriteMmrec(StairTrainerTests.Planted(), dir);
        string json = dir.File("run.json");
        (int code, string output, string error) = Run("train", "--data", dir.Path, "--epochs", "2", "--eval-every", "1", "--dim", "8",
            "--batch-size", "512", "--lightgcn", "--metrics-out", json);
        Assert.True(code == 0, error);
        Assert.Contains("variant: LightGCN", output);
        TrainingReport report = TrainingReport.FromJson(File.ReadAllText(json));
        Assert.Equal((false, false, false), (report.Options.ModalityInit, report.Options.Fsc, report.Options.Bsc));
        Assert.Equal((2, 8, 512), (report.Options.Epochs, report.Options.Dim, report.Options.BatchSize));

        (code, output, error) = Run("train", "--data", dir.Path, "--epochs", "1", "--dim", "8", "--no-fsc", "--no-bsc", "--seed", "18446744073709551615");
        Assert.True(code == 0, error);
        Assert.Contains("variant: STAIR without FSC, BSC", output);
    }

    [Theory]
    [InlineData("--seed", "-1", "--seed must be an integer ≥ 0, got '-1'.")]
    [InlineData("--lr", "fast", "--lr must be a finite number, got 'fast'.")]
    [InlineData("--knn", "5,x", "--knn takes integers ≥ 1 separated by commas, got '5,x'.")]
    [InlineData("--backend", "tpu", "--backend must be cpu, cuda, opencl, ilgpu-cpu or auto, got 'tpu'.")]
    [InlineData("--no-fsc", "yes", "'yes'")]
    public void Bad_option_values_fail_before_the_data_is_loaded(string option, string value, string message)
    {
        (int code, string output, string error) = Run("train", "--data", "synthetic:baby", option, value);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(message, error);
    }
}
