// Replays the committed fuzz corpora (fuzz/corpus/TARGET, minimized by scripts/fuzz.sh) through the very
// harness afl-fuzz ran (FuzzTargets, linked from fuzz/Stair.Kernels.Fuzz): every input must end in a result
// or in an exception the API documents; anything else (an undocumented exception or a broken invariant) fails.
using Stair.Kernels.Fuzzing;

namespace Stair.Kernels.Tests.IO;

public sealed class FuzzCorpusReplayTests
{
    public static TheoryData<string> Targets => new(FuzzTargets.Names);

    [Theory]
    [MemberData(nameof(Targets))]
    public void Corpus_inputs_raise_only_documented_exceptions(string target)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", target);
        string[] files = Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
        Assert.True(files.Length > 0, $"no corpus files in {folder} (scripts/fuzz.sh {target} MINUTES writes them)");

        var failures = new List<string>();
        foreach (string file in files.Order(StringComparer.Ordinal))
        {
            try
            {
                FuzzTargets.Run(target, File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failures.Add($"{Path.GetFileName(file)}: {e.GetType().FullName}: {e.Message}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {files.Length} {target} inputs raised undocumented exceptions:\n{string.Join("\n", failures)}");
    }

    [Fact]
    public void An_unknown_target_is_refused()
    {
        Assert.Throws<ArgumentException>(() => FuzzTargets.Run("no-such-target", []));
    }
}
