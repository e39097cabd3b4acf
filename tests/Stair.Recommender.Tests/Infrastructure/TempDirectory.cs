// A scratch directory per test, removed afterwards, plus writers for small MMRec data sets.
using Stair.Kernels.IO;

namespace Stair.Recommender.Tests.Infrastructure;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string? name = null)
    {
        Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "stair-recommender-tests", Guid.NewGuid().ToString("N"));
        Path = name is null ? Root : System.IO.Path.Combine(Root, name);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory to use (a named subdirectory when a name was given).</summary>
    public string Path { get; }

    private string Root { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a .inter file: the header line, then one line per row (fields joined by tabs).</summary>
    public string WriteInter(string name, string header, params string[] rows)
    {
        string path = File(name);
        System.IO.File.WriteAllText(path, header + "\n" + string.Join("\n", rows) + "\n");
        return path;
    }

    /// <summary>Writes a rows × columns float32 .npy whose element (r, c) is r + c / 100.</summary>
    public string WriteFeatures(string name, int rows, int columns)
    {
        var values = new float[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                values[r * columns + c] = r + c / 100f;
            }
        }
        string path = File(name);
        Npy.Write(path, values, rows, columns);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
