#!/usr/bin/env python3
"""Train the float64 test fixtures: a HistGradientBoostingClassifier served with float64 inputs.

Why float64 inputs exist: scikit-learn's HistGradientBoosting compares float64 feature values with float64
split thresholds. An ONNX export with float32 inputs rounds both to float32, so a value just above a
threshold can round onto it and take the other branch. On this data set, the float32 export below misses
scikit-learn's score on a few test events by up to a few thousandths, while the float64 model reproduces
every score to about 1e-16.

* ``test/fixtures/models/fraud-hgb/1/``: the model with float64 inputs (manifest input ``type: float64``),
  golden rows with float64 features and scikit-learn's float64 scores.
* ``test/fixtures/models/fraud-hgb-float32/1/``: the same fit exported by skl2onnx with
  ``FloatTensorType``, golden rows with the float32 features and the same scikit-learn scores, which this
  export misses on the events it rounds across a threshold (they are added to both golden sets).

How the float64 model is exported: skl2onnx 1.20's ``DoubleTensorType`` export of this model is unusable
with onnxruntime 1.30. It declares a float64 ``probabilities`` output on ``TreeEnsembleClassifier``, which
onnxruntime only computes in float32, so the session does not load; with that declaration corrected, the
split thresholds are still float32 attributes (``nodes_values``, nudged for float32 inputs) compared with
float64 inputs, and 55 of 10,000 test events moved, by up to 0.047. So this script writes the trees into
``ai.onnx.ml`` opset 5's ``TreeEnsemble`` (float64 thresholds and leaf values, the ones scikit-learn
fitted) followed by the baseline, a sigmoid and the two-column probabilities, all in float64.

skl2onnx 1.20 also fails to convert any HistGradientBoosting model with onnx 1.20 ("Expected an int, got a
boolean": it passes a Python bool among the integers of ``nodes_missing_value_tracks_true``);
``_integer_missing_value_tracks`` below converts it to an int on the way.

Both manifests carry ``train.py``'s monitoring entries (``add_monitoring``): a baseline over the test split as
each export serves it (float64 or float32 rows, its own scores) and an ``occlusion`` explanation.

Usage::

    python models/train_float64.py [--out-root DIR]
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
import skl2onnx.common.tree_ensemble
import sklearn
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from threadpoolctl import threadpool_limits

# train.py and train_fixtures.py are next to this script (its directory is sys.path[0]).
from train import (
    FEATURES,
    REPO_ROOT,
    TARGET_OPSET,
    add_monitoring,
    compute_features,
    confusion_metrics,
    describe_outputs,
    f1_best_threshold,
    feature_value,
    select_golden,
    write_golden,
    write_json,
)
from train_fixtures import GOLDEN_ROWS, build_dataset

SEED = 7
HGB_PARAMS: dict[str, Any] = {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 15, "early_stopping": False}
FLOAT64_MAX_DIFF = 1e-9
# A golden event "misses" when the float32 export is this far from scikit-learn (float32 rounding of the
# score itself stays below 1e-7).
MISSED_BY = 1e-4


def _integer_missing_value_tracks(add_node: Any) -> Any:
    def patched(*args: Any, nodes_missing_value_tracks_true: Any = 0, **kwargs: Any) -> Any:
        return add_node(*args, nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true), **kwargs)

    return patched


skl2onnx.common.tree_ensemble.add_node = _integer_missing_value_tracks(skl2onnx.common.tree_ensemble.add_node)


def compute_features_float64(records: list[dict[str, Any]]) -> np.ndarray:
    """The float64 model input: train.py's interpreter without the final cast to float32."""
    rows = np.array([[feature_value(r, f) for f in FEATURES] for r in records], dtype=np.float64)
    assert np.all(np.isfinite(rows))
    return rows


