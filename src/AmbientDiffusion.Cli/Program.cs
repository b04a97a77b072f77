using AmbientDiffusion.Cli;

return CommandRunner.Run(AmbientCli.CreateRoot(), args);
