#!/usr/bin/env python3
"""Reference values of StableRep's multi-positive contrastive loss for RepresentationTests. Run with Debian's PyTorch:

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/AmbientDiffusion.Tests/Fixtures/make_contrastive_reference.py

Writes contrastive_loss_reference.safetensors next to this script. For each case ("multi", "pairs") it holds the
embeddings "<case>/embeddings" [B, D], the positive ids "<case>/ids" [B] (as float32), the loss "<case>/loss" [1] and its
gradient with respect to the embeddings "<case>/grad" [B, D]; the temperature is the metadata key "temperature".
The loss is written out per anchor, in float64, independently of the product's masked-softmax formulation:
loss_i = -(1/|P(i)|) * sum_{j in P(i)} (s_ij / t - log sum_{k != i} exp(s_ik / t)), s the cosine similarity.
"""
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPERATURE = 0.1


def save_safetensors(path, tensors, metadata):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def reference_loss(embeddings, ids, temperature):
    z = embeddings / embeddings.norm(dim=1, keepdim=True)
    s = z @ z.T / temperature
    total = 0
    b = len(ids)
    for i in range(b):
        others = [k for k in range(b) if k != i]
        log_norm = torch.logsumexp(s[i, others], dim=0)
        positives = [j for j in others if ids[j] == ids[i]]
        total = total - sum(s[i, j] - log_norm for j in positives) / len(positives)
    return total / b


def main():
    generator = torch.Generator().manual_seed(13)
    cases = {
        "multi": [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 0],
        "pairs": [0, 1, 2, 3, 4, 0, 1, 2, 3, 4],
    }
    tensors = {}
    for name, ids in cases.items():
        embeddings = torch.randn(len(ids), 6, generator=generator).to(torch.float32)
        e64 = embeddings.to(torch.float64).requires_grad_(True)
        loss = reference_loss(e64, ids, TEMPERATURE)
        loss.backward()
        tensors[f"{name}/embeddings"] = embeddings
        tensors[f"{name}/ids"] = torch.tensor(ids, dtype=torch.float32)
        tensors[f"{name}/loss"] = loss.detach().reshape(1)
        tensors[f"{name}/grad"] = e64.grad
        print(name, float(loss))
    save_safetensors(os.path.join(HERE, "contrastive_loss_reference.safetensors"), tensors,
                     {"temperature": repr(TEMPERATURE), "torch": torch.__version__})


if __name__ == "__main__":
    main()
