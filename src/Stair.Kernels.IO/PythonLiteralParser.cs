// A parser for the small subset of Python literal syntax that .npy headers use: a dict of
// string keys whose values are strings, True/False/None, integers, tuples and lists (the
// last for structured dtypes, which are then rejected with a clear message). numpy writes
// these with Python's repr, so quoting, spacing, key order and trailing commas vary.
using System.Globalization;
using System.Text;

namespace Stair.Kernels.IO;

/// <summary>A Python tuple; kept distinct from a list because a .npy shape must be a tuple.</summary>
internal sealed record PythonTuple(List<object?> Items);

/// <summary>
/// Parses one Python literal. Values come back as <see cref="string"/>, <see cref="bool"/>,
/// null (None), <see cref="long"/>, <see cref="PythonTuple"/>, <see cref="List{T}"/> of object
/// (a list) or <see cref="Dictionary{TKey, TValue}"/> of string to object (a dict).
/// </summary>
internal sealed class PythonLiteralParser(string text)
{
    // Headers are tiny; anything nested deeper than this is not a numpy header.
    private const int MaxDepth = 32;

    private int _pos;

    /// <summary>Parses the whole text as one literal surrounded by optional whitespace.</summary>
    /// <exception cref="FormatException">The text is not such a literal; the message says where.</exception>
    public object? ParseDocument()
    {
        object? value = ParseValue(0);
        SkipWhitespace();
        if (_pos != text.Length)
        {
            throw Error("unexpected text after the literal");
        }
        return value;
    }

    private object? ParseValue(int depth)
    {
        if (depth > MaxDepth)
        {
            throw Error("literal nested too deeply");
        }
        SkipWhitespace();
        if (_pos >= text.Length)
        {
            throw Error("unexpected end of header");
        }
        char c = text[_pos];
        switch (c)
        {
            case '{':
                return ParseDict(depth);
            case '(':
                {
                    List<object?> items = ParseSequence(')', depth, out bool sawComma);
                    // As in Python, "(5)" is just 5; only "()" and anything with a comma are tuples.
                    return items.Count == 1 && !sawComma ? items[0] : new PythonTuple(items);
                }
            case '[':
                return ParseSequence(']', depth, out _);
            case '\'' or '"':
                return ParseString();
            case 'u' or 'b' when _pos + 1 < text.Length && text[_pos + 1] is '\'' or '"':
                // Python 2 era headers may carry u'...' strings.
                _pos++;
                return ParseString();
            case '-' or '+' or (>= '0' and <= '9'):
                return ParseInteger();
            default:
                if (TryKeyword("True"))
                {
                    return true;
                }
                if (TryKeyword("False"))
                {
                    return false;
                }
                if (TryKeyword("None"))
                {
                    return null;
                }
                throw Error($"unexpected character '{c}'");
        }
    }

    private Dictionary<string, object?> ParseDict(int depth)
    {
        _pos++; // '{'
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            SkipWhitespace();
            if (Peek() == '}')
            {
                _pos++;
                return dict;
            }
            if (ParseValue(depth + 1) is not string key)
            {
                throw Error("a dict key that is not a string");
            }
            SkipWhitespace();
            Expect(':');
            object? value = ParseValue(depth + 1);
            if (!dict.TryAdd(key, value))
            {
                throw Error($"duplicate key '{key}'");
            }
            SkipWhitespace();
            if (Peek() == ',')
            {
                _pos++;
            }
            else if (Peek() != '}')
            {
                throw Error("expected ',' or '}' in dict");
            }
        }
    }

    // Reads items up to the closing bracket; sawComma tells "(5,)" (a tuple) from "(5)" (just 5).
    private List<object?> ParseSequence(char close, int depth, out bool sawComma)
    {
        _pos++; // opening bracket
        var items = new List<object?>();
        sawComma = false;
        while (true)
        {
            SkipWhitespace();
            if (Peek() == close)
            {
                _pos++;
                return items;
            }
            items.Add(ParseValue(depth + 1));
            SkipWhitespace();
            if (Peek() == ',')
            {
                sawComma = true;
                _pos++;
            }
            else if (Peek() != close)
            {
                throw Error($"expected ',' or '{close}'");
            }
        }
    }

    private string ParseString()
    {
        char quote = text[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= text.Length)
            {
                throw Error("unterminated string");
            }
            char c = text[_pos++];
            if (c == quote)
            {
                return sb.ToString();
            }
            if (c == '\n')
            {
                throw Error("unterminated string");
            }
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (_pos >= text.Length)
            {
                throw Error("unterminated string");
            }
            char e = text[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case 'x': sb.Append(ParseHexEscape(2)); break;
                case 'u': sb.Append(ParseHexEscape(4)); break;
                case '\\' or '\'' or '"': sb.Append(e); break;
                default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes verbatim
            }
        }
    }

    private char ParseHexEscape(int digits)
    {
        if (_pos + digits > text.Length
            || !int.TryParse(text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
        {
            throw Error("bad escape in string");
        }
        _pos += digits;
        return (char)code;
    }

    private long ParseInteger()
    {
        int start = _pos;
        if (text[_pos] is '-' or '+')
        {
            _pos++;
        }
        int digitsStart = _pos;
        while (_pos < text.Length && char.IsAsciiDigit(text[_pos]))
        {
            _pos++;
        }
        if (_pos == digitsStart)
        {
            throw Error("a sign without digits");
        }
        if (!long.TryParse(text.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            throw Error("an integer too large for 64 bits");
        }
        // Python 2 wrote long integers with an L suffix, e.g. (3L, 4L).
        if (_pos < text.Length && text[_pos] is 'L' or 'l')
        {
            _pos++;
        }
        return value;
    }

    private bool TryKeyword(string keyword)
    {
        if (string.CompareOrdinal(text, _pos, keyword, 0, keyword.Length) != 0)
        {
            return false;
        }
        int end = _pos + keyword.Length;
        if (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
        {
            return false;
        }
        _pos = end;
        return true;
    }

    private void SkipWhitespace()
    {
        while (_pos < text.Length && text[_pos] is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')
        {
            _pos++;
        }
    }

    private char Peek() => _pos < text.Length ? text[_pos] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw Error($"expected '{c}'");
        }
        _pos++;
    }

    private FormatException Error(string what) => new($"{what} at character {_pos}");
}
