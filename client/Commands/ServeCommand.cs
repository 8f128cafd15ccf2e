using System.CommandLine;
using System.Net;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Core.Security;
using SparOrleans.Engine.Model;
using SparOrleans.OpenAi.Server;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar serve</c>: model directories behind an OpenAI-compatible HTTP API (<see cref="OpenAiServer"/>), until
/// Ctrl-C, so that any OpenAI client (or another machine's loop) can use them.
/// </summary>
public static class ServeCommand
{
    /// <summary>The line on stderr that carries the address; tests and scripts read the URL from it.</summary>
    public const string ListeningPrefix = "listening on ";

    /// <summary>The key every request must carry as a bearer token; from the environment, where other users cannot read it.</summary>
    public const string ApiKeyVariable = "SPAR_SERVE_API_KEY";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var models = new Option<string[]>("--model") { Description = "NAME=DIR: serve the model directory DIR (HF layout) as NAME; repeat for more", Arity = ArgumentArity.ZeroOrMore };
        var adapters = new Option<string[]>("--adapter") { Description = "NAME=BASE:DIR: serve the PEFT LoRA adapter in DIR on top of model BASE as NAME; repeat for more", Arity = ArgumentArity.ZeroOrMore };
        var port = new Option<int>("--port") { Description = "TCP port (default 8000; 0 picks a free one and prints it)", DefaultValueFactory = _ => 8000 };
        var address = new Option<string>("--address") { Description = $"Address to listen on (default 127.0.0.1; any other needs {RemoteAccess.Flag}; {ApiKeyVariable} sets the key)", DefaultValueFactory = _ => "127.0.0.1" };
        var allowRemote = RemoteAccess.Option("the server");
        var dtype = new Option<string>("--dtype") { Description = "Weights and compute: float32 (default), bfloat16 or float16", DefaultValueFactory = _ => "float32" };
        var device = new Option<string>("--device") { Description = "cpu (default) or cuda", DefaultValueFactory = _ => "cpu" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Rows decoded together across all models (default 64)", DefaultValueFactory = _ => 64 };
        var command = new Command("serve", """
            Serves model directories over an OpenAI-compatible HTTP API until Ctrl-C: GET /v1/models,
            POST /v1/chat/completions, and vLLM's POST /v1/load_lora_adapter and /v1/unload_lora_adapter.
            Prints the URL it listens on (stderr). Requests for every model share one continuous batch.
            Examples:
              spar serve --model actor=runs/run-1/models/actor-3 --port 8000
              spar serve --model base=DIR --adapter tuned=base:DIR/adapter --port 0
              SPAR_SERVE_API_KEY=KEY spar serve --model base=DIR --address 0.0.0.0 --allow-remote
            With SPAR_SERVE_API_KEY set, every request needs 'Authorization: Bearer KEY'.
            """)
        {
            models, adapters, port, address, allowRemote, dtype, device, maxBatch,
        };
        command.SetAction(async (parse, ct) =>
        {
            var modelDirs = ParseModels(parse.GetValue(models) ?? []);
            var adapterSpecs = ParseAdapters(parse.GetValue(adapters) ?? [], modelDirs);
            var ip = RemoteAccess.Address("--address", parse.GetValue(address));
            var key = ApiKeys.FromEnvironment(ApiKeyVariable);
            RemoteAccess.Require(ip, parse.GetValue(allowRemote), "--address",
                key is null ? $"the models would answer anyone: {ApiKeyVariable} is not set" : "the API key would cross the network in plain HTTP");
            var deviceName = parse.GetValue(device)!;
            if (!ProblemList.IsDevice(deviceName))
            {
                throw new UserInputException($"--device must be cpu, cuda or cuda:N (got '{deviceName}').");
            }
            var type = ModelCheckpoint.ParseDtype(parse.GetValue(dtype)!);
            var options = new OpenAiServerOptions { Address = ip, AllowRemote = parse.GetValue(allowRemote), Port = parse.GetValue(port), ApiKey = key, MaxBatchSize = parse.GetValue(maxBatch) };
            var problems = options.Problems().ToList();
            if (problems.Count > 0)
            {
                throw new UserInputException(string.Join("; ", problems) + ".");
            }

            var loaded = new Dictionary<string, LanguageModel>(StringComparer.Ordinal);
            try
            {
                foreach (var (name, dir) in modelDirs)
                {
                    loaded[name] = ModelCheckpoint.Load(dir, deviceName, version: name, dtype: type);
                }
                await using var server = await OpenAiServer.StartAsync(loaded, options, stderr, ct);
                foreach (var (name, baseName, dir) in adapterSpecs)
                {
                    try
                    {
                        await server.LoadAdapterAsync(name, dir, baseName, ct);
                    }
                    catch (OpenAiException e)
                    {
                        throw new UserInputException($"--adapter {name}={baseName}:{dir}: {e.Message}", e);
                    }
                }
                if (!IPAddress.IsLoopback(ip))
                {
                    await stderr.WriteLineAsync(key is null
                        ? $"warning: the serving endpoint on {ip} is unauthenticated: anyone who can reach port {server.Address.Port} can use the models; set {ApiKeyVariable} to require a key."
                        : $"warning: plain HTTP on {ip}: the API key and every prompt cross the network unencrypted; put a TLS proxy in front beyond a trusted network.");
                }
                await stderr.WriteLineAsync($"serving {string.Join(", ", server.ModelNames)}; {ListeningPrefix}{server.Address}v1 (OpenAI-compatible). Ctrl-C stops it.");
                await stderr.FlushAsync(ct);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    await stderr.WriteLineAsync("stopping.");
                }
                return ExitCodes.Success;
            }
            finally
            {
                foreach (var model in loaded.Values)
                {
                    model.Dispose();
                }
            }
        });
        return command;
    }

    /// <summary>NAME=DIR pairs, checked before any model is loaded so that a typo costs no loading time.</summary>
    public static Dictionary<string, string> ParseModels(IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            throw new UserInputException("give at least one --model NAME=DIR.");
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var (name, dir) = Split(value, '=', "--model", "NAME=DIR");
            if (!result.TryAdd(name, DirectoryOf(dir, $"--model {value}")))
            {
                throw new UserInputException($"--model {value}: the name '{name}' is given twice.");
            }
        }
        return result;
    }

    public static List<(string Name, string Base, string Dir)> ParseAdapters(IReadOnlyList<string> values, IReadOnlyDictionary<string, string> models)
    {
        var result = new List<(string, string, string)>();
        foreach (var value in values)
        {
            var (name, rest) = Split(value, '=', "--adapter", "NAME=BASE:DIR");
            var (baseName, dir) = Split(rest, ':', "--adapter", "NAME=BASE:DIR");
            if (!models.ContainsKey(baseName))
            {
                throw new UserInputException($"--adapter {value}: no --model named '{baseName}' (models: {string.Join(", ", models.Keys)}).");
            }
            if (models.ContainsKey(name) || result.Any(a => a.Item1 == name))
            {
                throw new UserInputException($"--adapter {value}: the name '{name}' is already taken.");
            }
            result.Add((name, baseName, DirectoryOf(dir, $"--adapter {value}")));
        }
        return result;
    }

    private static (string, string) Split(string value, char separator, string option, string shape)
    {
        var at = value.IndexOf(separator);
        var (left, right) = at < 0 ? ("", "") : (value[..at].Trim(), value[(at + 1)..].Trim());
        return left.Length == 0 || right.Length == 0 || left.Any(char.IsWhiteSpace)
            ? throw new UserInputException($"{option} '{value}': expected {shape} (a name without spaces).")
            : (left, right);
    }

    private static string DirectoryOf(string dir, string what)
    {
        var full = Path.GetFullPath(dir);
        return Directory.Exists(full) ? full : throw new UserInputException($"{what}: no directory {full}.");
    }
}
