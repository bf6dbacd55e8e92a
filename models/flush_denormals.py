#!/usr/bin/env python3
"""Set a model's subnormal (denormal) float weights to zero, and its manifest's sha256 to the new bytes.

A weight below the smallest normal float (about 1.2e-38 in float32) adds nothing a float32 score can show,
but every multiplication by one takes a slow path on many x86 CPUs: on the Intel Xeon of the benchmark
machine, fraud-mlp's second matrix product (703 of its 2,048 weights subnormal, left there by the MLP's L2
penalty) ran about ten times slower than with them at zero. onnxruntime's own switch for this
(``session.set_denormal_as_zero``) applies only to its pool threads, not to the thread that calls ``run``,
which with one intra-op thread (streamscore's default) does all the work, so the weights themselves are fixed.

Usage::

    python models/flush_denormals.py models/fraud-mlp/1 [more version directories]

Each directory holds ``model.onnx`` and ``manifest.json`` (models/MANIFEST-FORMAT.md). A model with no
subnormal weight is left byte for byte as it was. ``train_fixtures.py`` applies the same to what it exports.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


def flush_denormals(model: onnx.ModelProto) -> int:
    """Zeroes the subnormal values of the model's float initializers in place; returns how many there were."""
    flushed = 0
    for initializer in model.graph.initializer:
        values = numpy_helper.to_array(initializer)
        if values.dtype.kind != "f":
            continue
        subnormal = (values != 0) & (np.abs(values) < np.finfo(values.dtype).tiny)
        count = int(subnormal.sum())
        if count == 0:
            continue
        initializer.CopyFrom(numpy_helper.from_array(np.where(subnormal, 0, values).astype(values.dtype), initializer.name))
        flushed += count
    return flushed


def flush_version_directory(directory: Path) -> int:
    model_path = directory / "model.onnx"
    manifest_path = directory / "manifest.json"
    model = onnx.load(str(model_path))
    flushed = flush_denormals(model)
    if flushed == 0:
        return 0
    onnx.checker.check_model(model)
    model_bytes = model.SerializeToString()
    model_path.write_bytes(model_bytes)
    # Only the checksum's text changes: manifests are laid out by whoever wrote them.
    text = manifest_path.read_text()
    old = json.loads(text)["sha256"]
    manifest_path.write_text(text.replace(old, hashlib.sha256(model_bytes).hexdigest(), 1))
    return flushed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    for directory in argv:
        flushed = flush_version_directory(Path(directory))
        print(f"{directory}: {flushed} subnormal weight{'' if flushed == 1 else 's'} set to zero")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
