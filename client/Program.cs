using SparOrleans.Client.Cli;

return await SparCli.InvokeAsync(args, Console.Out, Console.Error);
