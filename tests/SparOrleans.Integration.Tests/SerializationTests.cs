using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Interfaces;

namespace SparOrleans.Integration.Tests;

/// <summary>What crosses a grain call through <see cref="SparSerialization"/>, as the silos configure it.</summary>
public sealed class SerializationTests
{
    private static Serializer NewSerializer() =>
        new ServiceCollection().AddSparSerialization().BuildServiceProvider().GetRequiredService<Serializer>();

    public static TheoryData<Exception> CoreExceptions => new()
    {
        new InvalidOptionsException("ModelRunSettings", ["Votes must be between 1 and 64 (got 0)"]),
        new UserInputException("--prompts x.jsonl:2: not a JSON object"),
    };

    [Theory]
    [MemberData(nameof(CoreExceptions))]
    public void CoreException_ThrownAfterAStackUnwound_CrossesWithItsTypeAndMessage(Exception thrown)
    {
        // A thrown exception has a TargetSite, which the JSON codec cannot write: the case a grain call meets.
        Exception caught;
        try
        {
            throw thrown;
        }
        catch (Exception e)
        {
            caught = e;
        }
        var serializer = NewSerializer();

        var copy = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(caught));

        Assert.NotNull(copy);
        Assert.IsType(thrown.GetType(), copy);
        Assert.Equal(thrown.Message, copy.Message);
    }

    [Fact]
    public void CoreRecord_StillCrossesAsJson()
    {
        var serializer = NewSerializer();
        var pair = new DpoPair("prompt", "chosen", "rejected");

        var copy = serializer.Deserialize<DpoPair>(serializer.SerializeToArray(pair));

        Assert.Equal(pair, copy);
    }
}
