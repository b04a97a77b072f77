"""Reference ROC numbers for MembershipTests (run: /usr/bin/python3 membership_roc.py; writes membership_roc.json).

Scores: higher means "member". Rounded to two decimals so that many tie, within and across the two sets.
AUC by direct pairwise comparison (a member above a non-member counts 1, a tie 1/2), independent of the rank formula
the product uses. TPR at an FPR target: the largest TPR over all thresholds t (a score >= t is called a member) whose
FPR is at most the target, the thresholds being every distinct score and +infinity (nobody called).
"""
import json
import numpy as np

rng = np.random.default_rng(20241)
members = np.round(rng.normal(0.35, 1.0, 1500), 2)
non_members = np.round(rng.normal(0.0, 1.0, 2000), 2)

greater = (members[:, None] > non_members[None, :]).sum()
ties = (members[:, None] == non_members[None, :]).sum()
auc = (greater + 0.5 * ties) / (members.size * non_members.size)


def tpr_at(target):
    best = 0.0
    for t in np.unique(np.concatenate([members, non_members])):
        fpr = (non_members >= t).mean()
        tpr = (members >= t).mean()
        if fpr <= target and tpr > best:
            best = tpr
    return float(best)


with open("membership_roc.json", "w") as f:
    json.dump({
        "members": members.tolist(),
        "non_members": non_members.tolist(),
        "auc": float(auc),
        "tpr_at_1pct_fpr": tpr_at(0.01),
        "tpr_at_0_1pct_fpr": tpr_at(0.001),
        "ties_across_sets": int(ties),
    }, f)
    f.write("\n")