def tree_ensemble_float64(clf: HistGradientBoostingClassifier) -> onnx.ModelProto:
    """The fitted trees as one float64 ``TreeEnsemble`` (ai.onnx.ml 5): raw score, + baseline, sigmoid."""
    assert clf.n_trees_per_iteration_ == 1, "binary classification only"
    roots: list[int] = []
    features: list[int] = []
    splits: list[float] = []
    missing_goes_true: list[int] = []
    true_ids: list[int] = []
    true_is_leaf: list[int] = []
    false_ids: list[int] = []
    false_is_leaf: list[int] = []
    leaf_weights: list[float] = []
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        assert not nodes["is_categorical"].any() and not nodes[0]["is_leaf"]
        # TreeEnsemble numbers interior nodes and leaves separately, across all trees.
        index: dict[int, int] = {}
        for i, node in enumerate(nodes):
            if node["is_leaf"]:
                index[i] = len(leaf_weights)
                leaf_weights.append(float(node["value"]))
        interior = [i for i, node in enumerate(nodes) if not node["is_leaf"]]
        index.update({i: len(features) + k for k, i in enumerate(interior)})
        roots.append(index[0])
        for i in interior:
            node = nodes[i]
            features.append(int(node["feature_idx"]))
            splits.append(float(node["num_threshold"]))  # scikit-learn goes left when x <= threshold
            missing_goes_true.append(int(node["missing_go_to_left"]))
            for child, ids, is_leaf in ((int(node["left"]), true_ids, true_is_leaf), (int(node["right"]), false_ids, false_is_leaf)):
                ids.append(index[child])
                is_leaf.append(int(nodes[child]["is_leaf"]))
    ensemble = helper.make_node(
        "TreeEnsemble",
        ["features"],
        ["raw_score"],
        domain="ai.onnx.ml",
        aggregate_function=1,  # SUM
        post_transform=0,  # NONE
        n_targets=1,
        tree_roots=roots,
        nodes_featureids=features,
        nodes_splits=numpy_helper.from_array(np.array(splits, np.float64)),
        nodes_modes=numpy_helper.from_array(np.zeros(len(features), np.uint8)),  # BRANCH_LEQ
        nodes_missing_value_tracks_true=missing_goes_true,
        nodes_truenodeids=true_ids,
        nodes_trueleafs=true_is_leaf,
        nodes_falsenodeids=false_ids,
        nodes_falseleafs=false_is_leaf,
        leaf_targetids=[0] * len(leaf_weights),
        leaf_weights=numpy_helper.from_array(np.array(leaf_weights, np.float64)),
    )
    baseline = np.asarray(clf._baseline_prediction, np.float64).reshape(1, 1)
    graph = helper.make_graph(
        [
            ensemble,
            helper.make_node("Add", ["raw_score", "baseline"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["positive"]),
            helper.make_node("Sub", ["one", "positive"], ["negative"]),
            helper.make_node("Concat", ["negative", "positive"], ["probabilities"], axis=1),
        ],
        "fraud-hgb",
        [helper.make_tensor_value_info("features", TensorProto.DOUBLE, [None, len(FEATURES)])],
        [helper.make_tensor_value_info("probabilities", TensorProto.DOUBLE, [None, 2])],
        [numpy_helper.from_array(baseline, "baseline"), numpy_helper.from_array(np.ones((1, 1)), "one")],
    )
    opsets = [helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 5)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="train_float64.py")
    model.ir_version = helper.find_min_ir_version_for(opsets)
    onnx.checker.check_model(model, full_check=True)
    return model


