using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Membership;

/// <summary>
/// Reads the attack's candidates: members from the clean training set (a prepared dataset, its labels), non-members
/// from its held-out split or another file, each a seeded subset beyond <see cref="MembershipSettings.MaxImages"/>,
/// and the members' training masks from the corrupted dataset; checks that they fit the model and one another,
/// naming the file that does not.
/// </summary>
public static class MembershipInputs
{
    /// <summary>Fewest non-members an attack runs with (an AUC and its bootstrap interval need more than one).</summary>
    public const int MinimumNonMembers = 2;

    /// <summary>Checks from the files' headers alone, before any work, that the attack can run: the checkpoint, the
    /// training set and the other files exist, non-members exist (held-out images, or <see cref="MembershipOptions.HeldOutPath"/>),
    /// and the corrupted dataset has one image per training image.</summary>
    public static void Check(MembershipOptions options)
    {
        options.Settings.Validate();
        options.Bootstrap.Validate();
        foreach (var (what, path) in new[] { ("checkpoint", options.CheckpointPath), ("training set", options.TrainPath), ("held-out set", options.HeldOutPath), ("corrupted dataset", options.CorruptedPath) })
            if (path is not null && !File.Exists(path)) throw new FileNotFoundException($"{path}: no such file (the {what} of the membership attacks)", path);
        int count;
        using (var prepared = PreparedDataset.Open(options.TrainPath))
        {
            count = prepared.Count;
            if (options.HeldOutPath is null && prepared.HeldOutCount < MinimumNonMembers)
                throw new InvalidDataException($"{options.TrainPath}: {prepared.HeldOutCount} held-out image(s) (heldout_images), expected at least {MinimumNonMembers} to serve as non-members; prepare the dataset with a held-out split or pass --heldout");
        }
        if (options.CorruptedPath is { } corruptedPath)
        {
            using var corrupted = CorruptedDataset.Open(corruptedPath);
            if (corrupted.Count != count)
                throw new InvalidDataException($"{corruptedPath}: {corrupted.Count} images, the training set {options.TrainPath} has {count}; the corrupted dataset must be the one made from it");
        }
    }

