#!/usr/bin/env python3
"""Build ``test/fixtures/models/fraud-poison/1/``: a model that fails on records the tests choose.

The graph is written with the ``onnx`` helper, not trained. Its score is a small logistic function of two
features, a valid probability for every healthy record:

    score = sigmoid(0.9 * log_amount + 1.6 * is_card_not_present - 6.5)

and it also looks a value up in a one-entry table (a ``Gather``) at the index ``int(amount_minor * 1e-8)``,
adding the entry (0.0) to the score. Amounts below 100,000,000 minor units (1,000,000.00 in major units;
the sample stream never comes near) give index 0 and score; a record whose ``amount_minor`` is 1e8 or more
gives an index past the table's end, and onnxruntime raises an error on any inference call that holds it.
So a test makes a record poison by the value of one field, and the manifest's feature mapping names that
field. A row of zeros (the row the service warms a session up with) scores.

Usage::

    python models/poison_fixture.py [--out-root DIR]

The same versions pinned in ``models/requirements.txt`` give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

# train.py is next to this script, so it is importable when the script runs (its directory is sys.path[0]).
from train import REPO_ROOT, compute_features, generate_dataset, write_golden, write_json

NAME = "fraud-poison"
VERSION = "1"
DIRECTORY = "test/fixtures/models/fraud-poison"
POISON_FROM_AMOUNT_MINOR = 100_000_000
WEIGHTS = [0.9, 1.6]
BIAS = -6.5
GOLDEN_ROWS = 50

FEATURES: list[dict[str, Any]] = [
    {"name": "log_amount", "field": "amount_minor", "transforms": [{"op": "scale", "factor": 0.01}, {"op": "log1p"}]},
    {"name": "is_card_not_present", "field": "channel", "transforms": [{"op": "in_set", "values": ["ECOMMERCE", "MOTO"]}]},
    # The lookup index: 0 for every real amount, past the one-entry table from 1e8 minor units on.
    {"name": "amount_bucket", "field": "amount_minor", "transforms": [{"op": "scale", "factor": 1 / POISON_FROM_AMOUNT_MINOR}]},
]


def build_graph() -> onnx.ModelProto:
    initializers = [
        numpy_helper.from_array(np.array([0], np.int64), "first_column"),
        numpy_helper.from_array(np.array([2], np.int64), "bucket_column"),
        numpy_helper.from_array(np.array([3], np.int64), "columns_end"),
        numpy_helper.from_array(np.array([1], np.int64), "column_axis"),
        numpy_helper.from_array(np.array(WEIGHTS, np.float32).reshape(2, 1), "weights"),
        numpy_helper.from_array(np.array([BIAS], np.float32), "bias"),
        numpy_helper.from_array(np.array([0.0], np.float32), "lookup_table"),
        numpy_helper.from_array(np.array([[1.0]], np.float32), "one"),
    ]
    nodes = [
        helper.make_node("Slice", ["features", "first_column", "bucket_column", "column_axis"], ["scored_columns"]),
        helper.make_node("MatMul", ["scored_columns", "weights"], ["weighted"]),
        helper.make_node("Add", ["weighted", "bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["logistic"]),
        helper.make_node("Slice", ["features", "bucket_column", "columns_end", "column_axis"], ["bucket"]),
        helper.make_node("Cast", ["bucket"], ["bucket_index"], to=TensorProto.INT64),
        # Out of range for any index but 0 (and -1): onnxruntime raises "indices element out of data bounds".
        helper.make_node("Gather", ["lookup_table", "bucket_index"], ["looked_up"], axis=0),
        helper.make_node("Add", ["logistic", "looked_up"], ["positive"]),
        helper.make_node("Sub", ["one", "positive"], ["negative"]),
        helper.make_node("Concat", ["negative", "positive"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        NAME,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, len(FEATURES)])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], producer_name="poison_fixture.py")
    model.ir_version = 8  # what onnxruntime >= 1.20 and onnxruntime-node load, as train.py's models
    onnx.checker.check_model(model, full_check=True)
    return model


def expected_scores(X: np.ndarray) -> np.ndarray:
    logit = X[:, 0].astype(np.float64) * WEIGHTS[0] + X[:, 1].astype(np.float64) * WEIGHTS[1] + BIAS
    return np.asarray([1 / (1 + math.exp(-value)) for value in logit])


def self_check(model_bytes: bytes, X: np.ndarray, scores: np.ndarray) -> float:
    """Healthy rows score as the formula says; a poison row and a batch holding one fail; zeros score."""
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {"features": X})
    max_diff = float(np.max(np.abs(probabilities[:, 1] - scores)))
    assert max_diff < 1e-6, f"ONNX differs from the formula by {max_diff}"
    session.run(["probabilities"], {"features": np.zeros((1, len(FEATURES)), np.float32)})
    poisoned = X.copy()
    poisoned[3, 2] = np.float32(5_000_000_000 / POISON_FROM_AMOUNT_MINOR)
    try:
        session.run(["probabilities"], {"features": poisoned})
    except Exception as error:  # onnxruntime raises its own Fail type
        assert "out of data bounds" in str(error), error
    else:
        raise AssertionError("a batch holding a poison row scored")
    return max_diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-root", type=Path, default=REPO_ROOT, help="base of the output directory")
    args = parser.parse_args(argv)

    model = build_graph()
    model_bytes = model.SerializeToString()
    version_dir = args.out_root / DIRECTORY / VERSION
    version_dir.mkdir(parents=True, exist_ok=True)
    (version_dir / "model.onnx").write_bytes(model_bytes)

    events, _ = generate_dataset(np.random.default_rng(7), GOLDEN_ROWS)
    X = compute_features(events, FEATURES)
    scores = expected_scores(X)
    max_diff = self_check(model_bytes, X, scores)
    write_golden(version_dir / "golden.json", events, X, scores, NAME, VERSION)

    manifest = {
        "name": NAME,
        "version": VERSION,
        "file": "model.onnx",
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        "inputs": [{"name": "features", "type": "float32", "shape": [-1, len(FEATURES)]}],
        "output": {"name": "probabilities", "column": 1},
        "threshold": 0.5,
        "labels": {"negative": "legit", "positive": "fraud"},
        "features": FEATURES,
        "training": {
            "script": "models/poison_fixture.py",
            "purpose": (
                "test fixture: onnxruntime raises an error on every inference call holding a record whose "
                f"amount_minor is {POISON_FROM_AMOUNT_MINOR} or more (a Gather index past its table); every "
                "other record scores sigmoid(0.9 * log_amount + 1.6 * is_card_not_present - 6.5)"
            ),
            "poison_from_amount_minor": POISON_FROM_AMOUNT_MINOR,
            "golden": {"rows": GOLDEN_ROWS, "scores": "the formula above, in float64, on the float32 rows"},
            "versions": {"onnx": onnx.__version__, "onnxruntime": ort.__version__},
        },
    }
    write_json(version_dir / "manifest.json", manifest)
    print(f"{NAME}@{VERSION}: {len(model_bytes)} bytes; max |onnx - formula| on {GOLDEN_ROWS} rows = {max_diff:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
