namespace SparOrleans.Grains;

/// <summary>The grain-storage provider every persisted SPaR grain uses (blob storage in a cluster, a directory when embedded).</summary>
public static class SparStorage
{
    public const string Name = "spar";
}
