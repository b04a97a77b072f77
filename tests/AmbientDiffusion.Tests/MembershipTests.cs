using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Membership;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;
using Xunit.Abstractions;

namespace AmbientDiffusion.Tests;

/// <summary>The membership attacks and their statistics: ROC numbers against a NumPy reference, bootstrap coverage,
/// and the attacks on a planted case (a tiny model that memorized a few images).</summary>
[Collection("memory")]
public class MembershipTests(ITestOutputHelper output)
{
    private sealed record RocReference(double[] Members, double[] NonMembers, double Auc,
        [property: System.Text.Json.Serialization.JsonPropertyName("tpr_at_1pct_fpr")] double TprAt1,
        [property: System.Text.Json.Serialization.JsonPropertyName("tpr_at_0_1pct_fpr")] double TprAt01, int TiesAcrossSets);

    private static RocReference Reference() => JsonSerializer.Deserialize<RocReference>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics", "membership_roc.json")), FiniteJson.SnakeCase())!;

    [Fact]
    public void Auc_and_tpr_at_fixed_fpr_equal_the_numpy_reference_on_tied_scores()
    {
        var reference = Reference();
        Assert.True(reference.TiesAcrossSets > 1000, "the fixture must exercise ties");
        Assert.Equal(reference.Auc, RocAnalysis.Auc(reference.Members, reference.NonMembers), 12);
        Assert.Equal(reference.TprAt1, RocAnalysis.TprAtFpr(reference.Members, reference.NonMembers, 0.01), 12);
        Assert.Equal(reference.TprAt01, RocAnalysis.TprAtFpr(reference.Members, reference.NonMembers, 0.001), 12);
        // The trapezoid area under the curve at every distinct threshold is the Mann–Whitney AUC.
        Assert.Equal(reference.Auc, new Reporting.RocCurve("x", RocAnalysis.Curve(reference.Members, reference.NonMembers)).Auc(), 9);
    }

    [Fact]
    public void Perfect_reversed_and_all_tied_scores_give_auc_one_zero_and_one_half()
    {
        Assert.Equal(1.0, RocAnalysis.Auc([3, 4, 5], [0, 1, 2]));
        Assert.Equal(0.0, RocAnalysis.Auc([0, 1], [2, 3, 4]));
        Assert.Equal(0.5, RocAnalysis.Auc([1, 1], [1, 1, 1]));
        Assert.Equal(1.0, RocAnalysis.TprAtFpr([3, 4, 5], [0, 1, 2], 0.0));
        Assert.Equal(0.0, RocAnalysis.TprAtFpr([1, 1], [1, 1, 1], 0.5)); // a threshold cannot split a tie
        Assert.Throws<ArgumentException>(() => RocAnalysis.Auc([double.NaN], [1]));
    }

