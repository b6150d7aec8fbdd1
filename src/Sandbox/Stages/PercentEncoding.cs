using System;
using System.Text;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Percent-encoding of UTF-8 for the stage configuration. Hand-written rather than <c>Uri.EscapeDataString</c> so that
/// stage 1, which runs before the real worker, loads no assembly beyond CoreLib for it (every assembly load and
/// method JIT there is start-up time paid twice).
/// </summary>
internal static class PercentEncoding
{
    private const string Hex = "0123456789ABCDEF";

    /// <summary>Escapes every byte but ASCII letters, digits, <c>-._~/</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The escaped text.</returns>
    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~' or (byte)'/')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
            }
        }

        return builder.ToString();
    }

    /// <summary>Reverses <see cref="Escape"/>.</summary>
    /// <param name="text">The escaped text.</param>
    /// <returns>The text.</returns>
    /// <exception cref="FormatException">A <c>%</c> is not followed by two hex digits.</exception>
    public static string Unescape(string text)
    {
        if (!text.Contains('%', StringComparison.Ordinal))
        {
            return text;
        }

        var bytes = new byte[Encoding.UTF8.GetByteCount(text)];
        int length = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                length += Encoding.UTF8.GetBytes(text.AsSpan(i, 1), bytes.AsSpan(length));
                continue;
            }

            if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
            {
                throw new FormatException($"'%' at {i} is not followed by two hex digits.");
            }

            bytes[length++] = (byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2]));
            i += 2;
        }

        return Encoding.UTF8.GetString(bytes, 0, length);
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
