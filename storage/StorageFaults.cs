using System.Net.Sockets;
using Azure;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Storage;

/// <summary>Which storage failures are worth retrying: timeouts, lost connections, throttling and server errors. Never a conflict.</summary>
public static class StorageFaults
{
    public static bool IsTransient(Exception e) => e switch
    {
        BlobConflictException => false,
        // Status 0: no response at all (Azurite or the network is down). It is also what a RequestFailedException
        // reads after it crossed a grain call: Orleans' exception codec keeps its type and message, not its status.
        RequestFailedException r => r.Status is 0 or 408 or 429 or >= 500,
        TimeoutException or HttpRequestException or SocketException => true,
        // A path that is not there stays not there: retrying would only delay the error.
        DirectoryNotFoundException or FileNotFoundException or PathTooLongException or DriveNotFoundException => false,
        IOException => true,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsTransient),
        _ => e.InnerException is not null && IsTransient(e.InnerException),
    };

    /// <summary>
    /// The root cause of a storage failure on one line: Azure's messages run over several lines (request id,
    /// headers), and its retry policy wraps every attempt's failure in one AggregateException.
    /// </summary>
    public static string Reason(Exception e)
    {
        // The first Azure failure says it best ("Connection refused (host:port)", "Server failed to authenticate
        // the request"); without one, the innermost exception.
        var root = e;
        while (root is not RequestFailedException)
        {
            var next = root is AggregateException { InnerExceptions.Count: > 0 } all ? all.InnerExceptions[0] : root.InnerException;
            if (next is null)
            {
                break;
            }
            root = next;
        }
        return root.Message.Split('\n', 2)[0].Trim();
    }
}