def skl2onnx_float32(clf: HistGradientBoostingClassifier) -> onnx.ModelProto:
    """skl2onnx's standard export, float32 inputs, as train.py exports fraud-gbm."""
    model = convert_sklearn(
        clf,
        name="fraud-hgb-float32",
        initial_types=[("features", FloatTensorType([None, len(FEATURES)]))],
        options={id(clf): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    opsets = sorted(model.opset_import, key=lambda o: o.domain)  # as train.py: reproducible bytes
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    onnx.checker.check_model(model)
    return model


def onnx_scores(model_bytes: bytes, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {"features": X})
    return probabilities[:, 1].astype(np.float64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-root", type=Path, default=REPO_ROOT, help="base of the output directories")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with threadpool_limits(limits=1):  # scikit-learn's OpenMP sums: same bits on any number of cores
        return run(args.out_root, started)


def run(out_root: Path, started: float) -> int:
    data = build_dataset(SEED)
    X64 = compute_features_float64(data.events)
    assert np.array_equal(X64.astype(np.float32), data.X), "float64 features round to train.py's float32 ones"
    y, idx_train, idx_val, idx_test = data.y, data.idx_train, data.idx_val, data.idx_test
    clf = HistGradientBoostingClassifier(random_state=SEED, **HGB_PARAMS).fit(X64[idx_train], y[idx_train])

    test_scores = clf.predict_proba(X64[idx_test])[:, 1]
    threshold = f1_best_threshold(y[idx_val], clf.predict_proba(X64[idx_val])[:, 1])
    metrics = {
        "split": "test",
        "roc_auc": round(float(roc_auc_score(y[idx_test], test_scores)), 6),
        "average_precision": round(float(average_precision_score(y[idx_test], test_scores)), 6),
        "at_threshold": confusion_metrics(y[idx_test], test_scores, threshold),
    }

    float64_model = tree_ensemble_float64(clf)
    float32_model = skl2onnx_float32(clf)
    float64_diff = np.abs(onnx_scores(float64_model.SerializeToString(), X64[idx_test]) - test_scores)
    float32_diff = np.abs(onnx_scores(float32_model.SerializeToString(), data.X[idx_test]) - test_scores)
    assert float64_diff.max() < FLOAT64_MAX_DIFF, f"float64 ONNX differs from sklearn by {float64_diff.max()}"
    missed = idx_test[float32_diff > MISSED_BY]
    assert len(missed) > 0, "the float32 export reproduced every test event: no fixture to show"

    golden, golden_selected = select_golden(y[idx_test], test_scores, GOLDEN_ROWS, data.golden_rng())
    extra = np.setdiff1d(missed, idx_test[golden])
    golden_global = np.concatenate([idx_test[golden], extra])
    # The added events were chosen, not drawn: "m", weight 0 when golden rows stand for the test split.
    golden_selected = {
        "groups": golden_selected["groups"] + "m" * len(extra),
        "weights": {**golden_selected["weights"], "m": 0.0},
    }
    golden_events = [data.events[i] for i in golden_global]
    golden_scores = clf.predict_proba(X64[golden_global])[:, 1]
    summary = {
        "test_events": len(idx_test),
        "float64_max_diff": float(float64_diff.max()),
        "float32_max_diff": float(float32_diff.max()),
        f"float32_events_missed_by_more_than_{MISSED_BY:g}": int(len(missed)),
        "missed_event_ids": [data.events[i]["event_id"] for i in missed],
    }
    common = {
        "seed": SEED,
        "data": "synthetic card transactions; generating process in models/train.py and models/README.md",
        "estimator": "sklearn.ensemble.HistGradientBoostingClassifier, fitted on float64 features",
        "params": HGB_PARAMS,
        "metrics": metrics,
        "threshold_rule": "maximises F1 on the validation split, rounded to 2 decimals",
        "float32_versus_float64_on_the_test_split": summary,
        "golden": {"rows": len(golden_global), "of_which_missed_by_the_float32_export": int(len(missed))},
        "versions": {
            "scikit-learn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
    }
    fixtures = [
        ("fraud-hgb", "float64", float64_model, X64, "written by this script as float64 TreeEnsemble"),
        ("fraud-hgb-float32", "float32", float32_model, data.X, "skl2onnx FloatTensorType"),
    ]
    for name, input_type, model, served_X, export in fixtures:
        golden_X = served_X[golden_global]
        model_bytes = model.SerializeToString()
        version_dir = out_root / "test/fixtures/models" / name / "1"
        version_dir.mkdir(parents=True, exist_ok=True)
        (version_dir / "model.onnx").write_bytes(model_bytes)
        write_golden(version_dir / "golden.json", golden_events, golden_X, golden_scores, name, "1")
        opsets = {(o.domain or "ai.onnx"): o.version for o in model.opset_import}
        manifest = {
            "name": name,
            "version": "1",
            "file": "model.onnx",
            "sha256": hashlib.sha256(model_bytes).hexdigest(),
            "inputs": [{"name": "features", "type": input_type, "shape": [-1, len(FEATURES)]}],
            "output": {"name": "probabilities", "column": 1},
            "threshold": threshold,
            "labels": {"negative": "legit", "positive": "fraud"},
            "features": FEATURES,
            "training": {
                "script": "models/train_float64.py",
                "export": export,
                **common,
                "onnx": {"ir_version": model.ir_version, "opsets": opsets, "outputs": describe_outputs(model)},
            },
        }
        # Each export's baseline over the test split as it serves it: float64 or float32 rows, its own scores.
        manifest = add_monitoring(manifest, model_bytes, data.test_events(), served_X[idx_test], golden_selected)
        write_json(version_dir / "manifest.json", manifest)
        check(version_dir, input_type)
    print(f"fit and export in {time.perf_counter() - started:.1f}s; {json.dumps(summary)}")
    print(f"test metrics {metrics}; threshold {threshold}; golden rows {len(golden_global)}")
    return 0


def check(version_dir: Path, input_type: str) -> None:
    """Reloads the written files: checksum, golden features replay, and the golden scores' agreement."""
    manifest = json.loads((version_dir / "manifest.json").read_text())
    golden = json.loads((version_dir / "golden.json").read_text())["rows"]
    model_bytes = (version_dir / "model.onnx").read_bytes()
    assert hashlib.sha256(model_bytes).hexdigest() == manifest["sha256"], "sha256 mismatch"
    events = [row["event"] for row in golden]
    dtype = np.float64 if input_type == "float64" else np.float32
    X = np.asarray([row["features"] for row in golden], dtype=dtype)
    replayed = compute_features_float64(events) if input_type == "float64" else compute_features(events, FEATURES)
    assert np.array_equal(replayed, X), "golden features do not replay"
    diff = np.abs(onnx_scores(model_bytes, X) - np.asarray([row["score"] for row in golden]))
    if input_type == "float64":
        assert diff.max() < FLOAT64_MAX_DIFF, f"float64 ONNX differs from sklearn by {diff.max()}"
    else:
        assert diff.max() > MISSED_BY, "the float32 export should miss some golden events"
    print(f"{version_dir}: max |onnx - sklearn| on {len(golden)} golden rows = {diff.max():.3g}")


if __name__ == "__main__":
    sys.exit(main())
