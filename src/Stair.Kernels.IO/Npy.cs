// Reading and writing numpy .npy files (format versions 1.0, 2.0 and 3.0; C order; float32,
// float64, int32 and int64), so embedding tables and index arrays move between Python and
// the kernels without conversion scripts. Elements are copied straight between the stream
// and the array's memory; only big-endian data is touched again (byte-swapped).
using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Stair.Kernels.IO;

/// <summary>
/// Reads and writes numpy <c>.npy</c> files holding float32, float64, int32 or int64 arrays of
/// any number of dimensions, as <c>numpy.save</c> and <c>numpy.load</c> do.
/// </summary>
/// <remarks>
/// <para>Reading accepts format versions 1.0, 2.0 and 3.0, little- and big-endian data
/// (big-endian elements are byte-swapped on read) and C (row-major) order. Fortran-ordered
/// arrays are refused unless at most one dimension exceeds 1 (then both orders lay the data out
/// identically). Every other dtype — float16, bool, unsigned or 8/16-bit integers, complex,
/// strings, objects, structured records — is refused. Bytes after the array data are ignored,
/// as numpy ignores them.</para>
/// <para>Writing produces format version 1.0 (2.0 if the header would not fit), little-endian,
/// C order, with the data aligned to 64 bytes, which every numpy version reads.</para>
/// <para>Problems with the file's content raise <see cref="NpyFormatException"/> with a message
/// naming the file (or the stream) and what is wrong; IO failures raise the usual
/// <see cref="IOException"/> family.</para>
/// </remarks>
public static class Npy
{
    // Streams take byte spans, which cannot exceed 2 GB; large arrays go through in chunks.
    private const int ChunkBytes = 1 << 24;

