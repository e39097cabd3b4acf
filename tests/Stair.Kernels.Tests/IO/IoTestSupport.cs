// Helpers shared by the .npy and .npz tests: fixture paths, a scratch directory, hand-built
// .npy bytes with arbitrary headers, and a stream that cannot seek (as zip members and
// network streams are), so the reader's non-seekable path is exercised too.
using System.Buffers.Binary;
using System.Text;
using Stair.Kernels.IO;

namespace Stair.Kernels.Tests.IO;

internal static class IoTestSupport
{
    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) to <paramref name="name"/> in <paramref name="temp"/> and reads it as an interaction table.</summary>
    public static InteractionTable ReadInteractions(TempDirectory temp, string text, string name)
    {
        string path = temp.File(name);
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return InteractionTable.Read(path);
    }

    /// <summary>A fixture written by make_fixtures.py (numpy / scipy).</summary>
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>
    /// A .npy file with the given header text, padded as numpy pads it unless
    /// <paramref name="pad"/> is false, followed by <paramref name="data"/>.
    /// </summary>
    public static byte[] RawNpy(string header, byte[] data, int major = 1, bool pad = true)
    {
        int preamble = major == 1 ? 10 : 12;
        if (pad)
        {
            int total = preamble + header.Length + 1;
            header += new string(' ', (64 - total % 64) % 64) + "\n";
        }
        byte[] headerBytes = major == 3 ? Encoding.UTF8.GetBytes(header) : Encoding.Latin1.GetBytes(header);
        var bytes = new byte[preamble + headerBytes.Length + data.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerBytes.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerBytes.Length);
        }
        headerBytes.CopyTo(bytes, preamble);
        data.CopyTo(bytes, preamble + headerBytes.Length);
        return bytes;
    }

    /// <summary>Little-endian bytes of float32 values.</summary>
    public static byte[] Bytes(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int k = 0; k < values.Length; k++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * k), values[k]);
        }
        return bytes;
    }
}

/// <summary>A scratch directory deleted when the test class is disposed.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "stair-io-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test run.
        }
    }
}

/// <summary>Wraps a stream and hides its ability to seek and its length.</summary>
internal sealed class NonSeekableStream(Stream inner) : Stream
{
    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush() => inner.Flush();

    // Return at most 7 bytes per call so callers that assume one Read fills the buffer fail.
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
}
