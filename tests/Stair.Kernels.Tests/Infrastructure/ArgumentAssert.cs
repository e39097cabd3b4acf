// Assertions for argument validation: the exception names the parameter, the message names
// the first offending index, and a rejected call has written nothing.
using System.Text.RegularExpressions;

namespace Stair.Kernels.Tests.Infrastructure;

public static class ArgumentAssert
{
    /// <summary>The value output buffers are filled with before a call that must fail.</summary>
    public const float Sentinel = 12345f;

    /// <summary>Asserts <paramref name="call"/> throws <see cref="ArgumentException"/> or a subclass naming <paramref name="paramName"/>.</summary>
    public static ArgumentException Throws(string paramName, Action call)
    {
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(paramName, ex.ParamName);
        return ex;
    }

    /// <summary>
    /// Asserts the message names <paramref name="index"/> as an index or position ("index 3",
    /// "position 3", "[3]"), and names none of <paramref name="notIndices"/> that way (later offenders).
    /// </summary>
    public static void NamesIndex(ArgumentException ex, int index, params int[] notIndices)
    {
        Assert.True(MentionsIndex(ex.Message, index), $"The message should name index {index}: \"{ex.Message}\"");
        foreach (int other in notIndices)
        {
            Assert.False(MentionsIndex(ex.Message, other), $"The message should name the first offending index {index}, not {other}: \"{ex.Message}\"");
        }
    }

    private static bool MentionsIndex(string message, int index)
        => Regex.IsMatch(message, $@"(\b(index|position)\s+{index}\b)|(\[{index}\])", RegexOptions.IgnoreCase);

    /// <summary>A buffer of <paramref name="length"/> floats, every one <see cref="Sentinel"/>.</summary>
    public static float[] Poisoned(int length)
    {
        var buffer = new float[length];
        buffer.AsSpan().Fill(Sentinel);
        return buffer;
    }

    /// <summary>Asserts every element of <paramref name="buffer"/> is bitwise equal to <paramref name="expected"/>.</summary>
    public static void Untouched(float[] expected, float[] buffer, string what)
    {
        Assert.Equal(expected.Length, buffer.Length);
        for (int k = 0; k < buffer.Length; k++)
        {
            if (BitConverter.SingleToInt32Bits(buffer[k]) != BitConverter.SingleToInt32Bits(expected[k]))
            {
                Assert.Fail($"{what}: element {k} was written ({expected[k]} became {buffer[k]}) by a call that was rejected.");
            }
        }
    }
}