    /// <summary>Reads the array in the .npy file at <paramref name="path"/>.</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The array: shape, element type and elements.</returns>
    /// <exception cref="NpyFormatException">The file is not a .npy file this library can read; the message says why.</exception>
    public static NpyArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using FileStream stream = OpenRead(path);
        return Read(stream, $"'{path}'", totalLength: null);
    }

    /// <summary>
    /// Reads one .npy array from <paramref name="stream"/>, starting at its current position and
    /// leaving it just after the array's data (so arrays saved one after another can be read in turn).
    /// The stream is not closed.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the start of the .npy data.</param>
    /// <returns>The array: shape, element type and elements.</returns>
    /// <exception cref="NpyFormatException">The data is not a .npy array this library can read; the message says why.</exception>
    public static NpyArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, SourceName(stream), totalLength: null);
    }

    /// <summary>
    /// Reads a 2-D array as a row-major <see cref="float"/> matrix, the usual form of an
    /// embedding or feature table. float64 elements are rounded to float32 and integer elements
    /// converted, as <see cref="NpyArray.ToFloatArray"/> does.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="rows">The number of rows (the first dimension).</param>
    /// <param name="columns">The number of columns (the second dimension).</param>
    /// <returns>The <paramref name="rows"/> × <paramref name="columns"/> elements, row by row.</returns>
    /// <exception cref="NpyFormatException">The file is not a readable .npy file, the array is not
    /// 2-D, or a float64 element lies outside the float32 range.</exception>
    public static float[] ReadMatrix(string path, out int rows, out int columns)
    {
        ArgumentNullException.ThrowIfNull(path);
        using FileStream stream = OpenRead(path);
        return ReadMatrix(stream, $"'{path}'", out rows, out columns);
    }

    /// <summary>
    /// Reads a 2-D array from <paramref name="stream"/> as a row-major <see cref="float"/> matrix;
    /// see <see cref="ReadMatrix(string, out int, out int)"/>. The stream is not closed.
    /// </summary>
    /// <param name="stream">A readable stream positioned at the start of the .npy data.</param>
    /// <param name="rows">The number of rows (the first dimension).</param>
    /// <param name="columns">The number of columns (the second dimension).</param>
    /// <returns>The <paramref name="rows"/> × <paramref name="columns"/> elements, row by row.</returns>
    /// <exception cref="NpyFormatException">The data is not a readable .npy array, the array is not
    /// 2-D, or a float64 element lies outside the float32 range.</exception>
    public static float[] ReadMatrix(Stream stream, out int rows, out int columns)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadMatrix(stream, SourceName(stream), out rows, out columns);
    }

    /// <summary>Writes float32 elements as a .npy file (dtype <c>'&lt;f4'</c>), replacing any existing file.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="data">The elements in C (row-major) order.</param>
    /// <param name="shape">The extent of each dimension, whose product must equal
    /// <paramref name="data"/>'s length; omit it to write a 1-D array of <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape has a negative extent or does not match the data's length.</exception>
    public static void Write(string path, ReadOnlySpan<float> data, params int[] shape) =>
        WriteFile(path, data, NpyDataType.Float32, shape);

    /// <summary>Writes float64 elements as a .npy file (dtype <c>'&lt;f8'</c>), replacing any existing file.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="data">The elements in C (row-major) order.</param>
    /// <param name="shape">The extent of each dimension, whose product must equal
    /// <paramref name="data"/>'s length; omit it to write a 1-D array of <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape has a negative extent or does not match the data's length.</exception>
    public static void Write(string path, ReadOnlySpan<double> data, params int[] shape) =>
        WriteFile(path, data, NpyDataType.Float64, shape);

    /// <summary>Writes int32 elements as a .npy file (dtype <c>'&lt;i4'</c>), replacing any existing file.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="data">The elements in C (row-major) order.</param>
    /// <param name="shape">The extent of each dimension, whose product must equal
    /// <paramref name="data"/>'s length; omit it to write a 1-D array of <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape has a negative extent or does not match the data's length.</exception>
    public static void Write(string path, ReadOnlySpan<int> data, params int[] shape) =>
        WriteFile(path, data, NpyDataType.Int32, shape);

    /// <summary>Writes int64 elements as a .npy file (dtype <c>'&lt;i8'</c>), replacing any existing file.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="data">The elements in C (row-major) order.</param>
    /// <param name="shape">The extent of each dimension, whose product must equal
    /// <paramref name="data"/>'s length; omit it to write a 1-D array of <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape has a negative extent or does not match the data's length.</exception>
    public static void Write(string path, ReadOnlySpan<long> data, params int[] shape) =>
        WriteFile(path, data, NpyDataType.Int64, shape);

    /// <summary>Writes float32 elements in .npy format to <paramref name="stream"/> at its current position; the stream is not closed.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="data">The elements in C (row-major) order.</param>
    /// <param name="shape">The extent of each dimension, whose product must equal
    /// <paramref name="data"/>'s length; omit it to write a 1-D array of <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape has a negative extent or does not match the data's length.</exception>
    public static void Write(Stream stream, ReadOnlySpan<float> data, params int[] shape) =>
        WriteCore(stream, data, NpyDataType.Float32, ResolveShape(data.Length, shape));

    /// <summary>Writes float64 elements in .npy format to <paramref name="stream"/> at its current position; the stream is not closed.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="data">The elements in C (row-major) order.</param>
    /// <param name="shape">The extent of each dimension, whose product must equal
    /// <paramref name="data"/>'s length; omit it to write a 1-D array of <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape has a negative extent or does not match the data's length.</exception>
    public static void Write(Stream stream, ReadOnlySpan<double> data, params int[] shape) =>
        WriteCore(stream, data, NpyDataType.Float64, ResolveShape(data.Length, shape));

    /// <summary>Writes int32 elements in .npy format to <paramref name="stream"/> at its current position; the stream is not closed.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="data">The elements in C (row-major) order.</param>
    /// <param name="shape">The extent of each dimension, whose product must equal
    /// <paramref name="data"/>'s length; omit it to write a 1-D array of <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape has a negative extent or does not match the data's length.</exception>
    public static void Write(Stream stream, ReadOnlySpan<int> data, params int[] shape) =>
        WriteCore(stream, data, NpyDataType.Int32, ResolveShape(data.Length, shape));

    /// <summary>Writes int64 elements in .npy format to <paramref name="stream"/> at its current position; the stream is not closed.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="data">The elements in C (row-major) order.</param>
    /// <param name="shape">The extent of each dimension, whose product must equal
    /// <paramref name="data"/>'s length; omit it to write a 1-D array of <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape has a negative extent or does not match the data's length.</exception>
    public static void Write(Stream stream, ReadOnlySpan<long> data, params int[] shape) =>
        WriteCore(stream, data, NpyDataType.Int64, ResolveShape(data.Length, shape));

    /// <summary>Writes an array (for example one read earlier) as a .npy file with its own shape and element type, replacing any existing file.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="array">The array; a 0-dimensional one is written as a numpy scalar array.</param>
    public static void Write(string path, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(array);
        using FileStream stream = File.Create(path);
        Write(stream, array);
    }

    /// <summary>Writes an array in .npy format to <paramref name="stream"/> at its current position; the stream is not closed.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="array">The array; a 0-dimensional one is written as a numpy scalar array.</param>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        switch (array.Data)
        {
            case float[] f:
                WriteCore<float>(stream, f, array.DataType, array.ShapeSpan);
                break;
            case double[] d:
                WriteCore<double>(stream, d, array.DataType, array.ShapeSpan);
                break;
            case int[] i:
                WriteCore<int>(stream, i, array.DataType, array.ShapeSpan);
                break;
            default:
                WriteCore<long>(stream, (long[])array.Data, array.DataType, array.ShapeSpan);
                break;
        }
    }

    /// <summary>Names a stream in messages: its file name when it has one.</summary>
    internal static string SourceName(Stream stream) => stream is FileStream file ? $"'{file.Name}'" : "<stream>";

    /// <summary>
    /// Reads one numeric array. <paramref name="totalLength"/>, when known, is the number of bytes
    /// from the start of the .npy data to the end of what is available; it lets a truncated
    /// file be reported before its (possibly huge) declared size is allocated.
    /// </summary>
    internal static NpyArray Read(Stream stream, string source, long? totalLength)
    {
        NpyHeader header = NpyHeader.Read(stream, source, allowStrings: false);
        NpyDataType type = header.DataType!.Value;
        long? available = totalLength is long total
            ? total - header.DataOffset
            : stream.CanSeek ? stream.Length - stream.Position : null;
        long needed = header.Count * header.ItemSize;
        if (available < needed)
        {
            throw Truncated(header, source, needed, Math.Max(0, available.Value));
        }

        int count = (int)header.Count;
        Array data = type switch
        {
            NpyDataType.Float32 => ReadElements<float>(stream, count, header, source),
            NpyDataType.Float64 => ReadElements<double>(stream, count, header, source),
            NpyDataType.Int32 => ReadElements<int>(stream, count, header, source),
            _ => ReadElements<long>(stream, count, header, source),
        };
        return new NpyArray(type, header.Shape, data);
    }

    /// <summary>
    /// Reads a .npy array holding one byte string (<c>'|S…'</c>) or unicode string
    /// (<c>'&lt;U…'</c>), as the <c>format</c> member of a scipy .npz does, without trailing NULs.
    /// </summary>
    internal static string ReadScalarString(Stream stream, string source)
    {
        NpyHeader header = NpyHeader.Read(stream, source, allowStrings: true);
        if (header.Kind is not ('S' or 'U'))
        {
            throw new NpyFormatException($"{source} holds a {header.Describe()}; a string was expected.");
        }
        if (header.Count != 1)
        {
            throw new NpyFormatException($"{source} holds a {header.Describe()}; a single string was expected.");
        }

        var bytes = new byte[header.ItemSize];
        int got = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (got < bytes.Length)
        {
            throw Truncated(header, source, bytes.Length, got);
        }
        try
        {
            // numpy pads fixed-width strings with NULs and strips them when reading back.
            Encoding encoding = header.Kind == 'S'
                ? Encoding.Latin1
                : new UTF32Encoding(bigEndian: !header.LittleEndian, byteOrderMark: false, throwOnInvalidCharacters: true);
            return encoding.GetString(bytes).TrimEnd('\0');
        }
        catch (DecoderFallbackException e)
        {
            throw new NpyFormatException($"{source} holds a unicode string that is not valid UTF-32.", e);
        }
    }

    /// <summary>Writes a 0-dimensional byte-string array (<c>'|S…'</c>), as numpy saves <c>b'csr'</c>.</summary>
    internal static void WriteScalarBytes(Stream stream, string ascii)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(ascii);
        stream.Write(NpyHeader.Build("|S" + bytes.Length.ToString(CultureInfo.InvariantCulture), []));
        stream.Write(bytes);
    }

    internal static void WriteCore<T>(Stream stream, ReadOnlySpan<T> data, NpyDataType type, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(NpyHeader.Build(type.Descr(), shape));
        int chunk = ChunkBytes / Unsafe.SizeOf<T>();
        if (BitConverter.IsLittleEndian)
        {
            for (int offset = 0; offset < data.Length; offset += chunk)
            {
                stream.Write(MemoryMarshal.AsBytes(data.Slice(offset, Math.Min(chunk, data.Length - offset))));
            }
            return;
        }

        // The file is little-endian whatever the machine; a big-endian machine swaps a copy.
        T[] buffer = ArrayPool<T>.Shared.Rent(Math.Min(chunk, data.Length));
        try
        {
            for (int offset = 0; offset < data.Length; offset += chunk)
            {
                Span<T> part = buffer.AsSpan(0, Math.Min(chunk, data.Length - offset));
                data.Slice(offset, part.Length).CopyTo(part);
                ReverseEndianness(part);
                stream.Write(MemoryMarshal.AsBytes((ReadOnlySpan<T>)part));
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(buffer);
        }
    }

    private static float[] ReadMatrix(Stream stream, string source, out int rows, out int columns)
    {
        NpyArray array = Read(stream, source, totalLength: null);
        if (array.Rank != 2)
        {
            throw new NpyFormatException($"{source} holds a {array.Rank}-D array of shape {NpyArray.FormatShape(array.ShapeSpan)}; a 2-D matrix was expected.");
        }
        float[] values;
        try
        {
            values = array.TakeFloatArray();
        }
        catch (OverflowException e)
        {
            throw new NpyFormatException($"{source}: {e.Message}", e);
        }
        rows = array.Shape[0];
        columns = array.Shape[1];
        return values;
    }

    private static void WriteFile<T>(string path, ReadOnlySpan<T> data, NpyDataType type, int[]? shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(path);
        int[] resolved = ResolveShape(data.Length, shape);
        using FileStream stream = File.Create(path);
        WriteCore(stream, data, type, resolved);
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);

    private static int[] ResolveShape(int length, int[]? shape)
    {
        if (shape is null || shape.Length == 0)
        {
            return [length];
        }
        long product = 1;
        for (int k = 0; k < shape.Length; k++)
        {
            if (shape[k] < 0)
            {
                throw new ArgumentException($"Shape extent {k} is {shape[k]}; extents must be non-negative.", nameof(shape));
            }
            // Once past the length the product cannot come back down except through a zero extent.
            product = Math.Min(product * shape[k], (long)int.MaxValue + 1);
        }
        if (product != length)
        {
            throw new ArgumentException($"Shape {NpyArray.FormatShape(shape)} holds {(product > int.MaxValue ? "more than int.MaxValue" : product.ToString(CultureInfo.InvariantCulture))} elements but the data has {length}.", nameof(shape));
        }
        return (int[])shape.Clone();
    }

    private static T[] ReadElements<T>(Stream stream, int count, NpyHeader header, string source)
        where T : unmanaged
    {
        // Every element is overwritten below (or the read fails), so skip zeroing.
        T[] array = GC.AllocateUninitializedArray<T>(count);
        int chunk = ChunkBytes / Unsafe.SizeOf<T>();
        long read = 0;
        for (int offset = 0; offset < count; offset += chunk)
        {
            Span<byte> bytes = MemoryMarshal.AsBytes(array.AsSpan(offset, Math.Min(chunk, count - offset)));
            int got = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            read += got;
            if (got < bytes.Length)
            {
                throw Truncated(header, source, (long)count * Unsafe.SizeOf<T>(), read);
            }
        }
        if (header.LittleEndian != BitConverter.IsLittleEndian)
        {
            ReverseEndianness<T>(array);
        }
        return array;
    }

    private static void ReverseEndianness<T>(Span<T> values)
        where T : unmanaged
    {
        // In-place reversal is allowed when source and destination start at the same address.
        if (Unsafe.SizeOf<T>() == 4)
        {
            Span<int> words = MemoryMarshal.Cast<T, int>(values);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        else
        {
            Span<long> words = MemoryMarshal.Cast<T, long>(values);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }

    private static NpyFormatException Truncated(NpyHeader header, string source, long needed, long present) =>
        new($"{source} is truncated: its {header.Describe()} needs {needed} bytes of data after the header, but only {present} are there.");
}
