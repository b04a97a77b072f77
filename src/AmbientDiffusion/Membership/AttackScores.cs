namespace AmbientDiffusion.Membership;

/// <summary>One attack's score of every member and non-member (higher: more likely a member), and for attacks that
/// average over noise levels, the score at each level alone.</summary>
/// <param name="Name">Short name (loss, loss_observed, pia).</param>
/// <param name="Description">What the score is, one line.</param>
/// <param name="Members">Score of each member, in the member set's order.</param>
/// <param name="NonMembers">Score of each non-member.</param>
/// <param name="PerSigma">Scores at each σ alone (empty for single-level attacks).</param>
public sealed record AttackScores(string Name, string Description, double[] Members, double[] NonMembers, IReadOnlyList<SigmaScores> PerSigma);

/// <summary>The scores of an attack at one noise level.</summary>
public sealed record SigmaScores(double Sigma, double[] Members, double[] NonMembers);
