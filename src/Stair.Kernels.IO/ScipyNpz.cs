// Reading and writing sparse matrices in the .npz layout of scipy.sparse.save_npz / load_npz,
// so graphs built in Python load straight into a CsrMatrix and back. An .npz is a zip of .npy
// members: indices, indptr, format (b'csr'), shape (int64 pair) and data.
using System.IO.Compression;

namespace Stair.Kernels.IO;

/// <summary>
/// Reads and writes <see cref="CsrMatrix"/> values as <c>.npz</c> files in exactly the layout of
/// <c>scipy.sparse.save_npz</c>, so <c>scipy.sparse.load_npz</c> reads what
/// <see cref="WriteCsr(string, CsrMatrix, bool)"/> writes and the other way round.
/// </summary>
/// <remarks>
/// <para>Reading accepts compressed (<c>save_npz(..., compressed=True)</c>, the default) and
/// uncompressed archives; int32 or int64 <c>indices</c>/<c>indptr</c> (int64 is range-checked
/// into int32); float32, float64 (rounded to float32), int32 or int64 <c>data</c>; and a
/// <c>format</c> stored as bytes or unicode. CSR matrices are read as they are; CSC matrices
/// are converted to CSR (rows keep their entries in increasing column order). Other sparse
/// formats (COO, BSR, DIA) are refused. Members other than the five scipy writes, such as
/// <c>_is_array</c>, are ignored.</para>
/// <para>Content problems — a missing member, an unsupported format, inconsistent arrays, a
/// CSR structure <see cref="CsrMatrix"/> rejects — raise <see cref="NpyFormatException"/>
/// naming the file; a CSR validation failure is kept as the inner <see cref="ArgumentException"/>.</para>
/// </remarks>
public static class ScipyNpz
{
    // A fixed timestamp keeps the archive's bytes a function of the matrix alone.
    private static readonly DateTimeOffset EntryTimestamp = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Reads a sparse matrix saved by <c>scipy.sparse.save_npz</c> (CSR, or CSC converted to CSR).</summary>
    /// <param name="path">The .npz file to read (used exactly as given; no extension is added).</param>
    /// <returns>The matrix, validated.</returns>
    /// <exception cref="NpyFormatException">The file is not such an archive, holds another sparse
    /// format, or its arrays do not form a valid matrix; the message names the file and the problem.</exception>
    public static CsrMatrix ReadCsr(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return ReadCsr(stream, $"'{path}'");
    }

    /// <summary>
    /// Reads a sparse matrix saved by <c>scipy.sparse.save_npz</c> from a stream holding the whole
    /// archive; see <see cref="ReadCsr(string)"/>. The stream is not closed; a stream that cannot
    /// seek is first copied into memory (zip archives are read from their end).
    /// </summary>
    /// <param name="stream">A readable stream positioned at the start of the archive.</param>
    /// <returns>The matrix, validated.</returns>
    /// <exception cref="NpyFormatException">The data is not such an archive, holds another sparse
    /// format, or its arrays do not form a valid matrix; the message says which.</exception>
    public static CsrMatrix ReadCsr(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadCsr(stream, Npy.SourceName(stream));
    }

    /// <summary>
    /// Writes <paramref name="matrix"/> as an .npz file that <c>scipy.sparse.load_npz</c> reads back
    /// as a <c>csr_matrix</c>, replacing any existing file: int32 <c>indices</c> and <c>indptr</c>,
    /// float32 <c>data</c>, int64 <c>shape</c> and <c>format</c> <c>b'csr'</c>.
    /// </summary>
    /// <param name="path">The file to create (used exactly as given; scipy's habit of appending
    /// <c>.npz</c> is not copied).</param>
    /// <param name="matrix">The matrix to save.</param>
    /// <param name="compressed">Deflate the members, as <c>save_npz</c> does by default; false stores them uncompressed.</param>
    public static void WriteCsr(string path, CsrMatrix matrix, bool compressed = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(matrix);
        using FileStream stream = File.Create(path);
        WriteCsr(stream, matrix, compressed);
    }

    /// <summary>
    /// Writes <paramref name="matrix"/> in <c>scipy.sparse.save_npz</c>'s layout to
    /// <paramref name="stream"/>; see <see cref="WriteCsr(string, CsrMatrix, bool)"/>. The stream is not closed.
    /// </summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="matrix">The matrix to save.</param>
    /// <param name="compressed">Deflate the members, as <c>save_npz</c> does by default; false stores them uncompressed.</param>
    public static void WriteCsr(Stream stream, CsrMatrix matrix, bool compressed = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(matrix);
        CompressionLevel level = compressed ? CompressionLevel.Optimal : CompressionLevel.NoCompression;
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);

