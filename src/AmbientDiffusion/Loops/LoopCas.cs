using System.Text.Json;
using AmbientDiffusion.Classification;
using AmbientDiffusion.Data;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Loops;

/// <summary>
/// The Classification Accuracy Score of a class-conditional generation (<c>loop.cas_test</c>): its labelled synthetic
/// set is written as <c>cas/synthetic.npz</c> with the class names in <c>cas/manifest.json</c> (the labelled-folder
/// format <c>ambient cas</c> reads), and scored into <c>report/cas</c> (<see cref="ClassificationAccuracyScore"/>).
/// </summary>
public static class LoopCas
{
    /// <summary>The folder of a generation's CAS report.</summary>
    public static string ReportFolder(RunDirectory run) => Path.Combine(run.Report, "cas");

    /// <summary>Scores the generation's samples unless a report newer than them is there; false when the samples carry no labels.</summary>
    public static bool Run(RunDirectory run, string realTrain, string realTest, ulong seed, Device device)
    {
        var report = Path.Combine(ReportFolder(run), CasReportWriter.JsonFile);
        if (File.Exists(report) && File.GetLastWriteTimeUtc(report) >= File.GetLastWriteTimeUtc(run.SamplesFile)) return true;
        var folder = Path.Combine(run.Path, "cas");
        using (var scope = torch.NewDisposeScope())
        using (var samples = SampleSet.Open(run.SamplesFile))
        {
            var names = DatasetLabels.ReadClassNames(samples);
            if (!samples.Contains(DatasetLabels.LabelsKey) || names is null) return false;
            var images = samples.GetTensor(SampleSet.SamplesKey);
            var labels = samples.GetTensor(DatasetLabels.LabelsKey).data<long>();
            Directory.CreateDirectory(folder);
            var (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3]);
            var arrays = new List<NpzWriter.Array>
            {
                new("images", "|u1", [n, h, w, c], images.permute(0, 2, 3, 1).contiguous().data<byte>()),
                NpzWriter.Int64("labels", labels),
            };
            AtomicFile.Write(Path.Combine(folder, SyntheticManifest.NumpyFile), stream => NpzWriter.Write(stream, arrays));
            AtomicFile.WriteAllBytes(Path.Combine(folder, SyntheticManifest.FileName),
                JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { [CasImageSet.ManifestClassNamesKey] = names, ["samples"] = run.SamplesFile }));
        }
        var result = ClassificationAccuracyScore.Run(folder, realTrain, realTest, new ClassifierTrainingOptions(Seed: seed), device);
        CasReportWriter.Write(result, ReportFolder(run));
        return true;
    }

    /// <summary>The synthetic-only accuracy and its ratio to the real-only one, or null without a report.</summary>
    public static (double Cas, double OverReal)? Read(RunDirectory run)
    {
        if (!File.Exists(Path.Combine(ReportFolder(run), CasReportWriter.JsonFile))) return null;
        var result = CasReportWriter.Read(ReportFolder(run));
        return (result.SyntheticOnly.Top1, result.CasOverReal);
    }
}
