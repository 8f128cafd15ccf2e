namespace SparOrleans.Core;

/// <summary>
/// A hash that is the same in every process (unlike <see cref="string.GetHashCode()"/>), for seeding per-item random
/// choices so that a restored search or a re-run makes the same choices.
/// </summary>
public static class StableHash
{
    public static int Combine(int seed, string text)
    {
        unchecked
        {
            var hash = 2166136261u ^ (uint)seed;
            foreach (var c in text)
            {
                hash = (hash ^ c) * 16777619u;
            }
            hash ^= (uint)seed * 2654435761u;
            return (int)(hash & 0x7fffffff);
        }
    }

    public static int Combine(int seed, params long[] parts)
    {
        unchecked
        {
            // Multiplied before the first part goes in: otherwise (seed, part) only counts through seed ^ part, and
            // seed s at root r draws exactly what seed s ^ r draws at root 0.
            var hash = (2166136261u ^ (uint)seed) * 16777619u;
            foreach (var part in parts)
            {
                hash = (hash ^ (uint)part) * 16777619u;
                hash = (hash ^ (uint)(part >> 32)) * 16777619u;
            }
            hash ^= hash >> 15;
            hash *= 2246822519u;
            hash ^= hash >> 13;
            return (int)(hash & 0x7fffffff);
        }
    }
}
