using SparOrleans.Core.Errors;

namespace SparOrleans.Core.Tests.Errors;

/// <summary>Every credential form a connection string the user gives can carry is masked; the rest is kept.</summary>
public sealed class SecretsTests
{
    [Theory]
    [InlineData("127.0.0.1:6379,password=hunter2", "127.0.0.1:6379,password=***")]
    [InlineData("127.0.0.1:6379,password=hunter2,ssl=true", "127.0.0.1:6379,password=***,ssl=true")]
    [InlineData("redis://default:hunter2@10.0.0.5:6379", "redis://default:***@10.0.0.5:6379")]
    [InlineData("rediss://:hunter2@host:6380", "rediss://:***@host:6380")]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=hunter2==;EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=***;EndpointSuffix=core.windows.net")]
    [InlineData("BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2022&sig=hunter2",
        "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=***")]
    [InlineData("https://a.blob.core.windows.net/c?sv=2022&sig=hunter2&se=1", "https://a.blob.core.windows.net/c?sv=2022&sig=***&se=1")]
    [InlineData("error: Cannot reach the cluster (Redis at h:1,Password = hunter2): refused", "error: Cannot reach the cluster (Redis at h:1,Password = ***): refused")]
    public void Redact_MasksTheSecretKeepsTheRest(string text, string expected)
    {
        var redacted = Secrets.Redact(text);

        Assert.Equal(expected, redacted);
        Assert.DoesNotContain("hunter2", redacted);
    }

    [Theory]
    [InlineData("127.0.0.1:6379")]
    [InlineData("http://127.0.0.1:8000/v1")]
    [InlineData("--out /tmp/x cannot be written (Permission denied)")]
    public void Redact_TextWithoutSecrets_Unchanged(string text) => Assert.Equal(text, Secrets.Redact(text));
}
