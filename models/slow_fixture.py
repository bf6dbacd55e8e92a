#!/usr/bin/env python3
"""Build ``test/fixtures/models/fraud-slow/1/``: ``fraud-gbm@1``, made slow on purpose.

The graph is ``models/fraud-gbm/1/model.onnx`` (same input, same feature mapping, same scores) with a busy
loop added beside its trees: a ``Loop`` of ``--iterations`` products of a ``--matrix`` square matrix with a
constant one. The loop's work does not depend on the number of rows, so an inference call costs about the
same for 1 row as for 256: about 30 ms on the 2-core development machine with one onnxruntime thread,
where fraud-gbm takes 0.02 ms for 1 row and 0.7 ms for 256. Its result reaches the output as ``0 * sum(loop result)`` added to the
probabilities, so the scores are exactly fraud-gbm's, and the canary and shadow tests can show a challenger
that agrees with the champion on every score and only breaks the latency limit.

Why the loop cannot be skipped: onnxruntime folds nodes whose inputs are all constants when it loads a
session, so the loop starts from the constant plus ``0 * sum(features)``, a value only known once rows
arrive (and always 0: the service refuses a record with a non-finite feature). The constant is a signed permutation matrix: a product with it is still a full dense matrix
product for onnxruntime (which never looks for zeros), and it moves values around without rounding, so
the loop neither overflows nor sinks into slow subnormal numbers however long it runs, and the bytes do
not depend on a linear algebra library's rounding (as a random orthogonal matrix's would).

Usage::

    python models/slow_fixture.py [--iterations 750] [--matrix 128] [--out-root DIR]

The same arguments and the versions pinned in ``models/requirements.txt`` give the same bytes; the JSON
files are then formatted with ``npx biome format --write test/fixtures/models/fraud-slow/1/``, as the other
fixtures' are. Its ``golden.json`` holds the first 50 rows of fraud-gbm@1's, with their scikit-learn scores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

# train.py is next to this script, so it is importable when the script runs (its directory is sys.path[0]).
from train import MAX_ONNX_DIFF, REPO_ROOT, compute_features, write_golden, write_json

NAME = "fraud-slow"
VERSION = "1"
DIRECTORY = "test/fixtures/models/fraud-slow"
SOURCE = "models/fraud-gbm/1"
GOLDEN_ROWS = 50
SEED = 7


def read_source(root: Path) -> tuple[onnx.ModelProto, dict[str, Any], list[dict[str, Any]]]:
    """fraud-gbm@1's graph (checked against its manifest's sha256), manifest and golden rows."""
    source = root / SOURCE
    manifest = json.loads((source / "manifest.json").read_text())
    model_bytes = (source / manifest["file"]).read_bytes()
    assert hashlib.sha256(model_bytes).hexdigest() == manifest["sha256"], f"{SOURCE} does not match its manifest"
    golden = json.loads((source / "golden.json").read_text())["rows"]
    return onnx.load_from_string(model_bytes), manifest, golden


def busy_loop_body(matrix: int) -> onnx.GraphProto:
    state = [matrix, matrix]
    return helper.make_graph(
        [
            helper.make_node("MatMul", ["state_in", "permutation"], ["state_out"]),
            helper.make_node("Identity", ["condition_in"], ["condition_out"]),
        ],
        "busy_loop_body",
        [
            helper.make_tensor_value_info("iteration", TensorProto.INT64, []),
            helper.make_tensor_value_info("condition_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state_in", TensorProto.FLOAT, state),
        ],
        [
            helper.make_tensor_value_info("condition_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state_out", TensorProto.FLOAT, state),
        ],
    )


def build_graph(gbm: onnx.ModelProto, iterations: int, matrix: int) -> onnx.ModelProto:
    model = onnx.ModelProto()
    model.CopyFrom(gbm)
    graph = model.graph
    graph.name = NAME
    (probabilities,) = [node for node in graph.node if list(node.output) == ["probabilities"]]
    probabilities.output[0] = "gbm_probabilities"

    rng = np.random.default_rng(SEED)
    permutation = np.zeros((matrix, matrix), np.float32)
    permutation[np.arange(matrix), rng.permutation(matrix)] = rng.choice(np.array([-1.0, 1.0], np.float32), matrix)
    graph.initializer.extend(
        [
            numpy_helper.from_array(permutation, "permutation"),
            numpy_helper.from_array(np.array(iterations, np.int64), "iterations"),
            numpy_helper.from_array(np.array(True), "keep_going"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("ReduceSum", ["features"], ["feature_sum"], keepdims=0),
            helper.make_node("Mul", ["feature_sum", "zero"], ["zero_from_rows"]),
            helper.make_node("Add", ["permutation", "zero_from_rows"], ["loop_start"]),
            helper.make_node("Loop", ["iterations", "keep_going", "loop_start"], ["loop_end"], body=busy_loop_body(matrix)),
            helper.make_node("ReduceSum", ["loop_end"], ["loop_sum"], keepdims=0),
            helper.make_node("Mul", ["loop_sum", "zero"], ["zero_from_loop"]),
            helper.make_node("Add", ["gbm_probabilities", "zero_from_loop"], ["probabilities"]),
        ]
    )
    model.producer_name = "slow_fixture.py"
    onnx.checker.check_model(model, full_check=True)
    return model


def one_thread_session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # as the service runs it (model.intraOpThreads)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def milliseconds_per_call(session: ort.InferenceSession, X: np.ndarray, calls: int = 10) -> float:
    session.run(["probabilities"], {"features": X})
    started = time.perf_counter()
    for _ in range(calls):
        session.run(["probabilities"], {"features": X})
    return (time.perf_counter() - started) / calls * 1000


def self_check(slow_bytes: bytes, gbm_bytes: bytes, X: np.ndarray, expected: np.ndarray) -> float:
    """The slow model scores exactly as fraud-gbm does, within MAX_ONNX_DIFF of scikit-learn; prints its cost."""
    slow, gbm = one_thread_session(slow_bytes), one_thread_session(gbm_bytes)
    (slow_probabilities,) = slow.run(["probabilities"], {"features": X})
    (gbm_probabilities,) = gbm.run(["probabilities"], {"features": X})
    assert np.array_equal(slow_probabilities, gbm_probabilities), "the busy loop changed a score"
    max_diff = float(np.max(np.abs(slow_probabilities[:, 1] - expected)))
    assert max_diff < MAX_ONNX_DIFF, f"ONNX differs from scikit-learn by {max_diff}"
    for rows in (1, 256):
        batch = np.resize(X, (rows, X.shape[1]))
        slow_ms, gbm_ms = milliseconds_per_call(slow, batch), milliseconds_per_call(gbm, batch)
        print(f"  {rows:>3} row{'s' if rows > 1 else ' '}: {slow_ms:.1f} ms per call (fraud-gbm {gbm_ms:.2f} ms)")
    return max_diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=750, help="matrix products per inference call")
    parser.add_argument("--matrix", type=int, default=128, help="side of the square matrix multiplied")
    parser.add_argument("--out-root", type=Path, default=REPO_ROOT, help="base of the output directory")
    args = parser.parse_args(argv)

    gbm, gbm_manifest, gbm_golden = read_source(REPO_ROOT)
    model = build_graph(gbm, args.iterations, args.matrix)
    model_bytes = model.SerializeToString()
    version_dir = args.out_root / DIRECTORY / VERSION
    version_dir.mkdir(parents=True, exist_ok=True)
    (version_dir / "model.onnx").write_bytes(model_bytes)

    rows = gbm_golden[:GOLDEN_ROWS]
    events = [row["event"] for row in rows]
    X = compute_features(events, gbm_manifest["features"])
    assert np.array_equal(X, np.asarray([row["features"] for row in rows], np.float32)), "golden rows do not replay"
    expected = np.asarray([row["score"] for row in rows])
    print(f"{NAME}@{VERSION}: {len(model_bytes)} bytes, {args.iterations} products of {args.matrix}x{args.matrix}")
    max_diff = self_check(model_bytes, gbm.SerializeToString(), X, expected)
    write_golden(version_dir / "golden.json", events, X, expected, NAME, VERSION)

    manifest = {
        "name": NAME,
        "version": VERSION,
        "file": "model.onnx",
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        **{key: gbm_manifest[key] for key in ("inputs", "output", "threshold", "labels", "features")},
        "training": {
            "script": "models/slow_fixture.py",
            "purpose": (
                "test fixture: fraud-gbm@1's scores at a high, row-independent cost per inference call (a busy "
                "loop of matrix products), for latency rollback and shadow deadline tests"
            ),
            "source": {"model": f"{gbm_manifest['name']}@{gbm_manifest['version']}", "sha256": gbm_manifest["sha256"]},
            "busy_loop": {"iterations": args.iterations, "matrix": args.matrix, "seed": SEED},
            "golden": {"rows": GOLDEN_ROWS, "scores": f"the first {GOLDEN_ROWS} rows of {SOURCE}/golden.json"},
            "versions": {"onnx": onnx.__version__, "onnxruntime": ort.__version__},
        },
    }
    write_json(version_dir / "manifest.json", manifest)
    print(f"  max |onnx - scikit-learn| on {GOLDEN_ROWS} golden rows = {max_diff:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