    /// <summary>The member and non-member sets for <paramref name="target"/>, with notes on what was left out.</summary>
    public static (CandidateSet Members, CandidateSet NonMembers, CandidateSource MemberSource, CandidateSource NonMemberSource) Read(
        MembershipOptions options, AttackTarget target, List<string> notes)
    {
        var settings = options.Settings;
        using var prepared = PreparedDataset.Open(options.TrainPath);
        var (train, heldOut) = MemorizationInputs.ReadTraining(options.TrainPath);
        var network = target.Model.Network;
        var (c, h, w) = train.ImageShape;
        if (c != network.ImageChannels || h != network.Resolution || w != network.Resolution)
            throw new InvalidDataException($"{options.TrainPath}: the training images are {c}x{h}x{w}, the model of {target.Checkpoint} takes {network.ImageChannels}x{network.Resolution}x{network.Resolution}; was it trained on this dataset?");
        ImageSet others;
        long[]? otherLabels;
        if (options.HeldOutPath is { } heldOutPath)
        {
            others = MemorizationInputs.ReadImages(heldOutPath, SetRole.HeldOut);
            MemorizationInputs.CheckCompatible(others, train);
            if (others.Count < MinimumNonMembers)
                throw new InvalidDataException($"{heldOutPath}: {others.Count} image(s), expected at least {MinimumNonMembers} non-members for the membership attacks");
            otherLabels = null;
            if (others.Source.Tensor == PreparedDataset.ImagesKey)
            {
                using var file = PreparedDataset.Open(heldOutPath);
                otherLabels = file.Labels;
            }
        }
        else
        {
            others = heldOut ?? throw new InvalidDataException($"{options.TrainPath}: no held-out images (heldout_images) to serve as non-members; prepare the dataset with a held-out split or pass --heldout");
            otherLabels = prepared.HeldOutLabels is { Length: > 0 } held ? held : null;
        }
        var memberIndices = MemorizationAnalyzer.Subset(train.Count, settings.MaxImages, settings.Seed, RandomStream.MembershipMembers);
        var otherIndices = MemorizationAnalyzer.Subset(others.Count, settings.MaxImages, settings.Seed, RandomStream.MembershipNonMembers);
        if (memberIndices.Length < train.Count) notes.Add($"members: a seeded subset of {memberIndices.Length} of {train.Count} training images (seed {settings.Seed})");
        if (otherIndices.Length < others.Count) notes.Add($"non-members: a seeded subset of {otherIndices.Length} of {others.Count} held-out images (seed {settings.Seed})");
        // A class-conditional model denoises an image better given its class, so both sides get labels or neither does.
        var labelled = network.LabelDim > 0;
        var memberLabels = labelled ? Select(prepared.Labels, memberIndices) : null;
        var nonMemberLabels = labelled ? Select(otherLabels, otherIndices) : null;
        if (labelled && (memberLabels is null || nonMemberLabels is null))
        {
            notes.Add(memberLabels is null && nonMemberLabels is null
                ? "the model is class-conditional but neither the training set nor the non-members have labels: every image is scored with the null label"
                : $"the model is class-conditional but only the {(memberLabels is null ? "non-members" : "members")} have labels: the attack would compare unlike inputs, so every image is scored with the null label");
            (memberLabels, nonMemberLabels) = (null, null);
        }

        Tensor? masks = null;
        if (target.Masking is null) notes.Add("the model takes no masks (trained on clean or noisy data): the corruption-aware attack does not apply");
        else if (options.CorruptedPath is null) notes.Add("corruption-aware attack skipped: no corrupted dataset given (the run's inputs.json names it)");
        else masks = ReadMasks(options.CorruptedPath, options.TrainPath, train.Count, (int)c, (int)h, (int)w, target.Masking.MaskChannels, memberIndices);

        var members = new CandidateSet(CandidateRole.Members, $"{train.Source.Path}:{train.Source.Tensor}", memberIndices, ToFloat(train.Images, memberIndices),
            memberLabels, masks);
        var nonMembers = new CandidateSet(CandidateRole.NonMembers, $"{others.Source.Path}:{others.Source.Tensor}", otherIndices, ToFloat(others.Images, otherIndices),
            nonMemberLabels, null);
        return (members, nonMembers,
            new CandidateSource(members.Source, train.Count, members.Count, members.Labels is not null),
            new CandidateSource(nonMembers.Source, others.Count, nonMembers.Count, nonMembers.Labels is not null));
    }

    private static long[]? Select(long[]? labels, int[] indices) => labels is null ? null : indices.Select(i => labels[i]).ToArray();

    /// <summary>uint8 images at <paramref name="indices"/> as float32 in [-1, 1].</summary>
    private static Tensor ToFloat(Tensor images, int[] indices) =>
        images.index_select(0, torch.tensor(indices.Select(i => (long)i).ToArray())).to(ScalarType.Float32) / 127.5 - 1;

    private static Tensor ReadMasks(string corruptedPath, string trainPath, int count, int c, int h, int w, int maskChannels, int[] indices)
    {
        using var corrupted = CorruptedDataset.Open(corruptedPath);
        if (corrupted.Count != count || corrupted.Channels != c || corrupted.Height != h || corrupted.Width != w)
            throw new InvalidDataException($"{corruptedPath}: {corrupted.Count} images of {corrupted.Channels}x{corrupted.Height}x{corrupted.Width}, the training set {trainPath} has {count} of {c}x{h}x{w}; the corrupted dataset must be the one made from it");
        if (corrupted.MaskChannels != maskChannels)
            throw new InvalidDataException($"{corruptedPath}: masks with {corrupted.MaskChannels} channel(s), the model takes {maskChannels}; was it trained on this file?");
        var plane = maskChannels * h * w;
        var values = new float[indices.Length * plane];
        var observation = new float[c * h * w];
        for (var b = 0; b < indices.Length; b++) corrupted.ReadSample(indices[b], observation, values.AsSpan(b * plane, plane));
        return torch.tensor(values, [indices.Length, maskChannels, h, w]);
    }
}
