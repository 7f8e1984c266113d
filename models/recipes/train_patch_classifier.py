#!/usr/bin/python3
"""Recipe, step 2 of 2 of the patch classifier (nodus-patch-cnn): trains the 3D CNN and exports ONNX.

    /usr/bin/python3 models/recipes/train_patch_classifier.py [--data .training/patches] [--epochs 10]
        [--name nodus-patch-cnn --version 2.0.0]  (e.g. --name nodus-sub-solid-cnn --version 1.0.0 on the
                                                    patches of build-patch-dataset.ts --sub-solid-only, or
                                                    --name nodus-small-nodule-cnn --version 1.0.0 on those of
                                                    --small-only: 3 channels, the first of the source voxels)
        [--seed 20261202]  (model n of the four gets seed + n; another seed trains another member of an
                            ensemble, as tried in the model card)

Debian's python3-torch (CPU) and python3-onnx; inference stays in onnxruntime-node. Reads the patches that
build-patch-dataset.ts wrote and trains four models with fixed seeds, in this order:

    nodus-patch-cnn-holdout-cptac    trained on lidc + lung-dx   (evaluated on cptac)
    nodus-patch-cnn-holdout-lidc     trained on lung-dx + cptac  (evaluated on lidc)
    nodus-patch-cnn-holdout-lung-dx  trained on lidc + cptac     (evaluated on lung-dx)
    nodus-patch-cnn                  trained on all three        (shipped)

CPTAC C3N-00247 holds an adenocarcinoma nobody marked, so its real candidates are not all known negatives:
after the first model (which never saw that scan) is trained, the cptac negatives it scores at or above
p = 0.2 are left out of every later training set, like LUNA16's "irrelevant" findings.

Model: 3 input channels (16^3 cubes at 1.5, 3 and 6 mm), conv 3x3x3 + batch norm + ReLU blocks 16-32-64,
each followed by 2x2x2 max pooling (16M multiply-adds per candidate), then 512 -> 64 -> 1 (the logit). Class-balanced binary cross-entropy, Adam, cosine
learning rate, augmentation by the 16 flips / axial transposes and small intensity shifts and noise.
Writes models/<id>-2.0.0.onnx and models/<id>-2.0.0.training.json (data counts, losses, seconds).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn

VERSION = "2.0.0"
SEED = 20261202
HOLDOUTS = ["cptac", "lidc", "lung-dx", None]
BACKGROUNDS = ["lidc", "lung-dx", "cptac"]
UNMARKED_LESION_EXCLUDE_P = 0.2
MODELS_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def model_id(name, holdout):
    return name + (f"-holdout-{holdout}" if holdout else "")


class PatchCnn(nn.Module):
    def __init__(self, channels):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(channels, 16),
            nn.MaxPool3d(2),
            *block(16, 32),
            nn.MaxPool3d(2),
            *block(32, 64),
            nn.MaxPool3d(2),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 8, 64), nn.ReLU(inplace=True), nn.Dropout(0.3), nn.Linear(64, 1))

    def forward(self, x):
        return self.head(self.features(x)).squeeze(1)


def load(data_dir):
    sets = {}
    for name in BACKGROUNDS:
        meta_file = os.path.join(data_dir, f"{name}.json")
        if not os.path.exists(meta_file):
            print(f"{meta_file} missing: {name} left out")
            continue
        with open(meta_file) as f:
            meta = json.load(f)
        size = meta["layout"]["size"]
        # A fine channel of the source voxels (build-patch-dataset.ts --small-only) comes before the scales'.
        channels = len(meta["layout"]["scales"]) + (1 if meta["layout"].get("fineSpacingMm") else 0)
        patches = np.fromfile(os.path.join(data_dir, f"{name}.u8"), dtype=np.uint8)
        patches = patches.reshape(-1, channels, size, size, size)
        labels = np.array([r["label"] for r in meta["rows"]], dtype=np.float32)
        assert len(labels) == len(patches), f"{name}: {len(labels)} rows, {len(patches)} patches"
        sets[name] = {"patches": patches, "labels": labels, "rows": meta["rows"], "unmarked": meta["unmarkedLesion"]}
        print(f"{name}: {len(labels)} patches, {int(labels.sum())} positive")
    return sets


def augment(x, generator):
    """Random flips of each axis, a transpose of the axial axes, intensity shift and noise (batch-wise)."""
    n = x.shape[0]
    for axis in (2, 3, 4):
        flip = torch.rand(n, generator=generator) < 0.5
        x[flip] = x[flip].flip(axis)
    transpose = torch.rand(n, generator=generator) < 0.5
    x[transpose] = x[transpose].transpose(3, 4)
    shift = (torch.rand(n, 1, 1, 1, 1, generator=generator) - 0.5) * 0.04
    noise = torch.randn(x.shape, generator=generator) * 0.01
    return (x + shift + noise).clamp(0, 1)


def predict(model, patches, batch=512):
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(patches), batch):
            x = torch.from_numpy(patches[start : start + batch].astype(np.float32) / 255.0)
            out.append(model(x).numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def train(patches, labels, epochs, channels, seed):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PatchCnn(channels)
    positives = np.flatnonzero(labels == 1)
    negatives = np.flatnonzero(labels == 0)
    # Per epoch: every positive twice (augmented differently) and twice as many negatives, drawn anew.
    per_epoch_negatives = min(len(negatives), 4 * len(positives))
    steps_per_epoch = (2 * len(positives) + per_epoch_negatives) // 64 + 1
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=epochs * steps_per_epoch)
    pos_weight = torch.tensor(per_epoch_negatives / (2 * len(positives)))
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    losses = []
    for epoch in range(epochs):
        model.train()
        order = np.concatenate([positives, positives, rng.choice(negatives, per_epoch_negatives, replace=False)])
        rng.shuffle(order)
        total = 0.0
        started = time.time()
        for step in range(steps_per_epoch):
            idx = np.sort(order[step * 64 : (step + 1) * 64])
            if len(idx) == 0:
                continue
            x = augment(torch.from_numpy(patches[idx].astype(np.float32) / 255.0), generator)
            y = torch.from_numpy(labels[idx])
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        losses.append(total / len(order))
        print(f"  epoch {epoch + 1}/{epochs}: loss {losses[-1]:.4f} ({time.time() - started:.0f} s)", flush=True)
    return model, losses


def export(model, channels, size, file):
    model.eval()
    dummy = torch.zeros(2, channels, size, size, size)
    torch.onnx.export(
        model,
        dummy,
        file,
        input_names=["patches"],
        output_names=["logit"],
        dynamic_axes={"patches": {0: "n"}, "logit": {0: "n"}},
        opset_version=13,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=".training/patches")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--only", help="comma-separated holdouts to train (cptac,lidc,lung-dx,none)")
    parser.add_argument("--name", default="nodus-patch-cnn", help="model id (holdout models: <name>-holdout-<scan>)")
    parser.add_argument("--version", default=VERSION)
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the first model (model n: seed + n)")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    sets = load(args.data)
    first = next(iter(sets.values()))
    channels, size = first["patches"].shape[1], first["patches"].shape[2]
    excluded = {}
    only = None if args.only is None else [None if h == "none" else h for h in args.only.split(",")]
    for n, holdout in enumerate(HOLDOUTS):
        if only is not None and holdout not in only:
            continue
        names = [b for b in sets if b != holdout]
        parts, label_parts, counts = [], [], {}
        for name in names:
            keep = np.ones(len(sets[name]["labels"]), dtype=bool)
            if sets[name]["unmarked"]:
                if name not in excluded:
                    raise SystemExit(f"{name} holds an unmarked lesion: train --only with holdout {name} first")
                keep &= ~excluded[name]
            parts.append(sets[name]["patches"][keep])
            label_parts.append(sets[name]["labels"][keep])
            counts[name] = {"rows": int(keep.sum()), "positives": int(sets[name]["labels"][keep].sum()),
                            "leftOutAsPossibleLesions": int((~keep).sum())}
        patches = np.concatenate(parts)
        labels = np.concatenate(label_parts)
        ident = model_id(args.name, holdout)
        print(f"{ident}: {len(labels)} patches ({int(labels.sum())} positive) from {', '.join(names)}", flush=True)
        started = time.time()
        model, losses = train(patches, labels, args.epochs, channels, args.seed + n)
        seconds = time.time() - started
        if holdout is not None and sets.get(holdout, {}).get("unmarked"):
            logits = predict(model, sets[holdout]["patches"])
            probability = 1 / (1 + np.exp(-logits))
            excluded[holdout] = (sets[holdout]["labels"] == 0) & (probability >= UNMARKED_LESION_EXCLUDE_P)
            print(f"  {holdout}: {int(excluded[holdout].sum())} real candidates scored >= {UNMARKED_LESION_EXCLUDE_P} "
                  "by the model that never saw it: left out of later training sets", flush=True)
        file = os.path.join(MODELS_DIR, f"{ident}-{args.version}.onnx")
        export(model, channels, size, file)
        with open(os.path.join(MODELS_DIR, f"{ident}-{args.version}.training.json"), "w") as f:
            json.dump({"id": ident, "version": args.version, "holdout": holdout, "trainedOn": counts, "epochs": args.epochs,
                       "seed": args.seed + n, "losses": [round(l, 5) for l in losses], "seconds": round(seconds),
                       "torch": torch.__version__, "threads": torch.get_num_threads()}, f, indent=2)
            f.write("\n")
        print(f"  wrote {file} in {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
