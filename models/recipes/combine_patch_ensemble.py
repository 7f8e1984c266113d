#!/usr/bin/python3
"""Recipe: one patch-classifier ONNX file whose logit is the mean of its members' logits (a seed ensemble).

    /usr/bin/python3 models/recipes/combine_patch_ensemble.py --out models/<id>-<version>.onnx MEMBER.onnx MEMBER.onnx ...

Each member is a model of train_patch_classifier.py (same contract: float32 `patches` [N, C, S, S, S] to float32
`logit` [N]), e.g. the same recipe run with another --seed. The combined graph feeds `patches` to every member
(their nodes and weights renamed m<k>/...) and gives `logit` = Mean(member logits), so inference, calibration
and the manifest's contract stay as they are; each candidate costs K times the multiply-adds. Deterministic:
the same members give the same bytes. Writes <out> and <out without .onnx>.ensemble.json (members, sha256).
"""
import argparse
import hashlib
import json
import os

import onnx
from onnx import helper

INPUT = "patches"
OUTPUT = "logit"


def renamed(member, k):
    """The member's nodes and initializers with every tensor name but the shared input prefixed m<k>/."""
    graph = member.graph
    if [i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}] != [INPUT]:
        raise SystemExit(f"member {k}: expected the single input {INPUT}")
    if [o.name for o in graph.output] != [OUTPUT]:
        raise SystemExit(f"member {k}: expected the single output {OUTPUT}")
    name = lambda n: n if n == INPUT or n == "" else f"m{k}/{n}"
    nodes = []
    for node in graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = name(node.name or f"{node.op_type}_{len(nodes)}")
        copy.input[:] = [name(n) for n in node.input]
        copy.output[:] = [name(n) for n in node.output]
        nodes.append(copy)
    initializers = []
    for tensor in graph.initializer:
        copy = onnx.TensorProto()
        copy.CopyFrom(tensor)
        copy.name = name(tensor.name)
        initializers.append(copy)
    return nodes, initializers, name(OUTPUT)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("members", nargs="+")
    args = parser.parse_args()
    if len(args.members) < 2:
        raise SystemExit("an ensemble needs at least two members")
    members = [onnx.load(path) for path in args.members]
    opsets = {tuple((o.domain, o.version) for o in m.opset_import) for m in members}
    if len(opsets) != 1:
        raise SystemExit(f"members have different opsets: {opsets}")
    nodes, initializers, logits = [], [], []
    for k, member in enumerate(members):
        n, i, out = renamed(member, k)
        nodes += n
        initializers += i
        logits.append(out)
    nodes.append(helper.make_node("Mean", logits, [OUTPUT], name="ensemble_mean"))
    first = members[0].graph
    graph = helper.make_graph(nodes, "patch_classifier_ensemble", [first.input[0]], [first.output[0]], initializers)
    model = helper.make_model(graph, opset_imports=list(members[0].opset_import), producer_name="nodus")
    model.ir_version = members[0].ir_version
    onnx.checker.check_model(model)
    onnx.save(model, args.out)
    def sha(path):
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    with open(os.path.splitext(args.out)[0] + ".ensemble.json", "w") as f:
        json.dump({"combined": "mean of the members' logits", "members": [
            {"file": os.path.basename(path), "sha256": sha(path)} for path in args.members]}, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes): mean logit of {len(members)} members")


if __name__ == "__main__":
    main()
