using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Export;
using SparOrleans.Engine.Model;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar merge</c>: folds a PEFT LoRA adapter into its base model and writes a full HF checkpoint (PEFT's
/// <c>merge_and_unload</c> + <c>save_pretrained</c>), which any HF-layout tool loads without PEFT.
/// </summary>
public static class MergeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<DirectoryInfo?>("--model") { Description = "The base model directory (HF layout)" };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "The PEFT LoRA adapter directory (adapter_config.json, adapter_model.safetensors)" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where the merged model goes (created; must not be --model)" };
        var dtype = new Option<string?>("--dtype") { Description = "Dtype of the written weights: float32, bfloat16 or float16 (default: the base's torch_dtype)" };
        var command = new Command("merge", """
            Merge a LoRA adapter into its base model and write the result as a full HF checkpoint (tokenizer files kept).
            Examples:
              spar merge --model base-model --adapter runs/run-1/lora/actor-1 --out merged-actor-1
              spar merge --model base-model --adapter adapter --out merged --dtype bfloat16
            """)
        {
            model, adapter, output, dtype,
        };
        command.SetAction(parse =>
        {
            var modelDir = parse.GetValue(model)?.FullName ?? throw new UserInputException("give --model DIR.");
            var adapterDir = parse.GetValue(adapter)?.FullName ?? throw new UserInputException("give --adapter DIR.");
            var outDir = parse.GetValue(output)?.FullName ?? throw new UserInputException("give --out DIR.");
            foreach (var (flag, dir) in new[] { ("--model", modelDir), ("--adapter", adapterDir) })
            {
                if (!Directory.Exists(dir))
                {
                    throw new UserInputException($"{flag}: no directory {dir}.");
                }
            }
            if (Path.GetFullPath(outDir).TrimEnd('/') == Path.GetFullPath(modelDir).TrimEnd('/'))
            {
                throw new UserInputException("--out must differ from --model: merging in place would overwrite the base.");
            }
            var type = parse.GetValue(dtype) is { } name ? ModelCheckpoint.ParseDtype(name) : ModelCheckpoint.ParseDtype(BaseDtype(modelDir));
            using var lm = ModelCheckpoint.Load(modelDir, dtype: type);
            LoraAdapters.Load(lm.Network, adapterDir);
            LoraAdapters.Merge(lm.Network);
            // A failure never leaves a half-merged model at --out.
            AtomicDirectory.Write(outDir, temp => ModelCheckpoint.Save(lm, temp));
            var options = LoraAdapters.Options(lm.Network)!;
            stderr.WriteLine($"merged r={options.Rank} alpha={options.Alpha} ({string.Join(",", options.TargetModules)}) into {ModelCheckpoint.DtypeName(type)} weights: {outDir}");
            stdout.WriteLine(outDir);
            return ExitCodes.Success;
        });
        return command;
    }

    private static string BaseDtype(string modelDir)
    {
        var path = Path.Combine(modelDir, ModelCheckpoint.ConfigFile);
        if (!File.Exists(path))
        {
            throw new UserInputException($"{modelDir}: not a model directory ({ModelCheckpoint.ConfigFile} not found)");
        }
        return LlamaConfig.FromHfJson(File.ReadAllText(path), path).TorchDtype;
    }
}
