using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Runs;
using SparOrleans.Client.Watch;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Search;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Core.Options;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;
using SparOrleans.Storage;
using SparOrleans.Models.Generation;
using SparOrleans.Models.Runs;

namespace SparOrleans.Client.Commands;

/// <summary><c>spar run</c>, <c>spar resume RUN</c>, <c>spar status [RUN]</c>, <c>spar list</c>.</summary>
public static class RunCommands
{
    public static IEnumerable<Command> Create(TextWriter stdout, TextWriter stderr) =>
        [Run(stdout, stderr), Resume(stdout, stderr), Status(stdout, stderr), List(stdout, stderr)];

    private static Command Run(TextWriter stdout, TextWriter stderr)
    {
        var quick = new Option<bool>("--quick") { Description = "The method on a small loop (12 prompts an iteration) from the default's M_0/R_0: the first run in a home trains and caches them, later runs take about a minute; same as --preset quick" };
        var preset = new Option<string>("--preset") { Description = "default (the full simulator), quick (a small loop from the default's cached M_0/R_0) or tiny (a smoke test of the machinery)", DefaultValueFactory = _ => "default" };
        preset.AcceptOnlyFromAmong([.. SimulatorOptions.PresetNames]);
        var iterations = new Option<int?>("--iterations") { Description = "SPaR iterations after the bootstrap (default 3)" };
        var prompts = new Option<string?>("--prompts")
        {
            Description = "With --actor/--refiner: the prompt file (JSONL, a \"prompt\" per line; IFEval's input file works). In the simulator: training prompts per iteration (default: the preset's)",
        };
        var perIteration = new Option<int?>("--prompts-per-iteration") { Description = "Training prompts per iteration (model runs: default 64, at most the file's)" };
        var actor = new Option<DirectoryInfo?>("--actor") { Description = "M_0: a Hugging Face model directory (a run on your own models; needs --refiner and --prompts)" };
        var refiner = new Option<DirectoryInfo?>("--refiner") { Description = "R_0: a Hugging Face model directory (may be the same as --actor)" };
        var evalIfEval = new Option<FileInfo?>("--eval-ifeval") { Description = "Model runs: evaluate the actor after every iteration on this IFEval-format input file (greedy, our port of the official scorer)" };
        var evalLlmBar = new Option<DirectoryInfo?>("--eval-llmbar") { Description = "Model runs: evaluate the refiner after every iteration on LLMBar (a directory of its subset files), point-wise as the paper's Table 2" };
        var roleFormat = new Option<string>("--role-format")
        {
            Description = "Model runs: paper (Figure 8's judge and refinement prompts through each model's chat template, default) or compact (the simulator's, for models trained in it)",
            DefaultValueFactory = _ => "paper",
        };
        roleFormat.AcceptOnlyFromAmong([.. RoleFormats.Names]);
        var generation = new Option<string>("--generation")
        {
            Description = "Model runs: local (the GPU-role silos' own engine, default) or openai=URL (an OpenAI-compatible server: vLLM, SGLang, TGI, llama.cpp, Ollama, spar serve)",
            DefaultValueFactory = _ => ModelRunInputs.Local,
        };
        var servedActor = new Option<string?>("--served-actor") { Description = "With openai=URL: the model name the server serves M_0 under (default actor)" };
        var servedRefiner = new Option<string?>("--served-refiner") { Description = "With openai=URL: the model name the server serves R_0 under (default refiner)" };
        var generationUpdate = new Option<string>("--generation-update")
        {
            Description = "With openai=URL: how each trained version reaches the server: lora (POST /v1/load_lora_adapter, default) or restart (--restart-command)",
            DefaultValueFactory = _ => "lora",
        };
        generationUpdate.AcceptOnlyFromAmong("lora", "restart");
        var restartCommand = new Option<string?>("--restart-command") { Description = "With --generation-update restart: a shell command that restarts the server on $SPAR_MODEL_DIR as $SPAR_MODEL_NAME ($SPAR_MODEL_ROLE is actor or refiner)" };
        var samples = new Option<int?>("--samples") { Description = "Actor samples per prompt, K (default: the preset's; 4 in default)" };
        var seed = new Option<int>("--seed") { Description = "Seed of the whole run", DefaultValueFactory = _ => 1 };
        var policy = new Option<string>("--policy")
        {
            Description = "Refinement policy: bfs or dfs tree search, or greedy (one refinement) / iterative (a chain) for the \"w/o tree search\" ablation",
            DefaultValueFactory = _ => "bfs",
        };
        policy.AcceptOnlyFromAmong("bfs", "dfs", "greedy", "iterative");
        var pairs = new Option<string>("--pairs")
        {
            Description = "How the iteration trains: refinement (SPaR: DPO on tree-search refinements); self-refine (SELF: the same search, SFT on the refined " +
                "responses alone); or, with no tree search, self-rewarding (the sample the own vote rates highest vs the lowest), meta-rewarding (those pairs, " +
                "and the refiner's DPO on kept-vs-dissenting judgments) or interfering (a sample the vote passes vs one it fails: the w/o refinement ablation)",
            DefaultValueFactory = _ => "refinement",
        };
        pairs.AcceptOnlyFromAmong([.. PairSources.Names]);
        var runId = new Option<string?>("--run-id") { Description = "Name of the run (default run-<date>-<time>)" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where the run writes summary.json and its checkpoints (default <home>/<run id>)" };
        var optionsFile = new Option<FileInfo?>("--options")
        {
            Description = "A JSON file of options laid over the defaults, e.g. {\"Dpo\": {\"LearningRate\": 1e-4}}: the simulator's (names as in SimulatorOptions), or with --actor a model run's (ModelRunSettings: Sampling, voting, TreeSearch, Dpo, Rft, Lora, Device, Dtype, Eval...)",
        };
        var generationWorkers = new Option<int?>("--generation-workers")
        {
            Description = "Decoding threads of this process's silo, shared by its models (default: one per core on a CPU, each on one torch thread; 1: one thread decoding on every core)",
        };
        var fresh = new Option<bool>("--fresh-bootstrap") { Description = "Train M_0/R_0 even when <home>/.cache holds them for these options, and replace the cached ones with the new ones" };
        var home = SparHome.Option();
        var cluster = ClusterOption("Run on a cluster started with `spar silo` instead of in-process: its membership store, Redis HOST:PORT, azurite[:PORT] or an Azure Storage connection string");
        var tlsCert = RemoteAccess.TlsCertOption();
        var web = new WebViewOptions();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("run", """
            Runs SPaR end to end on an in-process silo: M_0/R_0, then per iteration sampling, judging, tree-search
            refinement, actor DPO, refiner RFT and held-out evaluation. In the simulated world by default; on your own
            models with --actor DIR --refiner DIR --prompts FILE.
            Examples:
              spar run --actor m0 --refiner r0 --prompts prompts.jsonl --eval-ifeval ifeval_input.jsonl
              spar run --actor m0 --refiner r0 --prompts p.jsonl --generation openai=http://127.0.0.1:8000/v1
              spar run                      the full embedded default (3 iterations)
              spar run --quick              the method on a small loop (about a minute once M_0/R_0 are cached)
              spar run --seed 2 --out out/  another seed, summary.json into out/
              spar run --options dpo.json   the preset with some options changed
              spar run --web-port 8080      also serve the run page and the Orleans Dashboard on 127.0.0.1:8080
              spar run --cluster 127.0.0.1:6379 --preset tiny   on silos started with `spar silo`
            M_0 and R_0 are kept in <home>/.cache and reused by runs with the same bootstrap options.
            """)
        {
            quick, preset, iterations, prompts, perIteration, samples, seed, policy, pairs, runId, output, optionsFile, fresh, generationWorkers, home, cluster,
            tlsCert, format, actor, refiner, evalIfEval, evalLlmBar, roleFormat, generation, servedActor, servedRefiner, generationUpdate, restartCommand,
        };
        AddAll(command, web.All);
        command.SetAction(async (parse, ct) =>
        {
            var tls = ClusterTlsOf(parse, cluster, tlsCert);
            var webView = web.Read(parse);
            var hostOptions = ModelHostOf(parse, generationWorkers, cluster);
            if (parse.GetValue(actor) is not null || parse.GetValue(refiner) is not null)
            {
                RefuseGiven(parse, [quick, fresh], "applies to simulator runs only, not to a run on --actor/--refiner.");
                if (parse.GetResult(preset) is { Implicit: false })
                {
                    throw new UserInputException("--preset applies to simulator runs only: a run on --actor/--refiner takes its settings from --options.");
                }
                var (models, available) = await ModelRunInputs.CheckAsync(new ModelRunArguments(
                    parse.GetValue(actor)?.FullName ?? throw new UserInputException(BothModels),
                    parse.GetValue(refiner)?.FullName ?? throw new UserInputException(BothModels),
                    parse.GetValue(prompts) ?? throw new UserInputException("a run on --actor/--refiner needs --prompts FILE (JSONL with a \"prompt\" field per line)."),
                    parse.GetValue(evalIfEval)?.FullName,
                    parse.GetValue(evalLlmBar)?.FullName,
                    parse.GetValue(roleFormat)!,
                    parse.GetValue(optionsFile)?.FullName,
                    parse.GetValue(generation)!,
                    parse.GetValue(servedActor),
                    parse.GetValue(servedRefiner),
                    parse.GetValue(generationUpdate)!,
                    parse.GetValue(restartCommand)), ct);
                return await StartAsync(ModelRunPreset, "{}", ModelRunInputs.PromptsPerIteration(parse.GetValue(perIteration), available),
                    Positive("--samples", parse.GetValue(samples) ?? 5, 1, 64), models);
            }
            RefuseGiven(parse, [evalIfEval, evalLlmBar, roleFormat, generation, servedActor, servedRefiner, generationUpdate, restartCommand],
                "applies to runs on your own models (--actor DIR --refiner DIR --prompts FILE) only.");
            var promptCount = parse.GetValue(prompts) is { } text
                ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
                    : throw new UserInputException($"--prompts {text}: a prompt file needs --actor DIR --refiner DIR (a run on your own models); in the simulator --prompts is a count.")
                : parse.GetValue(perIteration);
            var presetName = parse.GetValue(quick) ? "quick" : parse.GetValue(preset)!;
            var options = SimulatorOptions.Preset(presetName) with { Seed = parse.GetValue(seed) };
            if (parse.GetValue(optionsFile) is { } file)
            {
                options = OptionsFile.Overlay(options, file.FullName);
            }
            options = options with
            {
                IterationPrompts = Positive("--prompts", promptCount ?? options.IterationPrompts, 1, 100_000),
                SamplesPerPrompt = Positive("--samples", parse.GetValue(samples) ?? options.SamplesPerPrompt, 1, 64),
            };
            options.Validated();
            return await StartAsync(presetName, RunOptions.ToJson(options), options.IterationPrompts, options.SamplesPerPrompt, null);

            // Both kinds of run are named, placed and driven alike; only what they run differs.
            Task<int> StartAsync(string presetName, string optionsJson, int promptsPerIteration, int samplesPerPrompt, ModelRunSpec? models)
            {
                var id = parse.GetValue(runId) ?? $"run-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
                ValidateRunId(id);
                var paths = SparHome.From(parse, home);
                var spec = new RunSpec(
                    id,
                    Path.GetFullPath(parse.GetValue(output)?.FullName ?? paths.RunDirectory(id)),
                    parse.GetValue(seed),
                    Positive("--iterations", parse.GetValue(iterations) ?? 3, 0, 50),
                    promptsPerIteration,
                    parse.GetValue(policy)!,
                    presetName,
                    optionsJson,
                    samplesPerPrompt,
                    PairSources.Parse(parse.GetValue(pairs)!),
                    models);
                return DriveAsync(paths, spec, resume: false, parse.GetValue(cluster), tls, webView, parse.GetValue(format), stdout, stderr, ct,
                    refreshCache: parse.GetValue(fresh), models: hostOptions);
            }
        });
        return command;
    }

    private static Command Resume(TextWriter stdout, TextWriter stderr)
    {
        var run = new Argument<string>("RUN") { Description = "The run to continue (see spar list)" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where to write summary.json (default: where the run was started)" };
        var home = SparHome.Option();
        var web = new WebViewOptions();
        var cluster = ClusterOption("A run of a cluster started with `spar silo`: its --cluster (the run grain resumes it there)");
        var tlsCert = RemoteAccess.TlsCertOption();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var generationWorkers = new Option<int?>("--generation-workers") { Description = "As spar run's: decoding threads of this process's silo, shared by its models" };
        var command = new Command("resume", """
            Continues a stored run where it stopped (after Ctrl-C, a kill or a crash).
            Examples:
              spar resume run-20261122-180000
              spar resume tiny-1 --cluster 127.0.0.1:6379   a run started with spar run --cluster
            """)
        {
            run, output, home, cluster, tlsCert, format, generationWorkers,
        };
        AddAll(command, web.All);
        command.SetAction(async (parse, ct) =>
        {
            var tls = ClusterTlsOf(parse, cluster, tlsCert);
            var webView = web.Read(parse);
            var hostOptions = ModelHostOf(parse, generationWorkers, cluster);
            if (parse.GetValue(cluster) is { } redis)
            {
                // The cluster's storage holds the run, not this machine's home: the run grain knows its spec, and its
                // checkpoints are where the gpu silos keep them.
                await using var connection = await ConnectAsync(redis, tls, ct);
                var known = await KnownRunAsync(connection.Client, parse.GetValue(run)!, redis);
                var clusterSpec = parse.GetValue(output) is { } to ? known.Spec! with { OutputDirectory = to.FullName } : known.Spec!;
                OutputPaths.EnsureWritable(clusterSpec.OutputDirectory, "--out");
                return await FollowAsync(connection.Client, clusterSpec, resume: true, redis, parse.GetValue(format), stdout, stderr, ct);
            }
            var paths = SparHome.From(parse, home);
            var stored = await new RunStore(paths.StateDirectory).GetAsync(parse.GetValue(run)!, ct);
            var spec = stored.Spec ?? throw new UserInputException($"Run '{stored.Id}' has no stored spec: it never started.");
            ResumeCheck.Check(stored);
            if (parse.GetValue(output) is { } dir)
            {
                spec = spec with { OutputDirectory = dir.FullName };
            }
            return await DriveAsync(paths, spec, resume: true, cluster: null, tls: null, webView, parse.GetValue(format), stdout, stderr, ct, models: hostOptions);
        });
        return command;
    }

    private static Command Status(TextWriter stdout, TextWriter stderr)
    {
        var run = new Argument<string?>("RUN") { Description = "A run id (default: the latest run)", Arity = ArgumentArity.ZeroOrOne };
        var home = SparHome.Option();
        var cluster = ClusterOption("A run of a cluster started with `spar silo`: its --cluster (asks its run grain)");
        var tlsCert = RemoteAccess.TlsCertOption();
        var source = new StoredRunSource();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("status", """
            Shows a stored run: status, phase, iteration and its table so far.
            Examples:
              spar status --format json
              spar status tiny-1 --cluster 127.0.0.1:6379   a run started with spar run --cluster
              spar status tiny-1 --storage azurite:10000    the same, read from the cluster's storage (no silo needed)
            """)
        {
            run, home, cluster, tlsCert, format,
        };
        source.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var tls = ClusterTlsOf(parse, cluster, tlsCert);
            StoredRun stored;
            string? coordinator = null;
            if (parse.GetValue(cluster) is { } redis)
            {
                var runId = parse.GetValue(run)
                    ?? throw new UserInputException($"--cluster needs the RUN to show: spar status RUN --cluster {redis}.");
                await using var connection = await ConnectAsync(redis, tls, ct);
                var known = await KnownRunAsync(connection.Client, runId, redis);
                stored = new StoredRun(known.RunId, known.Status, known.Phase, known.Iteration, known.Created, known.Updated, known.Spec,
                    known.Iterations, known.Error, []);
                coordinator = known.Coordinator;
            }
            else
            {
                var store = source.Open(parse, home);
                stored = parse.GetValue(run) is { } id
                    ? await store.GetAsync(id, ct)
                    : (await store.ListAsync(ct)).LastOrDefault() ?? throw new UserInputException("There are no runs yet: start one with `spar run`.");
            }
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, new
                {
                    stored.Id, Status = stored.Status.ToString().ToLowerInvariant(), Phase = stored.Phase.ToString().ToLowerInvariant(),
                    stored.Iteration, stored.Created, stored.Updated, stored.Error, Coordinator = coordinator, Iterations = stored.Reports,
                });
                return ExitCodes.Success;
            }
            await stdout.WriteLineAsync($"{stored.Id}: {stored.Status.ToString().ToLowerInvariant()}, phase {stored.Phase}, iteration {stored.Iteration}, updated {stored.Updated:u}" +
                (coordinator is null ? "" : $", coordinator silo {coordinator}"));
            if (stored.Error is not null)
            {
                await stdout.WriteLineAsync($"error: {stored.Error}");
            }
            if (stored.Reports.Count > 0)
            {
                Render(stdout, RunSummary.Table(stored.Reports));
                Render(stdout, RunSummary.PhaseTable(stored.Reports));
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(TextWriter stdout, TextWriter stderr)
    {
        var home = SparHome.Option();
        var source = new StoredRunSource();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("list", "Lists the stored runs.\nExamples:\n  spar list --format json\n  spar list --storage azurite:10000   the runs of a spar silo cluster") { home, format };
        source.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var runs = await source.Open(parse, home).ListAsync(ct);
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, runs.Select(r => new
                {
                    r.Id, Status = r.Status.ToString().ToLowerInvariant(), r.Iteration, Phase = r.Phase.ToString().ToLowerInvariant(),
                    r.Created, r.Updated, Preset = r.Spec?.Preset, Seed = r.Spec?.Seed,
                }).ToList());
                return ExitCodes.Success;
            }
            if (runs.Count == 0)
            {
                await stdout.WriteLineAsync("No runs yet: start one with `spar run`.");
            }
            foreach (var r in runs)
            {
                await stdout.WriteLineAsync($"{r.Id}\t{r.Status.ToString().ToLowerInvariant()}\titeration {r.Iteration}\t{r.Phase}\t{r.Created:u}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Refuses each of <paramref name="options"/> the user gave (defaults do not count), naming it.</summary>
    private static void RefuseGiven(ParseResult parse, IEnumerable<Option> options, string why)
    {
        if (options.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } given)
        {
            throw new UserInputException($"{given.Name} {why}");
        }
    }

    private const string BothModels = "--actor and --refiner go together: give both M_0 and R_0 (the same directory twice is fine).";

    /// <summary>The preset name a run on real models stores (its settings are in <see cref="ModelRunSpec.SettingsJson"/>).</summary>
    private const string ModelRunPreset = "models";

    private static Option<string?> ClusterOption(string description) => new("--cluster") { Description = description };

    private static void AddAll(Command command, IEnumerable<Option> options)
    {
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The cluster certificate of <c>--tls-cert</c>, checked before anything connects; it goes with <c>--cluster</c> only.</summary>
    private static ClusterTls? ClusterTlsOf(ParseResult parse, Option<string?> cluster, Option<string?> tlsCert) =>
        parse.GetValue(tlsCert) is not null && parse.GetValue(cluster) is null
            ? throw new UserInputException("--tls-cert goes with --cluster HOST:PORT (the in-process silo has no network traffic to protect).")
            : ClusterTls.FromOption(parse.GetValue(tlsCert));

    private static async Task<ClusterConnection> ConnectAsync(string cluster, ClusterTls? tls, CancellationToken ct)
    {
        var endpoints = ClusterEndpoints.Parse(cluster) with { Tls = tls };
        return await ClusterFailures.UserFacingAsync(endpoints, () => ClusterConnection.ConnectAsync(endpoints, ct));
    }

    /// <summary>The cluster's status of a run it has stored; a run it never started is the user's error.</summary>
    private static async Task<RunStatus> KnownRunAsync(IClusterClient client, string runId, string cluster)
    {
        ValidateRunId(runId);
        var status = await client.GetGrain<IRunGrain>(runId).GetStatusAsync();
        return status.Spec is null
            ? throw new UserInputException($"No run '{runId}' on the cluster at {cluster}: start one there with `spar run --cluster {cluster} --run-id {runId}`.")
            : status;
    }

    // The embedded silo's model host; a cluster's silos were given theirs by `spar silo`.
    private static ModelHostOptions? ModelHostOf(ParseResult parse, Option<int?> workers, Option<string?> cluster)
    {
        if (parse.GetValue(workers) is not { } count)
        {
            return null;
        }
        if (parse.GetValue(cluster) is not null)
        {
            throw new UserInputException("--generation-workers applies to the in-process silo: a cluster's gpu silos take it from `spar silo --generation-workers`.");
        }
        return new ModelHostOptions { Workers = Positive("--generation-workers", count, 1, 256) };
    }

    /// <summary>
    /// The in-process silo's model host decodes where the run trains: on the run's device (its simulator options' or
    /// model settings'), not on the host's default, the CPU.
    /// </summary>
    internal static ModelHostOptions ModelHostFor(RunSpec spec, ModelHostOptions? given) =>
        (given ?? new ModelHostOptions()) with { Device = spec.Models is null ? RunOptions.Of(spec).Device : ModelRunSettings.Of(spec).Device };

    private static async Task<int> DriveAsync(SparHome paths, RunSpec spec, bool resume, string? cluster, ClusterTls? tls, SiloWebOptions? webView, OutputFormat format,
        TextWriter stdout, TextWriter stderr, CancellationToken ct, bool refreshCache = false, ModelHostOptions? models = null)
    {
        // The run's output directory must take files before the run is stored: otherwise it fails at its first
        // checkpoint, minutes in, with a stored run left behind.
        OutputPaths.EnsureWritable(spec.OutputDirectory, "--out");
        if (cluster is not null)
        {
            await using var connection = await ConnectAsync(cluster, tls, ct);
            return await FollowAsync(connection.Client, spec, resume, cluster, format, stdout, stderr, ct);
        }
        var web = webView is null ? null : webView with { Map = app => WatchWeb.Map(app, spec.RunId) };
        await using var silo = await StartSiloAsync(paths, web, refreshCache, ModelHostFor(spec, models), ct);
        if (silo.WebAddress is { } address)
        {
            if (WebViewOptions.Warning(web!, address) is { } warning)
            {
                await stderr.WriteLineAsync(warning);
            }
            await stderr.WriteLineAsync($"run page: {new Uri(address, WatchWeb.RunPath(spec.RunId))} · Orleans Dashboard: {new Uri(address, EmbeddedSilo.DashboardPath)}");
        }
        // `spar watch` finds the silo through this file; it is removed before the silo stops.
        using var advertised = SiloEndpoints.Advertise(paths.StateDirectory, new SiloEndpoint(spec.RunId, silo.GatewayPort, Environment.ProcessId, DateTimeOffset.UtcNow, silo.WebAddress));
        return await FollowAsync(silo.Client, spec, resume, cluster: null, format, stdout, stderr, ct);
    }

    /// <summary>
    /// Starts or resumes the run through <paramref name="client"/> (an embedded silo's or a cluster's), follows it to
    /// its end, and writes its summary. Starting is idempotent: a run already started with the same spec is followed.
    /// </summary>
    private static async Task<int> FollowAsync(IClusterClient client, RunSpec spec, bool resume, string? cluster, OutputFormat format,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        // Said on the terminal: a password in the Redis configuration is masked.
        cluster = cluster is null ? null : Secrets.Redact(cluster);
        var resumeCommand = cluster is null ? $"spar resume {spec.RunId}" : $"spar resume {spec.RunId} --cluster {cluster}";
        var what = spec.Models is { } m ? $"M_0 {m.ActorDirectory}, R_0 {m.RefinerDirectory}, {m.RoleFormat} format, generation {m.Generation?.BaseUrl ?? "local"}" : spec.Preset;
        var grain = client.GetGrain<IRunGrain>(spec.RunId);
        await SayWhereItStandsAsync(grain, spec, resume, cluster, resumeCommand, stderr);
        await stderr.WriteLineAsync($"{(resume ? "resuming" : "starting")} {spec.RunId} ({what}, seed {spec.Seed}, {spec.Iterations} iterations x {spec.PromptsPerIteration} prompts){(cluster is null ? "" : $" on the cluster at {cluster}")}; outputs in {spec.OutputDirectory}");
        RunStatus final;
        try
        {
            if (resume)
            {
                try
                {
                    await grain.ResumeAsync();
                }
                catch (ArgumentException e)
                {
                    // The run grain's answer for a run it has no state of ("There is no stored run").
                    throw new UserInputException($"{e.Message.TrimEnd('.')}{(cluster is null ? "" : $" on the cluster at {cluster}")}.", e);
                }
            }
            else
            {
                var started = await grain.StartAsync(spec);
                if (started.Spec is { } existing && existing != spec)
                {
                    throw new UserInputException($"A run named '{spec.RunId}' already exists with other settings: choose another --run-id, or `{resumeCommand}`.");
                }
            }
            final = await RunProgressView.FollowAsync(RunFollower.FollowAsync(grain, ct), stderr, interactive: !Console.IsErrorRedirected, ct);
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync($"stopped; everything done so far is stored. Continue with: {resumeCommand}");
            return ExitCodes.Cancelled;
        }
        var summary = RunSummary.From(spec.RunId, final.Status, spec, final.Iterations, final.Error);
        var summaryPath = RunSummary.Write(spec.OutputDirectory, summary);
        if (format == OutputFormat.Json)
        {
            CliOutput.WriteJson(stdout, summary);
        }
        var human = format == OutputFormat.Json ? stderr : stdout;
        if (final.Iterations.Count > 0)
        {
            Render(human, RunSummary.Table(final.Iterations));
            Render(human, RunSummary.PhaseTable(final.Iterations));
        }
        await human.WriteLineAsync($"wrote {summaryPath}");
        if (final.Status == RunStatusKind.Failed)
        {
            await stderr.WriteLineAsync($"error: run failed: {final.Error}. Fix the cause, then: {resumeCommand}");
            return ExitCodes.Failure;
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// One activation of the run grain drives a run: a second `run`/`resume` of a cluster run that is running follows
    /// it and says so; a `run` of a failed run is refused, pointing at `resume` (the run's retries are spent).
    /// </summary>
    private static async Task SayWhereItStandsAsync(IRunGrain grain, RunSpec spec, bool resume, string? cluster, string resumeCommand, TextWriter stderr)
    {
        var before = await grain.GetStatusAsync();
        if (before.Spec is null)
        {
            return;
        }
        if (!resume && before.Status == RunStatusKind.Failed)
        {
            throw new UserInputException($"run {spec.RunId} failed at {before.Phase} (iteration {before.Iteration}): {before.Error?.TrimEnd('.')}. Fix the cause, then continue it: {resumeCommand}");
        }
        if (cluster is not null && before.Status == RunStatusKind.Running)
        {
            await stderr.WriteLineAsync($"run {spec.RunId} is already running on the cluster (iteration {before.Iteration}, phase {before.Phase}" +
                $"{(before.Coordinator is { } silo ? $", coordinated by silo {silo}" : "")}); following it");
        }
    }

    /// <summary>The embedded silo, or one clear error when its state directory cannot be used or another process drives it.</summary>
    private static async Task<EmbeddedSilo> StartSiloAsync(SparHome paths, SiloWebOptions? web, bool refreshCache, ModelHostOptions? models, CancellationToken ct)
    {
        // A silo that does not start (its web port in use, its state unusable) leaves no new home behind.
        var created = OutputPaths.Missing(paths.Root);
        try
        {
            return await StartSiloOrExplainAsync(paths, web, refreshCache, models, ct);
        }
        catch when (created is not null && Directory.Exists(created))
        {
            Directory.Delete(created, recursive: true);
            throw;
        }
    }

    private static async Task<EmbeddedSilo> StartSiloOrExplainAsync(SparHome paths, SiloWebOptions? web, bool refreshCache, ModelHostOptions? models, CancellationToken ct)
    {
        try
        {
            return await EmbeddedSilo.StartAsync(paths.StateDirectory, web: web, cancellationToken: ct, bootstrapCache: paths.BootstrapCacheDirectory,
                refreshBootstrapCache: refreshCache, models: models);
        }
        catch (StateDirectoryInUseException e)
        {
            // A second silo would drive the same runs over the same files as the first.
            var running = e.ProcessId is { } pid ? SiloEndpoints.ReadAll(paths.StateDirectory).FirstOrDefault(x => x.ProcessId == pid)?.RunId : null;
            throw new UserInputException(
                $"another spar process{(e.ProcessId is { } p ? $" (PID {p})" : "")} is running on this home ({paths.Root}); one process drives a home's runs at a time. " +
                $"Follow it with `spar watch {running ?? "RUN"} --home {paths.Root}`, or try again when it has finished.", e);
        }
        catch (Exception e) when (StorageFailure(e) is { } unreachable)
        {
            throw new UserInputException($"{unreachable.Message} (is --home writable?)", e);
        }
    }

    /// <summary>The storage failure behind a silo that did not start, if that is why.</summary>
    internal static StorageUnreachableException? StorageFailure(Exception e) =>
        ExceptionChain.Of(e).OfType<StorageUnreachableException>().FirstOrDefault();

    private static void Render(TextWriter writer, Table table)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 200;
        console.Write(table);
    }

    internal static int Positive(string name, int value, int min, int max) =>
        value >= min && value <= max ? value : throw new UserInputException($"{name} must be between {min} and {max} (got {value.ToString(CultureInfo.InvariantCulture)}).");

    private static void ValidateRunId(string id)
    {
        if (id.Length is 0 or > 100 || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || id.StartsWith('.'))
        {
            throw new UserInputException($"Run id '{id}' must be 1-100 letters, digits, '-', '_' or '.', not starting with '.'.");
        }
    }
}