    [Fact]
    public void The_auc_of_a_member_set_beyond_46341_images_stays_in_zero_to_one()
    {
        // m (m + 1) / 2 overflows a 32-bit integer from m = 46341; half the members score above every non-member.
        var members = Enumerable.Range(0, 50_000).Select(i => i % 2 == 0 ? 10.0 + i : -10.0 - i).ToArray();
        var nonMembers = Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToArray();
        Assert.Equal(0.5, RocAnalysis.Auc(members, nonMembers), 12);
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void Bootstrap_intervals_cover_the_true_rate_of_a_bernoulli_at_the_stated_level()
    {
        // 200 data sets of 150 draws from Bernoulli(0.3); a 90% interval from 500 resamples each. The count of intervals
        // that contain 0.3 is Binomial(200, c) with c the true coverage; the percentile bootstrap of a proportion at
        // n = 150 covers close to nominal (0.88-0.90). Margin: at c = 0.88 the count falls below 163 with probability
        // about 0.5% (mean 176, sd 4.6, 163 is 2.8 sd below), and above 193 at c = 0.90 with probability < 0.3%.
        const double p = 0.3, level = 0.9;
        const int sets = 200, n = 150;
        var settings = new BootstrapSettings { Resamples = 500, Level = level, Seed = 11 };
        var covered = 0;
        var widths = new List<double>();
        for (var s = 0; s < sets; s++)
        {
            var random = new SeededRandom(1234, (ulong)s);
            var flags = Enumerable.Range(0, n).Select(_ => random.NextBernoulli(p)).ToArray();
            var interval = Bootstrap.Proportion(flags, settings, $"set {s}")!;
            if (interval.Contains(p)) covered++;
            widths.Add(interval.Hi - interval.Lo);
        }
        output.WriteLine($"coverage {covered}/{sets} at nominal {level:P0}; mean width {widths.Average():F3} (normal theory {2 * 1.645 * Math.Sqrt(p * (1 - p) / n):F3})");
        Assert.InRange(covered, 163, 193);
        Assert.InRange(widths.Average(), 0.10, 0.14); // 2·1.645·√(0.21/150) = 0.123
    }

    [Fact]
    public void Intervals_are_reproducible_and_a_stream_of_their_own()
    {
        var flags = Enumerable.Range(0, 50).Select(i => i % 3 == 0).ToArray();
        var settings = new BootstrapSettings { Resamples = 200 };
        Assert.Equal(Bootstrap.Proportion(flags, settings, "a"), Bootstrap.Proportion(flags, settings, "a"));
        Assert.NotEqual(Bootstrap.Proportion(flags, settings, "a"), Bootstrap.Proportion(flags, settings, "b"));
        Assert.Null(Bootstrap.Proportion(flags, settings with { Resamples = 0 }, "a"));
        Assert.Contains("bootstrap_resamples", Assert.Throws<SettingException>(() => (settings with { Resamples = 5 }).Validate()).Message, StringComparison.Ordinal);
    }

    /// <summary>Random 8x8 grey images: nothing generalises between them, so only memorising lowers a member's error.</summary>
    private static Torch.Tensor RandomImages(int count, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[count * 64];
        random.NextBytes(bytes);
        return torch.tensor(bytes, [count, 1, 8, 8]);
    }

    private static ExperimentConfig TinyConfig(string data) => new()
    {
        Name = "planted",
        Seed = 5,
        Device = new DeviceSettings { Type = "cpu", Bf16 = TestPrecision.Or(Bf16Mode.False) },
        Data = new DataSection { Corrupted = data, Flip = false },
        Model = new ModelSettings { ModelChannels = 16, ChannelMult = [1], NumBlocks = 1, AttnResolutions = [], Dropout = 0 },
        Loss = new LossSettings { Kind = LossKind.Edm },
        Training = new TrainingSettings { BatchSize = 16, DurationKimg = 100, Lr = 3e-3, LrWarmupKimg = 0.05, EmaHalflifeKimg = 0, TickKimg = 1000, CheckpointKimg = 1000 },
    };

    /// <summary>A model trained for <paramref name="steps"/> steps on the training images of <paramref name="prepared"/>.</summary>
    private static Trainer Train(TempDir dir, string prepared, string name, int steps)
    {
        var data = dir.File(name + "-data.safetensors");
        using (var source = Data.PreparedDataset.Open(prepared)) DatasetCorruptor.Run(source, new PixelMask(0), 0, data);
        var trainer = ExperimentComposition.StartTrainer(TinyConfig(data), Path.Combine(dir.Path, name));
        for (var i = 0; i < steps; i++) trainer.TrainStep();
        trainer.Model.eval();
        return trainer;
    }

    private static CandidateSet Candidates(CandidateRole role, Torch.Tensor images) =>
        new(role, role.ToString(), Enumerable.Range(0, (int)images.shape[0]).ToArray(), images.to(Torch.ScalarType.Float32) / 127.5 - 1, null, null);

    private const int Steps = 120;

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void The_attacks_separate_the_images_a_tiny_model_memorized_and_not_those_of_another_model()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var (members, heldOut, others) = (RandomImages(16, 1), RandomImages(64, 2), RandomImages(16, 3));
        var planted = dir.File("planted.safetensors");
        Data.PreparedDataset.Write(planted, members, heldOut, new { Source = "planted" });
        var other = dir.File("other.safetensors");
        Data.PreparedDataset.Write(other, others, null, new { Source = "other" });
        var settings = new MembershipSettings { Sigmas = [0.1, 0.2, 0.4], NoiseDraws = 2, Seed = 3 };
        var bootstrap = new BootstrapSettings { Resamples = 1000, Level = 0.99, Seed = 1 };
        var memberSet = Candidates(CandidateRole.Members, members);
        var nonMemberSet = Candidates(CandidateRole.NonMembers, heldOut);
        var source = new CandidateSource("test", 16, 16, false);
        MembershipReport Attack(Trainer trainer) => MembershipAnalyzer.Attack(new AttackTarget(trainer.Model, null), memberSet, nonMemberSet,
            source, source with { Available = 64, Scored = 64 }, settings, bootstrap, []).Report;

        MembershipReport memorized, unrelated;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var trainer = Train(dir, planted, "planted", Steps))
        {
            memorized = Attack(trainer);
            // A score depends on the image, the model and the seed, not on the batch an image shares.
            var byBatch = new[] { 64, 5 }.Select(batch => MembershipAnalyzer.Attack(new AttackTarget(trainer.Model, null), memberSet, nonMemberSet,
                source, source with { Available = 64, Scored = 64 }, settings with { BatchSize = batch }, bootstrap, []).Scores).ToArray();
            foreach (var (large, small) in byBatch[0].Zip(byBatch[1]))
                foreach (var (a, b) in large.Members.Concat(large.NonMembers).Zip(small.Members.Concat(small.NonMembers)))
                    Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Max(1, Math.Abs(a)), $"{large.Name}: score {a} in batches of 64, {b} in batches of 5");
        }
        using (var trainer = Train(dir, other, "other", Steps)) unrelated = Attack(trainer);
        output.WriteLine($"two models of {Steps} steps trained and attacked in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var (name, report) in new[] { ("trained on the members", memorized), ("trained on other images", unrelated) })
            foreach (var a in report.Attacks)
                output.WriteLine($"{name}: {a.Name} AUC {a.Auc:F3} [{a.AucInterval!.Lo:F3}, {a.AucInterval.Hi:F3}], TPR@1%FPR {a.TprAt1PctFpr:F3}; per σ: {string.Join(", ", a.PerSigma.Select(s => $"{s.Sigma}: {s.Auc:F3}"))}");

        // Margins: 16 members against 64 held-out images, 120 steps. The memorizing model ranks nearly every member above
        // every held-out image (AUC 0.98-1.0 seen; 0.85 asked). For the model that saw neither set, members and held-out
        // images are exchangeable, so a 99% interval (about ±0.2 wide at these sizes) misses 0.5 with probability about
        // 1% per attack whatever the kernels or precision.
        foreach (var attack in memorized.Attacks)
        {
            Assert.True(attack.Auc > 0.85, $"{attack.Name}: AUC {attack.Auc:F3} on the images the model was trained on, expected > 0.85");
            Assert.True(attack.AucInterval!.Lo > 0.6, $"{attack.Name}: the AUC's interval [{attack.AucInterval.Lo:F3}, {attack.AucInterval.Hi:F3}] must exclude chance");
        }
        foreach (var attack in unrelated.Attacks)
            Assert.True(attack.AucInterval!.Contains(0.5), $"{attack.Name}: AUC {attack.Auc:F3} [{attack.AucInterval.Lo:F3}, {attack.AucInterval.Hi:F3}] for a model that never saw either set, expected chance inside the interval");
    }

    [Fact]
    public void A_run_with_membership_enabled_reports_every_attack_and_the_over_time_analysis_resumes()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir)),
            ["memorization.membership.enabled=true", "memorization.bootstrap_resamples=200"]);
        var result = new ExperimentRunner(dir.File("runs")).Run(config);
        var report = MembershipReportWriter.Read(result.Run.Report)!;
        // An ambient model of masked data: the plain and the corruption-aware loss attacks and PIA, on 24 members and 8 held-out images.
        Assert.Equal(["loss", "loss_observed", "pia"], report.Attacks.Select(a => a.Name));
        Assert.True(report.MaskedModel);
        Assert.All(report.Attacks, a => Assert.True(a is { Members: 24, NonMembers: 8 } && a.AucInterval!.Lo <= a.Auc && a.Auc <= a.AucInterval.Hi, $"{a.Name}: {a}"));
        foreach (var file in new[] { "membership.csv", "membership.png", "membership-log.png" })
            Assert.True(File.Exists(Path.Combine(result.Run.Report, file)), file);
        Assert.Equal(1 + 24 + 8, File.ReadAllLines(Path.Combine(result.Run.Report, "membership.csv")).Length);
        // The copy analysis states an interval beside each rate.
        var copies = JsonSerializer.Deserialize<MemorizationReport>(File.ReadAllBytes(result.Run.ReportFile), MemorizationReportWriter.JsonOptions)!;
        var pixels = copies.Space("pixels")!.Set(MemorizationAnalyzer.SamplesSet)!;
        Assert.True(pixels.Intervals!["frac_ratio_lt_third"].Contains(pixels.FracRatioBelowThird!.Value));

        var folder = dir.File("over-time");
        var settings = new OverTimeSettings { Samples = 4, Memorization = config.Memorization.ToSettings("cpu", config.Seed) };
        var first = OverTimeAnalysis.Run(result.Run, config, folder, settings);
        Assert.Equal(2, first.Analysed); // checkpoints after 2 and 4 steps
        Assert.Equal([2L, 4L], first.Points.Select(p => p.Step));
        Assert.All(first.Points, p => Assert.Equal(4, p.Samples));
        var finished = File.GetLastWriteTimeUtc(Path.Combine(folder, first.Points[0].Folder, MembershipReportWriter.JsonFile));
        var again = OverTimeAnalysis.Run(result.Run, config, folder, settings);
        Assert.Equal(0, again.Analysed);
        Assert.Equal(finished, File.GetLastWriteTimeUtc(Path.Combine(folder, first.Points[0].Folder, MembershipReportWriter.JsonFile)));
        // A rerun with other attack settings or another sample count would mix unlike points in one chart: it stops, naming the folder.
        var moreImages = settings with { Memorization = settings.Memorization with { Membership = settings.Memorization.Membership with { MaxImages = 7 } } };
        var mismatch = Assert.Throws<InvalidDataException>(() => OverTimeAnalysis.Run(result.Run, config, folder, moreImages));
        Assert.Contains(Path.Combine(folder, first.Points[0].Folder), mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("attack settings", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("draws 3", Assert.Throws<InvalidDataException>(() => OverTimeAnalysis.Run(result.Run, config, folder, settings with { Samples = 3 })).Message, StringComparison.Ordinal);
        foreach (var file in new[] { OverTimeAnalysis.JsonFile, OverTimeAnalysis.CsvFile, OverTimeAnalysis.ChartStem + ".png" })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);

        // The trade-off table reads the run back: N = 24 training images, p = 0.5, its attacks' AUC and its intervals.
        var (runs, skipped) = FrontierSummary.Read([result.Run.Path]);
        Assert.Empty(skipped);
        var run = Assert.Single(runs);
        Assert.Equal((24, 0.5, "ambient"), (run.TrainingImages, run.P, run.Loss));
        Assert.Equal(report.Attack("loss")!.Auc, run.Values[("mia_loss_auc", "samples")]);
        Assert.True(run.Intervals.ContainsKey("frac_ratio_lt_third") && run.Intervals.ContainsKey("mia_pia_auc"));
        var frontier = dir.File("frontier");
        FrontierSummary.Write(runs, skipped, frontier);
        Assert.Contains("| 24 | 0.5 | ambient | 1 |", File.ReadAllText(Path.Combine(frontier, "frontier.md")), StringComparison.Ordinal);
        foreach (var file in new[] { "frontier.csv", "frontier-flagged-fd.png", "frontier-auc-fd.png", "frontier-auc-recall.png" })
            Assert.True(File.Exists(Path.Combine(frontier, file)), file);
    }

    [Fact]
    public void A_class_conditional_model_is_attacked_with_labels_on_both_sides_or_on_neither()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        using var init = new Generator(1);
        using var dropout = new Generator(2);
        using var model = new EdmPreconditioner(new DdpmUNet(new UNetOptions(8, 1, 0, 16, [1, 2], 1, [4], 0, false, LabelDim: 2), init, dropout));
        model.eval();
        using var target = new AttackTarget(model, null);
        var (train, heldOut) = (RandomImages(6, 1), RandomImages(8, 2));
        var labels = new Data.DatasetLabels([0, 1, 0, 1, 0, 1], [1, 1, 0, 0, 1, 0, 1, 0], ["a", "b"]);
        var labelled = dir.File("labelled.safetensors");
        Data.PreparedDataset.Write(labelled, train, heldOut, new { Source = "labelled" }, labels);
        var unlabelled = dir.File("unlabelled.safetensors");
        Data.PreparedDataset.Write(unlabelled, train, heldOut, new { Source = "unlabelled" });
        (long[]? Members, long[]? NonMembers, List<string> Notes) Read(string trainPath, string? heldOutPath)
        {
            var notes = new List<string>();
            var options = new MembershipOptions { CheckpointPath = "unused", TrainPath = trainPath, HeldOutPath = heldOutPath, OutputDirectory = dir.File("out") };
            var (members, nonMembers, _, _) = MembershipInputs.Read(options, target, notes);
            return (members.Labels, nonMembers.Labels, notes);
        }

        var both = Read(labelled, null);
        Assert.Equal([0L, 1, 0, 1, 0, 1], both.Members!);
        Assert.Equal([1L, 1, 0, 0, 1, 0, 1, 0], both.NonMembers!);
        Assert.DoesNotContain(both.Notes, n => n.Contains("null label", StringComparison.Ordinal));
        // Labels on one side only: a conditional model denoises better given the class, so neither side gets them.
        foreach (var (trainPath, heldOutPath, side) in new[] { (unlabelled, labelled, "non-members"), (labelled, unlabelled, "members") })
        {
            var one = Read(trainPath, heldOutPath);
            Assert.Null(one.Members);
            Assert.Null(one.NonMembers);
            Assert.Contains(one.Notes, n => n.Contains($"only the {side} have labels", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_training_audit_finds_a_planted_duplicate_pair_and_breaks_flagged_samples_down_by_class()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var train = MemorizationFixtures.SmoothImages(20, 7);
        var random = new Random(1);
        train[5] = MemorizationFixtures.Noisy(train[2], random, amplitude: 1); // a near-duplicate inside the training set
        var fresh = MemorizationFixtures.SmoothImages(6, 8);
        var samples = new List<byte[]> { train[0], train[9], train[12], train[17] }.Concat(fresh).ToList();
        var trainPath = MemorizationFixtures.WriteTrain(dir, train, null);
        var samplesPath = dir.File("samples.safetensors");
        SafeTensors.Save(samplesPath, new Dictionary<string, Torch.Tensor>
        {
            ["samples"] = MemorizationFixtures.Stack(samples),
            ["labels"] = torch.tensor(new long[] { 0, 0, 0, 0, 1, 1, 1, 1, 1, 1 }),
        }, new Dictionary<string, string> { ["format"] = MemorizationInputs.SamplesFormat });
        var report = MemorizationAnalyzer.Run(MemorizationFixtures.Options(samplesPath, trainPath, dir.File("report")));
        var audit = report.TrainingAudit!;
        Assert.Equal(20, audit.Queried);
        Assert.Equal(2, audit.NearDuplicates); // 2 -> 5 and 5 -> 2
        Assert.Equal([(2, 5), (5, 2)], audit.Pairs.Select(p => (p.Index, p.Neighbor)).Order());
        Assert.Equal("the class each sample was drawn for", audit.ClassOf);
        Assert.Equal([(0L, 4, 4), (1L, 6, 0)], audit.ByClass.Select(c => (c.Class, c.Samples, c.Flagged)));
        Assert.Equal((1.0, 1.0), (audit.ByClass[0].Interval!.Lo, audit.ByClass[0].Interval!.Hi));
    }

    [Fact]
    public void The_cli_refuses_a_membership_attack_it_cannot_run_before_any_work_with_one_line_naming_the_file()
    {
        using var dir = new TempDir();
        var train = MemorizationFixtures.WriteTrain(dir, MemorizationFixtures.SmoothImages(4, 1), null);
        var output = dir.File("out");
        var both = CliErrorConventionTests.Run(["memorization", "--membership", "--only-membership", "--checkpoint", train, "--train", train, "-o", output]);
        Assert.Equal(1, both.Code);
        Assert.Contains("exclude one another", Assert.Single(both.ErrorLines), StringComparison.Ordinal);
        var missing = CliErrorConventionTests.Run(["memorization", "--only-membership", "--checkpoint", dir.File("none.safetensors"), "--train", train, "-o", output]);
        Assert.Equal(1, missing.Code);
        Assert.Contains("none.safetensors: no such file (the checkpoint", Assert.Single(missing.ErrorLines), StringComparison.Ordinal);
        // The checkpoint is only opened after the checks: the training set without held-out images is refused first.
        var noHeldOut = CliErrorConventionTests.Run(["memorization", "--only-membership", "--checkpoint", train, "--train", train, "-o", output]);
        Assert.Equal(1, noHeldOut.Code);
        Assert.Contains("0 held-out image(s) (heldout_images), expected at least 2", Assert.Single(noHeldOut.ErrorLines), StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }
}
