namespace SparOrleans.Verifiers.IfEval.Text;

/// <summary>
/// Accepts exactly what Python's <c>json.loads</c> accepts (strict mode): one value with <c>' \t\n\r'</c> around it,
/// NaN/Infinity/-Infinity literals, duplicate keys, no trailing commas, no control characters inside strings.
/// </summary>
public static class PyJson
{
    // Python would raise RecursionError (not a ValueError) far below this; such input is simply not JSON here.
    private const int MaxDepth = 10_000;

    /// <summary>True when <c>json.loads(text)</c> would succeed.</summary>
    public static bool IsValid(string text)
    {
        int i = SkipWs(text, 0);
        if (!Value(text, ref i, 0))
        {
            return false;
        }
        return SkipWs(text, i) == text.Length;
    }

    private static int SkipWs(string s, int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or '\n' or '\r')
        {
            i++;
        }
        return i;
    }

    private static bool Literal(string s, ref int i, string word)
    {
        if (string.CompareOrdinal(s, i, word, 0, word.Length) == 0 && i + word.Length <= s.Length)
        {
            i += word.Length;
            return true;
        }
        return false;
    }

    private static bool Value(string s, ref int i, int depth)
    {
        if (i >= s.Length || depth > MaxDepth)
        {
            return false;
        }
        switch (s[i])
        {
            case '"':
                return String(s, ref i);
            case '{':
                return Object(s, ref i, depth + 1);
            case '[':
                return Array(s, ref i, depth + 1);
            case 'n':
                return Literal(s, ref i, "null");
            case 't':
                return Literal(s, ref i, "true");
            case 'f':
                return Literal(s, ref i, "false");
            case 'N':
                return Literal(s, ref i, "NaN");
            case 'I':
                return Literal(s, ref i, "Infinity");
            case '-' when i + 1 < s.Length && s[i + 1] == 'I':
                return Literal(s, ref i, "-Infinity");
            default:
                return Number(s, ref i);
        }
    }

    private static bool Number(string s, ref int i)
    {
        int j = i;
        if (j < s.Length && s[j] == '-')
        {
            j++;
        }
        if (j < s.Length && s[j] is >= '1' and <= '9')
        {
            while (j < s.Length && char.IsAsciiDigit(s[j]))
            {
                j++;
            }
        }
        else if (j < s.Length && s[j] == '0')
        {
            j++;
        }
        else
        {
            return false;
        }
        if (j + 1 < s.Length && s[j] == '.' && char.IsAsciiDigit(s[j + 1]))
        {
            j += 2;
            while (j < s.Length && char.IsAsciiDigit(s[j]))
            {
                j++;
            }
        }
        if (j < s.Length && s[j] is 'e' or 'E')
        {
            int k = j + 1;
            if (k < s.Length && s[k] is '+' or '-')
            {
                k++;
            }
            if (k < s.Length && char.IsAsciiDigit(s[k]))
            {
                while (k < s.Length && char.IsAsciiDigit(s[k]))
                {
                    k++;
                }
                j = k;
            }
        }
        i = j;
        return true;
    }

    private static bool String(string s, ref int i)
    {
        int j = i + 1;
        while (j < s.Length)
        {
            char c = s[j];
            if (c == '"')
            {
                i = j + 1;
                return true;
            }
            if (c < 0x20)
            {
                return false;
            }
            if (c == '\\')
            {
                if (j + 1 >= s.Length)
                {
                    return false;
                }
                char e = s[j + 1];
                if (e == 'u')
                {
                    if (j + 6 > s.Length)
                    {
                        return false;
                    }
                    for (int k = j + 2; k < j + 6; k++)
                    {
                        if (!char.IsAsciiHexDigit(s[k]))
                        {
                            return false;
                        }
                    }
                    j += 6;
                    continue;
                }
                if (e is not ('"' or '\\' or '/' or 'b' or 'f' or 'n' or 'r' or 't'))
                {
                    return false;
                }
                j += 2;
                continue;
            }
            j++;
        }
        return false;
    }

    private static bool Object(string s, ref int i, int depth)
    {
        int j = SkipWs(s, i + 1);
        if (j < s.Length && s[j] == '}')
        {
            i = j + 1;
            return true;
        }
        while (true)
        {
            if (j >= s.Length || s[j] != '"' || !String(s, ref j))
            {
                return false;
            }
            j = SkipWs(s, j);
            if (j >= s.Length || s[j] != ':')
            {
                return false;
            }
            j = SkipWs(s, j + 1);
            if (!Value(s, ref j, depth))
            {
                return false;
            }
            j = SkipWs(s, j);
            if (j < s.Length && s[j] == '}')
            {
                i = j + 1;
                return true;
            }
            if (j >= s.Length || s[j] != ',')
            {
                return false;
            }
            j = SkipWs(s, j + 1);
        }
    }

    private static bool Array(string s, ref int i, int depth)
    {
        int j = SkipWs(s, i + 1);
        if (j < s.Length && s[j] == ']')
        {
            i = j + 1;
            return true;
        }
        while (true)
        {
            if (!Value(s, ref j, depth))
            {
                return false;
            }
            j = SkipWs(s, j);
            if (j < s.Length && s[j] == ']')
            {
                i = j + 1;
                return true;
            }
            if (j >= s.Length || s[j] != ',')
            {
                return false;
            }
            j = SkipWs(s, j + 1);
        }
    }
}
