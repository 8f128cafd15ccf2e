using System.Xml.Linq;
using SparOrleans.Grains.Runs;
using SparOrleans.Tests.Shared;

namespace SparOrleans.Integration.Tests;

/// <summary>
/// The grains orchestrate any model on any prompt set: they reach the simulated world (prompts, verifiers, the
/// simulator's model steps) only through the interfaces the silo fills in, never by reference.
/// </summary>
public sealed class GrainsDependencyTests
{
    private static readonly string[] Forbidden = ["SparOrleans.World", "SparOrleans.Simulator"];

    [Fact]
    public void GrainsAssembly_References_NeitherWorldNorSimulator()
    {
        var referenced = typeof(RunGrain).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Contains("SparOrleans.Interfaces", referenced);
        Assert.DoesNotContain(referenced, name => Forbidden.Contains(name));
    }

    [Fact]
    public void GrainsProject_ProjectReferences_NeitherWorldNorSimulator()
    {
        var project = XDocument.Load(Path.Combine(RepoPaths.Root, "grains", "SparOrleans.Grains.csproj"));
        var references = project.Descendants("ProjectReference").Select(r => (string)r.Attribute("Include")!).ToList();

        Assert.NotEmpty(references);
        Assert.DoesNotContain(references, path => path.Contains("world", StringComparison.OrdinalIgnoreCase) || path.Contains("simulator", StringComparison.OrdinalIgnoreCase));
    }
}
