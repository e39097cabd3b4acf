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
    private static void WriteMmrec(RecommendationDataset data, TempDirectory dir)
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
}
