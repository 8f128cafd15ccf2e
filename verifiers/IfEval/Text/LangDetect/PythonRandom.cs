namespace SparOrleans.Verifiers.IfEval.Text.LangDetect;

/// <summary>
/// CPython 3.11's <c>random.Random</c> (MT19937), limited to what langdetect calls: <c>seed(int)</c>, <c>random()</c>,
/// <c>gauss()</c> and <c>choice()</c>. langdetect's answer depends on every draw, so the sequence must be CPython's
/// bit for bit; <see cref="System.Random"/> is a different generator. Not thread-safe: one instance per detection.
/// </summary>
internal sealed class PythonRandom
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;
    private double? _gaussNext;

    /// <summary><c>random.Random(seed)</c> for a non-negative seed below 2^32 (CPython keys MT with |seed|'s 32-bit words).</summary>
    public PythonRandom(uint seed)
    {
        InitByArray([seed]);
        _gaussNext = null;
    }

    private void InitGenrand(uint s)
    {
        _mt[0] = s;
        for (int i = 1; i < N; i++)
        {
            _mt[i] = unchecked(1812433253U * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i);
        }
        _index = N;
    }

    private void InitByArray(uint[] key)
    {
        InitGenrand(19650218U);
        int i = 1, j = 0;
        for (int k = Math.Max(N, key.Length); k > 0; k--)
        {
            _mt[i] = unchecked((_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint)j);
            i++;
            j++;
            if (i >= N)
            {
                _mt[0] = _mt[N - 1];
                i = 1;
            }
            if (j >= key.Length)
            {
                j = 0;
            }
        }
        for (int k = N - 1; k > 0; k--)
        {
            _mt[i] = unchecked((_mt[i] ^ ((_mt[i - 1] ^ (_mt[i - 1] >> 30)) * 1566083941U)) - (uint)i);
            i++;
            if (i >= N)
            {
                _mt[0] = _mt[N - 1];
                i = 1;
            }
        }
        _mt[0] = 0x80000000U;
    }

    private uint NextUInt32()
    {
        if (_index >= N)
        {
            int kk;
            uint y;
            for (kk = 0; kk < N - M; kk++)
            {
                y = (_mt[kk] & 0x80000000U) | (_mt[kk + 1] & 0x7fffffffU);
                _mt[kk] = _mt[kk + M] ^ (y >> 1) ^ ((y & 1U) * 0x9908b0dfU);
            }
            for (; kk < N - 1; kk++)
            {
                y = (_mt[kk] & 0x80000000U) | (_mt[kk + 1] & 0x7fffffffU);
                _mt[kk] = _mt[kk + (M - N)] ^ (y >> 1) ^ ((y & 1U) * 0x9908b0dfU);
            }
            y = (_mt[N - 1] & 0x80000000U) | (_mt[0] & 0x7fffffffU);
            _mt[N - 1] = _mt[M - 1] ^ (y >> 1) ^ ((y & 1U) * 0x9908b0dfU);
            _index = 0;
        }
        uint r = _mt[_index++];
        r ^= r >> 11;
        r ^= (r << 7) & 0x9d2c5680U;
        r ^= (r << 15) & 0xefc60000U;
        r ^= r >> 18;
        return r;
    }

    /// <summary><c>random()</c>: 53 random bits in [0, 1).</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary><c>gauss(mu, sigma)</c>: Box–Muller, keeping the second value for the next call as CPython does.</summary>
    public double Gauss(double mu, double sigma)
    {
        var z = _gaussNext;
        _gaussNext = null;
        if (z is null)
        {
            double x2pi = NextDouble() * (2 * Math.PI);
            double g2rad = Math.Sqrt(-2.0 * Math.Log(1.0 - NextDouble()));
            z = Math.Cos(x2pi) * g2rad;
            _gaussNext = Math.Sin(x2pi) * g2rad;
        }
        return mu + z.Value * sigma;
    }

    /// <summary><c>_randbelow(n)</c> (the getrandbits variant), which <c>choice(seq)</c> indexes with.</summary>
    public int Below(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        int k = 32 - int.LeadingZeroCount(n);
        uint r = NextUInt32() >> (32 - k);
        while (r >= (uint)n)
        {
            r = NextUInt32() >> (32 - k);
        }
        return (int)r;
    }
}
