// Small valid inputs for every fuzz target, written by code (scripts/fuzz.sh puts them in afl-fuzz's input folder).
using System.IO.Compression;
using System.Text;
using Stair.Kernels.IO;

namespace Stair.Kernels.Fuzzing;

internal static class FuzzSeeds
{
    public static void WriteAll(string directory)
    {
        foreach (string target in FuzzTargets.Names)
        {
            string folder = Path.Combine(directory, target);
            Directory.CreateDirectory(folder);
            int n = 0;
            foreach (byte[] seed in For(target))
            {
                File.WriteAllBytes(Path.Combine(folder, $"seed{n++:D2}"), seed);
            }
        }
    }

    public static IEnumerable<byte[]> For(string target) => target switch
    {
        "npy" => NpySeeds(),
        "npz" => NpzSeeds(),
        "inter" => Text(
            "userID\titemID\trating\ttimestamp\tx_label\n0\t0\t5\t100\t0\n1\t2\t3\t101\t1\n\n0\t1\t4\t102\t2\n",
            "userID\titemID\n0\t1\n2\t0\n",
            "user,item\n0,1\n2,3\n",
            "0,1\n1,0\r\n"),
        "items" => Text("itemID\ttext\n1\tsecond item\n0\tfirst\titem\n", "itemID\ttext\r\n0\tä ö ü\r\n\r\n"),
        "csr" =>
        [
            // 2×3, 8-bit elements: offsets [0, 2, 3], columns [0, 2, 1], values [1, -0.5, 2].
            [0, 2, 3, 3, 3, 3, 0, 2, 3, 0, 2, 1, 2, 0xFF, 4],
            // the same with 64-bit offsets
            [1, 2, 3, 3, 3, 3, 0, 2, 3, 0, 2, 1, 2, 0xFF, 4],
            // 1×1 with full-width elements and int32 shape: offsets [0, 1], column [0], value 1.5f.
            [6, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0, 0x3F],
        ],
        "cli" => Text(
            "adjacency\n--interactions\nx.inter\n--output\nA.npz\n--users\n5\n--uncompressed",
            "knn\n--features\ntext.npy,image.npy\n--k\n5,1\n--output\nG.npz",
            "propagate\n--adjacency\nA.npz\n--input\nE.npy\n--output\nO.npy\n--layers\n2\n--gamma\n0.2\n--backend\ncpu\n--tier\navx2\n--threads\n2",
            "whiten\n--features\na.npy\n--weights\n1.5,2\n--output\nw.npy",
            "train\n--data\nmovielens\n--epochs\n3\n--lr\n1e-3\n--quick",
            "validate\n--backend\nauto",
            "help\nknn",
            "--help"),
        _ => throw new ArgumentException($"Unknown fuzz target '{target}'.", nameof(target)),
    };

    private static byte[][] Text(params string[] texts) => texts.Select(Encoding.UTF8.GetBytes).ToArray();

    private static IEnumerable<byte[]> NpySeeds()
    {
        yield return Saved(s => Npy.Write(s, [1.5f, -2f, 0f, 3f, 65504f, float.NaN], 2, 3));
        yield return Saved(s => Npy.Write(s, [0.1, -2.5, 1e300], 3));
        yield return Saved(s => Npy.Write(s, [7], []));
        yield return Saved(s => Npy.Write(s, [1L, -1L, long.MaxValue, 4L], 1, 2, 2));
        // Big-endian int32 vector, version 2.0 header.
        yield return Raw(2, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", [0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE]);
        // Fortran order with one extent above 1, version 3.0 header.
        yield return Raw(3, "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 2), }", new byte[16]);
    }

    private static IEnumerable<byte[]> NpzSeeds()
    {
        var matrix = new CsrMatrix(2, 3, [0, 2, 3], [0, 2, 1], [1f, -0.5f, 2f]);
        yield return Saved(s => ScipyNpz.WriteCsr(s, matrix, compressed: false));
        yield return Saved(s => ScipyNpz.WriteCsr(s, matrix, compressed: true));
        // CSC with int64 indptr, float64 data and a unicode format string, stored uncompressed.
        yield return Zip(
            ("format.npy", Raw(1, "{'descr': '<U3', 'fortran_order': False, 'shape': (), }", Encoding.UTF32.GetBytes("csc"))),
            ("shape.npy", Saved(s => Npy.Write(s, [2L, 3L]))),
            ("indptr.npy", Saved(s => Npy.Write(s, [0L, 1L, 1L, 2L]))),
            ("indices.npy", Saved(s => Npy.Write(s, [1, 0]))),
            ("data.npy", Saved(s => Npy.Write(s, [0.25, -4.0]))));
    }

    private static byte[] Saved(Action<Stream> write)
    {
        var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static byte[] Zip(params (string Name, byte[] Bytes)[] members) => Saved(s =>
    {
        using var zip = new ZipArchive(s, ZipArchiveMode.Create, leaveOpen: true);
        foreach ((string name, byte[] bytes) in members)
        {
            using Stream entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            entry.Write(bytes);
        }
    });

    // A .npy file with a hand-written header dict, padded with spaces and a newline to a 64-byte boundary.
    private static byte[] Raw(int major, string dict, byte[] body)
    {
        int lengthSize = major == 1 ? 2 : 4;
        int unpadded = 8 + lengthSize + dict.Length + 1;
        string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        bytes.AddRange(BitConverter.GetBytes(header.Length).Take(lengthSize));
        bytes.AddRange(Encoding.Latin1.GetBytes(header));
        bytes.AddRange(body);
        return bytes.ToArray();
    }
}
