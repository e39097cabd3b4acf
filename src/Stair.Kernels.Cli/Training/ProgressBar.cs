// The live progress line of `train`: epoch, batch, loss, samples/s and ETA, redrawn in
// place on a terminal; on a redirected stream only every tenth of an epoch is written, so
// logs stay readable.
using System.Diagnostics;
using System.Globalization;

namespace Stair.Kernels.Cli.Training;

internal sealed class ProgressBar(TextWriter output, bool interactive)
{
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private int _lastWidth;

    public void Update(int epoch, int epochs, int batch, int batches, double loss, double samplesPerSecond, TimeSpan eta)
    {
        bool last = batch == batches;
        if (!last && (!interactive || _sinceDraw.ElapsedMilliseconds < 100))
        {
            return;
        }
        _sinceDraw.Restart();
        const int barWidth = 24;
        int filled = batches == 0 ? barWidth : (int)((long)batch * barWidth / batches);
        string line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch,4}/{epochs} [{new string('#', filled)}{new string('.', barWidth - filled)}] batch {batch,5}/{batches} loss {loss,8:F5} {samplesPerSecond,10:N0} samples/s ETA {Format(eta)}");
        if (interactive)
        {
            output.Write('\r' + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
            if (last)
            {
                output.WriteLine();
                _lastWidth = 0;
            }
        }
        else
        {
            output.WriteLine(line);
        }
    }

    private static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
