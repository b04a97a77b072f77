using System.CommandLine;
using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Inverse;
using AmbientDiffusion.Torch;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient reconstruct`: posterior samples x ~ p(x | y) with a trained model as the prior (DPS or MMPS).</summary>
internal static class ReconstructCommand
{
    public static Command Create()
    {
        var defaults = new ReconstructionOptions();
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "A checkpoint file, or a run directory (its newest checkpoint).", Required = true };
        var measurements = new Option<string>("--measurements", "-m") { Description = "A measurement artifact (from `ambient measure`).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output folder.", Required = true };
        var method = new Option<PosteriorMethod>("--method") { Description = "dps or mmps.", DefaultValueFactory = _ => defaults.Method };
        var steps = new Option<int>("--steps") { Description = "Heun steps (each one or two guided denoiser evaluations).", DefaultValueFactory = _ => defaults.Steps };
        var sigmaMin = new Option<double>("--sigma-min") { Description = "Smallest noise level of the schedule (the reconstruction is the denoiser's estimate there).", DefaultValueFactory = _ => defaults.SigmaMin };
        var scale = new Option<double>("--guidance-scale") { Description = "DPS's step ζ along −∇‖y − A D(x_t)‖.", DefaultValueFactory = _ => defaults.GuidanceScale };
        var cg = new Option<int>("--cg-iterations") { Description = "MMPS's conjugate-gradient iterations (one vector-Jacobian product each).", DefaultValueFactory = _ => defaults.CgIterations };
        var jacobian = new Option<JacobianProduct>("--jacobian") { Description = "How MMPS applies the denoiser's Jacobian: reverse (vector-Jacobian product), forward (finite difference) or auto (forward for ambient priors).", DefaultValueFactory = _ => defaults.Jacobian };
        var minSigma = new Option<double>("--min-measurement-sigma") { Description = "MMPS's floor on σ_y.", DefaultValueFactory = _ => defaults.MinMeasurementSigma };
        var samples = new Option<int>("--samples") { Description = "Posterior samples per measurement.", DefaultValueFactory = _ => defaults.SamplesPerMeasurement };
        var seed = new Option<ulong>("--seed") { Description = "Sample s of measurement j uses seed + j·samples + s." };
        var count = new Option<int?>("--count") { Description = "Reconstruct only the first N measurements." };
        var reference = new Option<string?>("--reference") { Description = "The measured prepared dataset: adds PSNR and SSIM against the clean images." };
        var expect = new Option<string?>("--operator") { Description = "The operator the measurements must have been made with (an error otherwise)." };
        var batch = new Option<int>("--batch") { Description = "Samples per network call; the same seeds and batch size give the same samples (another batch size can move a pixel by a grey level).", DefaultValueFactory = _ => defaults.BatchSize };
        var raw = new Option<bool>("--raw") { Description = "Use the raw training weights instead of the EMA." };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => new DeviceSettings().Type };
        var overwrite = OutputTarget.OverwriteOption();
        var command = new Command("reconstruct", """
            Solve an inverse problem with a trained model as the prior: draw posterior samples given the measurements
            (DPS or MMPS inside EDM's Heun sampler; ambient models inside their fixed-mask sampler), with the
            pseudo-inverse (and for masks a harmonic fill) as baselines. Writes the reconstructions as a sample set,
            report.json and report.html with PSNR, SSIM (with --reference) and the consistency error, and comparison.png.

            Examples:
              ambient reconstruct -c runs/quickstart -m meas/p0.9.safetensors --method mmps -o recon/p0.9-mmps
              ambient reconstruct -c runs/clean -m meas/blur.safetensors --method dps --guidance-scale 1 --reference data/fmnist.safetensors -o recon/blur
            """) { checkpoint, measurements, output, method, steps, sigmaMin, scale, cg, jacobian, minSigma, samples, seed, count, reference, expect, batch, raw, device, overwrite };
        command.SetAction(result =>
        {
            var options = defaults with
            {
                Method = result.GetValue(method),
                Steps = result.GetValue(steps),
                SigmaMin = result.GetValue(sigmaMin),
                GuidanceScale = result.GetValue(scale),
                CgIterations = result.GetValue(cg),
                Jacobian = result.GetValue(jacobian),
                MinMeasurementSigma = result.GetValue(minSigma),
                SamplesPerMeasurement = result.GetValue(samples),
                BatchSize = result.GetValue(batch),
            };
            options.Validate();
            var directory = result.GetValue(output)!;
            using var destination = OutputTarget.Folder(directory, result.GetValue(overwrite));
            var path = SampleCommand.ResolveCheckpoint(result.GetValue(checkpoint)!);
            using var artifact = MeasurementArtifact.Open(result.GetValue(measurements)!);
            if (result.GetValue(expect) is { } expected) artifact.RequireOperator(OperatorSpec.Parse(expected));
            using var prepared = result.GetValue(reference) is { } referencePath ? PreparedDataset.Open(referencePath) : null;
            using var prior = CheckpointPrior.Load(path, Device.Parse(result.GetValue(device)!), ema: !result.GetValue(raw));
            var n = result.GetValue(count) ?? artifact.Count;
            AnsiConsole.MarkupLineInterpolated($"{artifact.Spec.Describe()}: {n} measurements x {options.SamplesPerMeasurement} samples, {Yaml.EnumName(options.Method)}, prior {prior.Mode.Describe()}");
            var outcome = ConsoleProgress.Run("reconstruct", report =>
                Reconstructor.Run(artifact, prior, options, result.GetValue(seed), prepared, n, new ProgressRelay<ReconstructionProgress>(p => report(p.Done, p.Total))));
            var settings = new Dictionary<string, string>(prior.Describe())
            {
                ["measurements"] = Path.GetFullPath(artifact.Path),
                ["operator"] = artifact.Spec.Describe(),
                ["method"] = Yaml.EnumName(options.Method),
                ["reconstruction_options"] = options.ToJson(),
                ["seed"] = result.GetValue(seed).ToString(CultureInfo.InvariantCulture),
                ["tool"] = ToolVersion.Describe(),
            };
            ReconstructionReport.Write(destination.WritePath, outcome, settings, options.SamplesPerMeasurement);
            destination.Commit();
            foreach (var (name, values) in outcome.Metrics)
                AnsiConsole.MarkupLineInterpolated($"{name}: {string.Join(", ", values.Select(v => $"{v.Key} {v.Value.Average().ToString("F3", CultureInfo.InvariantCulture)}"))}");
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{directory}[/] ({ReconstructionReport.HtmlFile}, {ReconstructionReport.JsonFile}, {ReconstructionReport.ComparisonFile})");
            return CommandRunner.Success;
        });
        return command;
    }
}
