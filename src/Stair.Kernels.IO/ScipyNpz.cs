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
/// uncompressed archives; int32 or int64 <c>indices</c> (int64 is range-checked into int32) and
/// <c>indptr</c> (int64 becomes 64-bit row offsets, so matrices past 2³¹ entries load; their entries
/// are streamed row by row into the matrix, never held twice); float32, float64 (rounded to float32), int32 or int64 <c>data</c>; and a
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
    /// as a <c>csr_matrix</c>, replacing any existing file: int32 <c>indices</c> and <c>indptr</c> (int64, as
    /// scipy writes them, past 2³¹ − 1 entries), float32 <c>data</c>, int64 <c>shape</c> and <c>format</c> <c>b'csr'</c>.
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
    public static void WriteCsr(Stream stream, CsrMatrix matrix, bool compressed = true) => WriteCsr(stream, matrix, compressed, int.MaxValue);

    /// <summary>Writes with int64 indices and indptr once the matrix holds more than <paramref name="int32Up"/> entries (tests lower it).</summary>
    internal static void WriteCsr(Stream stream, CsrMatrix matrix, bool compressed, long int32Up)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(matrix);
        CompressionLevel level = compressed ? CompressionLevel.Optimal : CompressionLevel.NoCompression;
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);

        // Same members, same order as save_npz. Like scipy, int32 indices while the entries fit,
        // int64 indices and indptr past 2³¹ − 1 entries (streamed row by row: no span covers them).
        if (matrix.NonZeros <= int32Up)
        {
            AddMember(zip, "indices", level, s => Npy.WriteCore(s, matrix.ColumnIndices, NpyDataType.Int32, [(int)matrix.NonZeros]));
            AddMember(zip, "indptr", level, s => Npy.WriteCore(s, matrix.RowPointers, NpyDataType.Int32, [matrix.Rows + 1]));
        }
        else
        {
            AddMember(zip, "indices", level, s => WriteRows<int, long>(s, matrix, NpyDataType.Int64, matrix.RowColumns, static c => c));
            AddMember(zip, "indptr", level, s => Npy.WriteCore(s, matrix.RowOffsets, NpyDataType.Int64, [matrix.Rows + 1]));
        }
        AddMember(zip, "format", level, s => Npy.WriteScalarBytes(s, "csr"));
        AddMember(zip, "shape", level, s => Npy.WriteCore<long>(s, [matrix.Rows, matrix.Columns], NpyDataType.Int64, [2]));
        if (matrix.NonZeros <= int32Up)
        {
            AddMember(zip, "data", level, s => Npy.WriteCore(s, matrix.Values, NpyDataType.Float32, [(int)matrix.NonZeros]));
        }
        else
        {
            AddMember(zip, "data", level, s => WriteRows<float, float>(s, matrix, NpyDataType.Float32, matrix.RowValues, static v => v));
        }
    }

    // One entry array of a matrix past 2³¹ entries, as a 1-D .npy of `type`, gathered row by row into 1 MiB pieces.
    private static void WriteRows<TIn, TOut>(Stream stream, CsrMatrix matrix, NpyDataType type, Func<int, ReadOnlySpan<TIn>> row, Func<TIn, TOut> convert)
        where TOut : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Writing a matrix past 2³¹ entries needs a little-endian machine.");
        }
        stream.Write(NpyHeader.BuildVector(type.Descr(), matrix.NonZeros));
        var piece = new TOut[(1 << 20) / System.Runtime.CompilerServices.Unsafe.SizeOf<TOut>()];
        int filled = 0;
        for (int r = 0; r < matrix.Rows; r++)
        {
            ReadOnlySpan<TIn> entries = row(r);
            while (!entries.IsEmpty)
            {
                int n = Math.Min(entries.Length, piece.Length - filled);
                for (int k = 0; k < n; k++)
                {
                    piece[filled + k] = convert(entries[k]);
                }
                filled += n;
                entries = entries[n..];
                if (filled == piece.Length)
                {
                    stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(piece.AsSpan()));
                    filled = 0;
                }
            }
        }
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(piece.AsSpan(0, filled)));
    }

    private static CsrMatrix ReadCsr(Stream stream, string source) => ReadCsr(stream, source, Array.MaxLength);

    /// <summary>Reads with the entries streamed row by row once a member holds more than <paramref name="streamFrom"/> elements (tests lower it).</summary>
    internal static CsrMatrix ReadCsr(Stream stream, string source, long streamFrom)
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
            try
            {
                // The central directory is read on first use, not by the constructor: read it here, so a corrupt
                // one (found by fuzzing: an entry count that disagrees with the directory) is a format error too.
                _ = zip.Entries.Count;
            }
            catch (InvalidDataException e)
            {
                throw new NpyFormatException($"{source} is not an .npz file: it is not a valid zip archive ({e.Message}).", e);
            }
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

            NpyArray indptrArray = ReadMember(zip, "indptr", source, s => IntegerVector(Npy.Read(s.Stream, s.Name, s.Length), s.Name));
            bool csc = format == "csc";
            int majors = csc ? columns : rows, minors = csc ? rows : columns;
            long entries = Math.Max(MemberCount(zip, "indices", source), MemberCount(zip, "data", source));
            CsrMatrix matrix;
            if (entries > streamFrom)
            {
                // Past an array's limit (2³¹ entries): the entries stream row by row into the matrix's own storage.
                matrix = ReadStreamed(zip, source, format, rows, columns, majors, minors, indptrArray.ToInt64Array());
            }
            else
            {
                int[] indices = ReadMember(zip, "indices", source, s => ToInt32(IntegerVector(Npy.Read(s.Stream, s.Name, s.Length), s.Name), s.Name));
                float[] data = ReadMember(zip, "data", source, s => ToFloat(Vector(Npy.Read(s.Stream, s.Name, s.Length), s.Name), s.Name));

                // CSC stores the transpose's CSR arrays: build that, then transpose back. The public
                // constructor validates the arrays (and copies them, which costs far less than the read).
                // int64 indptr (scipy's choice when the index dtype is int64) is taken as 64-bit row offsets.
                try
                {
                    matrix = indptrArray.DataType == NpyDataType.Int32
                        ? new CsrMatrix(majors, minors, indptrArray.AsSpan<int>(), indices, data)
                        : new CsrMatrix(majors, minors, indptrArray.AsSpan<long>(), indices, data);
                }
                catch (ArgumentException e)
                {
                    throw new NpyFormatException($"{source} does not hold a valid {format.ToUpperInvariant()} matrix of shape ({rows}, {columns}): {e.Message}", e);
                }
            }
            return csc ? matrix.Transpose() : matrix;
        }
    }

    // Elements a member's .npy header declares (read again from the member's start: nothing else of it is read).
    private static long MemberCount(ZipArchive zip, string name, string source)
        => ReadMember(zip, name, source, s => NpyHeader.Read(s.Stream, s.Name, allowStrings: false, longVector: true).Count);

    // indices and data opened side by side and read row by row through 1 MiB buffers into a CsrBuilder:
    // the matrix's storage is the only copy of the entries that is ever whole.
    private static CsrMatrix ReadStreamed(ZipArchive zip, string source, string format, int rows, int columns, int majors, int minors, long[] indptr)
    {
        string Invalid(string what) => $"{source} does not hold a valid {format.ToUpperInvariant()} matrix of shape ({rows}, {columns}): {what}";
        if (indptr.Length != majors + 1L)
        {
            throw new NpyFormatException(Invalid($"indptr has {indptr.Length} entries, {majors + 1L} expected."));
        }
        if (indptr[0] != 0)
        {
            throw new NpyFormatException(Invalid($"indptr must start at 0, got {indptr[0]} at index 0."));
        }
        int longest = 0;
        for (int r = 0; r < majors; r++)
        {
            long length = indptr[r + 1] - indptr[r];
            if (length < 0 || length > int.MaxValue)
            {
                throw new NpyFormatException(Invalid($"indptr must not decrease and a row holds at most {int.MaxValue:N0} entries: index {r + 1} holds {indptr[r + 1]} after {indptr[r]}."));
            }
            longest = Math.Max(longest, (int)length);
        }
        long nnz = indptr[majors];
        ZipArchiveEntry indicesEntry = Entry(zip, "indices", source), dataEntry = Entry(zip, "data", source);
        using Stream indicesStream = indicesEntry.Open(), dataStream = dataEntry.Open();
        var indices = new StreamedVector(indicesStream, $"Member '{indicesEntry.FullName}' of {source}", integer: true);
        var data = new StreamedVector(dataStream, $"Member '{dataEntry.FullName}' of {source}", integer: false);
        if (indices.Count != nnz || data.Count != nnz)
        {
            throw new NpyFormatException(Invalid($"indptr ends at {nnz}, but indices holds {indices.Count} and data {data.Count} entries."));
        }
        var builder = new CsrBuilder(majors, minors, nnz);
        var rowColumns = new int[longest];
        var rowValues = new float[longest];
        for (int r = 0; r < majors; r++)
        {
            int length = (int)(indptr[r + 1] - indptr[r]);
            indices.ReadInt32(rowColumns.AsSpan(0, length));
            data.ReadFloat(rowValues.AsSpan(0, length));
            try
            {
                builder.AppendRow(rowColumns.AsSpan(0, length), rowValues.AsSpan(0, length));
            }
            catch (ArgumentException e)
            {
                throw new NpyFormatException(Invalid(e.Message), e);
            }
        }
        return builder.Build();
    }

    private static ZipArchiveEntry Entry(ZipArchive zip, string name, string source)
        => zip.GetEntry(name + ".npy") ?? zip.GetEntry(name)
            ?? throw new NpyFormatException($"{source} has no '{name}.npy' member, so it is not a sparse matrix saved by scipy.sparse.save_npz.");

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
