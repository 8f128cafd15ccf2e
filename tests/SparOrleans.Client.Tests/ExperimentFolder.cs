namespace SparOrleans.Client.Tests;

/// <summary>A temporary folder per test for an experiment's output folders and its results.md, deleted afterwards.</summary>
public abstract class ExperimentFolder(string name) : IDisposable
{
    protected string Dir { get; } = Directory.CreateTempSubdirectory($"spar-exp-{name}-").FullName;

    protected string ResultsMd => Path.Combine(Dir, "results.md");

    protected string Output(string experiment) => Path.Combine(Dir, "results", experiment);

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
