using System.Text.Json;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// The layout of runs/&lt;name&gt;, owned here and nowhere else: <c>config.yaml</c> (resolved), <c>inputs.json</c> (the
/// data files the run used), <c>metrics.jsonl</c>, <c>tensorboard/</c> (event files: the same ticks, the config, metrics and pictures), <c>checkpoints/</c>, <c>samples/</c>, <c>story.png</c>
/// (<see cref="StoryPicture"/>), <c>report/</c>, <c>over-time/</c> (<see cref="OverTimeAnalysis"/>: beside report/, so
/// that replacing the report never discards its hours of sampling), <c>done.json</c> (a finished sweep point), <c>error.log</c>
/// (internal errors) and <c>.lock</c> (the one writer, <see cref="Common.DirectoryLock"/>). Files inside samples/ and report/ are named by their writers (<see cref="Sampling.SampleSet"/>,
/// <see cref="Memorization.MemorizationReportWriter"/>).
/// </summary>
public sealed class RunDirectory(string path)
{
    /// <summary>The folder.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

#pragma warning disable CS1591
    public string Config => System.IO.Path.Combine(Path, "config.yaml");
    public string Inputs => System.IO.Path.Combine(Path, "inputs.json");
    public string Metrics => System.IO.Path.Combine(Path, "metrics.jsonl");
    public string Checkpoints => System.IO.Path.Combine(Path, CheckpointsFolder);
    public string Done => System.IO.Path.Combine(Path, "done.json");
    public string Samples => System.IO.Path.Combine(Path, "samples");
    public string Report => System.IO.Path.Combine(Path, "report");
    public string ErrorLog => System.IO.Path.Combine(Path, "error.log");
    public string SamplesFile => System.IO.Path.Combine(Samples, Sampling.SampleSet.TensorFile);
    public string ReportFile => System.IO.Path.Combine(Report, Memorization.MemorizationReportWriter.JsonFile);
    public string MembershipFile => System.IO.Path.Combine(Report, AmbientDiffusion.Membership.MembershipReportWriter.JsonFile);
    public string QualityFile => System.IO.Path.Combine(Report, Memorization.SampleQuality.FileName);
    public string Story => System.IO.Path.Combine(Path, "story.png");
    public string OverTime => System.IO.Path.Combine(Path, OverTimeAnalysis.FolderName);
    public string TensorBoard => System.IO.Path.Combine(Path, "tensorboard");
    public string Evaluation(string space) => System.IO.Path.Combine(Report, EvaluationFolder, space);
#pragma warning restore CS1591

    /// <summary>Name of the folder inside report/ that holds one metrics folder per feature space.</summary>
    public const string EvaluationFolder = "evaluation";

    /// <summary>Folder of report/ that `ambient memorization --only-membership` writes by default.</summary>
    public const string MembershipFolder = "membership";

    /// <summary>The attacks of a report folder: its membership.json (written beside the copy analysis) or, failing that,
    /// the one <c>--only-membership</c> writes into its <see cref="MembershipFolder"/>; null when neither exists.</summary>
    public static Membership.MembershipReport? ReadMembership(string reportFolder) =>
        Membership.MembershipReportWriter.Read(reportFolder) ?? Membership.MembershipReportWriter.Read(System.IO.Path.Combine(reportFolder, MembershipFolder));

    /// <summary>Name of the checkpoint folder inside a run.</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>The run directory that holds <paramref name="path"/>: the path itself, or the run of a checkpoints folder.</summary>
    public static RunDirectory Containing(string path)
    {
        var full = System.IO.Path.GetFullPath(path).TrimEnd(System.IO.Path.DirectorySeparatorChar);
        return new RunDirectory(System.IO.Path.GetFileName(full) == CheckpointsFolder ? System.IO.Path.GetDirectoryName(full)! : full);
    }

    /// <summary>Writes the resolved config.</summary>
    public void WriteConfig(string yaml)
    {
        Directory.CreateDirectory(Path);
        AtomicFile.WriteAllBytes(Config, System.Text.Encoding.UTF8.GetBytes(yaml));
    }

    /// <summary>The data files recorded by <see cref="WriteInputs"/>.</summary>
    public RunInputs ReadInputs()
    {
        if (!File.Exists(Inputs)) throw new FileNotFoundException($"{Inputs}: not found; is {Path} a run directory made by `ambient train`?", Inputs);
        return JsonSerializer.Deserialize<RunInputs>(File.ReadAllText(Inputs), Json) ?? throw new InvalidDataException($"{Inputs}: empty");
    }

    /// <summary>Records the data files the run uses.</summary>
    public void WriteInputs(RunInputs inputs)
    {
        Directory.CreateDirectory(Path);
        AtomicFile.WriteAllBytes(Inputs, JsonSerializer.SerializeToUtf8Bytes(inputs, Json));
    }

    private static readonly JsonSerializerOptions Json = Common.FiniteJson.SnakeCase(indented: true);
}

/// <summary>The data files of a run: the clean prepared dataset (read only by the memorization analysis; null when the
/// config named only a corrupted file) and the corrupted dataset training read.</summary>
public sealed record RunInputs(string? Prepared, string Corrupted)
{
    /// <summary>The precision the run trains in and why (for <c>device.bf16: auto</c> on a CPU with native bf16, the
    /// measured step timings); null in runs recorded before it was kept.</summary>
    public Common.Bf16Decision? Precision { get; init; }
}
