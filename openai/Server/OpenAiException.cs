using SparOrleans.OpenAi.Protocol;

namespace SparOrleans.OpenAi.Server;

/// <summary>A request the server refuses, with the HTTP status and OpenAI's error fields to answer it with.</summary>
public sealed class OpenAiException(int status, string message, string type = OpenAiException.InvalidRequest, string? param = null, string? code = null)
    : Exception(message)
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string NotFound = "not_found_error";
    public const string ServerError = "server_error";

    public int Status { get; } = status;

    public WireErrorBody Body => new(new WireError(Message, type, param, code));

    public static OpenAiException BadRequest(string message, string? param = null) => new(400, message, InvalidRequest, param);

    public static OpenAiException UnknownModel(string model) =>
        new(404, $"The model '{model}' does not exist.", NotFound, "model", "model_not_found");
}