        // Same members, same order as save_npz.
        AddMember(zip, "indices", level, s => Npy.WriteCore(s, matrix.ColumnIndices, NpyDataType.Int32, [matrix.NonZeros]));
        AddMember(zip, "indptr", level, s => Npy.WriteCore(s, matrix.RowPointers, NpyDataType.Int32, [matrix.Rows + 1]));
        AddMember(zip, "format", level, s => Npy.WriteScalarBytes(s, "csr"));
        AddMember(zip, "shape", level, s => Npy.WriteCore<long>(s, [matrix.Rows, matrix.Columns], NpyDataType.Int64, [2]));
        AddMember(zip, "data", level, s => Npy.WriteCore(s, matrix.Values, NpyDataType.Float32, [matrix.NonZeros]));
    }

    private static CsrMatrix ReadCsr(Stream stream, string source)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new NpyFormatException($"{source} is not an .npz file: it is not a valid zip archive ({e.Message}).", e);
        }

        using (zip)
        {
            string format = ReadMember(zip, "format", source, s => Npy.ReadScalarString(s.Stream, s.Name));
            if (format is not ("csr" or "csc"))
            {
                throw new NpyFormatException($"{source} holds a sparse matrix in '{format}' format; only CSR (and CSC, converted to CSR) can be read. Convert it with m.tocsr() before saving.");
            }

            long[] shape = ReadMember(zip, "shape", source, s => IntegerVector(Npy.Read(s.Stream, s.Name, s.Length), s.Name).ToInt64Array());
            if (shape.Length != 2 || shape[0] is < 0 or > int.MaxValue || shape[1] is < 0 or > int.MaxValue)
            {
                throw new NpyFormatException($"{source} has a 'shape' member of [{string.Join(", ", shape)}]; two extents in [0, {int.MaxValue}] were expected.");
            }
            int rows = (int)shape[0];
            int columns = (int)shape[1];

            int[] indptr = ReadMember(zip, "indptr", source, s => ToInt32(IntegerVector(Npy.Read(s.Stream, s.Name, s.Length), s.Name), s.Name));
            int[] indices = ReadMember(zip, "indices", source, s => ToInt32(IntegerVector(Npy.Read(s.Stream, s.Name, s.Length), s.Name), s.Name));
            float[] data = ReadMember(zip, "data", source, s => ToFloat(Vector(Npy.Read(s.Stream, s.Name, s.Length), s.Name), s.Name));

            // CSC stores the transpose's CSR arrays: build that, then transpose back. The public
            // constructor validates the arrays (and copies them, which costs far less than the read).
            bool csc = format == "csc";
            try
            {
                var matrix = new CsrMatrix(csc ? columns : rows, csc ? rows : columns, indptr, indices, data);
                return csc ? matrix.Transpose() : matrix;
            }
            catch (ArgumentException e)
            {
                throw new NpyFormatException($"{source} does not hold a valid {format.ToUpperInvariant()} matrix of shape ({rows}, {columns}): {e.Message}", e);
            }
        }
    }

    private readonly record struct Member(Stream Stream, string Name, long Length);

    private static T ReadMember<T>(ZipArchive zip, string name, string source, Func<Member, T> read)
    {
        // numpy names members "<key>.npy" but np.load also accepts bare keys; so do we.
        ZipArchiveEntry? entry = zip.GetEntry(name + ".npy") ?? zip.GetEntry(name);
        if (entry is null)
        {
            throw new NpyFormatException($"{source} has no '{name}.npy' member, so it is not a sparse matrix saved by scipy.sparse.save_npz.");
        }
        string memberName = $"Member '{entry.FullName}' of {source}";
        try
        {
            using Stream stream = entry.Open();
            return read(new Member(stream, memberName, entry.Length));
        }
        catch (InvalidDataException e)
        {
            // A corrupt deflate stream or an unsupported compression method.
            throw new NpyFormatException($"{memberName} cannot be decompressed: {e.Message}", e);
        }
    }

    private static void AddMember(ZipArchive zip, string name, CompressionLevel level, Action<Stream> write)
    {
        ZipArchiveEntry entry = zip.CreateEntry(name + ".npy", level);
        entry.LastWriteTime = EntryTimestamp;
        using Stream stream = entry.Open();
        write(stream);
    }

    private static NpyArray Vector(NpyArray array, string name) => array.Rank == 1
        ? array
        : throw new NpyFormatException($"{name} has shape {NpyArray.FormatShape(array.ShapeSpan)}; a 1-D array was expected.");

    private static NpyArray IntegerVector(NpyArray array, string name) => array.DataType is NpyDataType.Int32 or NpyDataType.Int64
        ? Vector(array, name)
        : throw new NpyFormatException($"{name} holds {array.DataType.Name()} elements; an int32 or int64 array was expected.");

    private static int[] ToInt32(NpyArray array, string name)
    {
        try
        {
            return array.TakeInt32Array();
        }
        catch (OverflowException e)
        {
            throw new NpyFormatException($"{name}: {e.Message}", e);
        }
    }

    private static float[] ToFloat(NpyArray array, string name)
    {
        try
        {
            return array.TakeFloatArray();
        }
        catch (OverflowException e)
        {
            throw new NpyFormatException($"{name}: {e.Message}", e);
        }
    }
}
