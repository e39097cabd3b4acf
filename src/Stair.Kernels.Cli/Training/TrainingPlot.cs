// `train --plot`: validation Recall@20 and NDCG@20 per evaluation (left axis) and the
// training loss per epoch (right axis), written as a PNG with ScottPlot.
using Stair.Recommender.Training;

namespace Stair.Kernels.Cli.Training;

internal static class TrainingPlot
{
    public static void Write(TrainingReport report, string path, int width = 1000, int height = 560)
    {
        var plot = new ScottPlot.Plot();
        double[] evalEpochs = report.Evaluations.Select(e => (double)e.Epoch).ToArray();
        if (evalEpochs.Length > 0)
        {
            var recall = plot.Add.Scatter(evalEpochs, report.Evaluations.Select(e => e.Validation.RecallAt(20)).ToArray());
            recall.LegendText = "validation Recall@20";
            var ndcg = plot.Add.Scatter(evalEpochs, report.Evaluations.Select(e => e.Validation.NdcgAt(20)).ToArray());
            ndcg.LegendText = "validation NDCG@20";
        }
        if (report.EpochLosses.Length > 0)
        {
            double[] epochs = Enumerable.Range(1, report.EpochLosses.Length).Select(e => (double)e).ToArray();
            var loss = plot.Add.Scatter(epochs, report.EpochLosses);
            loss.LegendText = "training BPR loss (right axis)";
            loss.MarkerSize = 0;
            loss.LinePattern = ScottPlot.LinePattern.Dashed;
            loss.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "BPR loss";
        }
        if (report.BestEpoch > 0)
        {
            var best = plot.Add.VerticalLine(report.BestEpoch);
            best.LegendText = $"best epoch {report.BestEpoch}";
            best.LinePattern = ScottPlot.LinePattern.Dotted;
        }
        plot.Title($"STAIR on {report.Dataset}: test Recall@20 {report.Test.RecallAt(20):F4}, NDCG@20 {report.Test.NdcgAt(20):F4}");
        plot.XLabel("epoch");
        plot.YLabel("validation metric");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        plot.SavePng(path, width, height);
    }
}
