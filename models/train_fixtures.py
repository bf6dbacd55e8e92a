#!/usr/bin/env python3
"""Train the other model versions that streamscore's tests and benchmarks load, next to ``fraud-gbm/1``.

Each one is written in the layout of ``models/train.py`` (``<dir>/<name>/<version>/`` with ``model.onnx``,
``manifest.json`` and ``golden.json``; format: ``models/MANIFEST-FORMAT.md``) and passes the same
self-check. The data set, the feature mapping (``FEATURES``), the feature interpreter, the
train/validation/test split, the threshold rule, the golden-row selection and the ONNX opsets all come
from ``train.py`` by import, so every model here sees exactly the rows ``fraud-gbm`` was trained on.

* ``models/fraud-mlp/1/``: StandardScaler + MLPClassifier(64, 32), for benchmarks. It has more ONNX nodes
  than fraud-gbm (more cost per call) and far less work per row.
* ``models/fraud-forest/1/``: RandomForestClassifier (100 trees, depth <= 8), for benchmarks: a larger tree
  ensemble than fraud-gbm (more cost per row).
* ``test/fixtures/models/fraud-logreg/1/``: a LogisticRegression exported with ``zipmap`` off, a valid model.
* ``test/fixtures/models/fraud-logreg-zipmap/1/``: the same LogisticRegression exported with skl2onnx's
  defaults (ZipMap on), so ``output_probability`` is a sequence of maps. The service must refuse it and say
  how to re-export.
* ``test/fixtures/models/fraud-gbm-v2/2/``: ``fraud-gbm`` version ``2`` for hot-swap tests, i.e. train.py's
  model and data with seed 8 (its model.onnx is byte-identical to the one ``train.py --seed 8`` writes).
* ``test/fixtures/models/fraud-{mlp,gbm,logreg}-dynamic-width/1/``: fraud-mlp, fraud-gbm and fraud-logreg
  exported with a dynamic input width (``FloatTensorType([None, None])``). The MLP's matrix product checks
  the width it gets, so the service serves it; the tree ensemble also runs on wider rows and the linear
  classifier on narrower ones, so the service refuses both and asks for a fixed width.

Every manifest also gets the monitoring entries of ``train.py``'s ``add_monitoring``: a ``baseline`` counted
over the test split and an ``explanation`` (``linear`` for the logistic regressions, ``occlusion`` for the rest).

Usage::

    python models/train_fixtures.py [--only NAME ...] [--out-root DIR] [--manifest-only]

``--out-root`` replaces the repository root as the base of the directories above (to compare a rerun's
bytes, for example). The same seeds and the versions pinned in ``models/requirements.txt`` give the same
bytes. ``--manifest-only`` fits nothing: it rewrites only each manifest's ``baseline``, ``explanation`` and
golden selection from the ``model.onnx`` already there, for the fits another machine made (fraud-mlp,
fraud-logreg and fraud-logreg-zipmap come out a little different here; models/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
from onnx import numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

# train.py is next to this script, so it is importable when the script runs (its directory is sys.path[0]).
from train import (
    FEATURES,
    GBM_PARAMS,
    MAX_ONNX_DIFF,
    REPO_ROOT,
    SCHEMA_PATH,
    TARGET_OPSET,
    add_monitoring,
    check_against_schema,
    compute_features,
    confusion_metrics,
    f1_best_threshold,
    generate_dataset,
    onnx_scores,
    score_output,
    select_golden,
    served_scores,
    self_check,
    write_golden,
    write_json,
)

DATA_ROWS = 50_000  # train.py's defaults
GOLDEN_ROWS = 300

# Hyperparameters (written into each manifest). The MLP's alpha is the L2 penalty that keeps it from
# overfitting the label noise (alpha 1e-4, the default, gives test ROC AUC 0.862; 0.1 gives 0.881).
MLP_PARAMS: dict[str, Any] = {
    "hidden_layer_sizes": [64, 32],
    "activation": "relu",
    "solver": "adam",
    "alpha": 0.1,
    "batch_size": 200,
    "learning_rate_init": 0.001,
    "max_iter": 300,
    "tol": 1e-4,
    "n_iter_no_change": 10,
}
FOREST_PARAMS: dict[str, Any] = {"n_estimators": 100, "max_depth": 8, "min_samples_leaf": 20, "max_features": "sqrt"}
LOGREG_PARAMS: dict[str, Any] = {"C": 1.0, "solver": "lbfgs", "max_iter": 1000}


def make_mlp(seed: int) -> Pipeline:
    params = {**MLP_PARAMS, "hidden_layer_sizes": tuple(MLP_PARAMS["hidden_layer_sizes"])}
    return Pipeline([("scaler", StandardScaler()), ("mlp", MLPClassifier(random_state=seed, **params))])


def make_forest(seed: int) -> RandomForestClassifier:
    # One job: with several, predict_proba adds the trees' probabilities up in whatever order the threads
    # finish, which changes the last bits of the scores (and so golden.json) from run to run.
    return RandomForestClassifier(random_state=seed, n_jobs=1, **FOREST_PARAMS)


def make_logreg(seed: int) -> LogisticRegression:
    return LogisticRegression(random_state=seed, **LOGREG_PARAMS)


def make_gbm(seed: int) -> GradientBoostingClassifier:
    return GradientBoostingClassifier(random_state=seed, **GBM_PARAMS)  # exactly train.py's


@dataclass(frozen=True)
class Fixture:
    key: str  # --only name
    directory: str  # relative to the output root; the version directory goes below it
    name: str  # manifest name
    version: str
    seed: int  # data, split, model and golden selection, as train.py's --seed
    estimator: str  # written into the manifest
    params: dict[str, Any]
    build: Callable[[int], Any]  # seed -> unfitted estimator; fixtures with the same build and seed share one fit
    zipmap: bool  # skl2onnx's default output (a sequence of maps) instead of a probabilities tensor
    purpose: str
    # Input shape [None, None] instead of [None, 8]: the graph does not say how many columns it reads.
    dynamic_width: bool = False


FIXTURES = [
    Fixture(
        key="fraud-mlp",
        directory="models/fraud-mlp",
        name="fraud-mlp",
        version="1",
        seed=7,
        estimator="sklearn.pipeline.Pipeline(StandardScaler, sklearn.neural_network.MLPClassifier)",
        params={"scaler": "StandardScaler()", "mlp": MLP_PARAMS},
        build=make_mlp,
        zipmap=False,
        purpose=(
            "benchmarks: a small neural network; it costs more than fraud-gbm per call (more ONNX nodes) and "
            "much less per row (two small matrix products against 150 trees)"
        ),
    ),
    Fixture(
        key="fraud-forest",
        directory="models/fraud-forest",
        name="fraud-forest",
        version="1",
        seed=7,
        estimator="sklearn.ensemble.RandomForestClassifier",
        params=FOREST_PARAMS,
        build=make_forest,
        zipmap=False,
        purpose="benchmarks: a larger tree ensemble than fraud-gbm, so more cost per row",
    ),
    Fixture(
        key="fraud-logreg",
        directory="test/fixtures/models/fraud-logreg",
        name="fraud-logreg",
        version="1",
        seed=7,
        estimator="sklearn.linear_model.LogisticRegression",
        params=LOGREG_PARAMS,
        build=make_logreg,
        zipmap=False,
        purpose="test fixture: fraud-logreg-zipmap re-exported with zipmap off, which the service accepts",
    ),
    Fixture(
        key="fraud-logreg-zipmap",
        directory="test/fixtures/models/fraud-logreg-zipmap",
        name="fraud-logreg-zipmap",
        version="1",
        seed=7,
        estimator="sklearn.linear_model.LogisticRegression",
        params=LOGREG_PARAMS,
        build=make_logreg,
        zipmap=True,
        purpose=(
            "test fixture the service must REFUSE: exported with skl2onnx's default ZipMap, so "
            "output_probability is a sequence of maps, not a tensor; fraud-logreg is the same model re-exported "
            "with options={id(model): {'zipmap': False}}"
        ),
    ),
    Fixture(
        key="fraud-gbm-v2",
        directory="test/fixtures/models/fraud-gbm-v2",
        name="fraud-gbm",
        version="2",
        seed=8,
        estimator="sklearn.ensemble.GradientBoostingClassifier",
        params=GBM_PARAMS,
        build=make_gbm,
        zipmap=False,
        purpose=(
            "test fixture: fraud-gbm version 2 for hot-swap tests; models/train.py --seed 8 gives the same "
            "model.onnx (its version directory would say 1)"
        ),
    ),
    Fixture(
        key="fraud-mlp-dynamic-width",
        directory="test/fixtures/models/fraud-mlp-dynamic-width",
        name="fraud-mlp-dynamic-width",
        version="1",
        seed=7,
        estimator="sklearn.pipeline.Pipeline(StandardScaler, sklearn.neural_network.MLPClassifier)",
        params={"scaler": "StandardScaler()", "mlp": MLP_PARAMS},
        build=make_mlp,
        zipmap=False,
        purpose=(
            "test fixture: fraud-mlp exported with a dynamic input width; its matrix product refuses rows of "
            "any other width than 8, so the service can verify the width and serves it"
        ),
        dynamic_width=True,
    ),
    Fixture(
        key="fraud-gbm-dynamic-width",
        directory="test/fixtures/models/fraud-gbm-dynamic-width",
        name="fraud-gbm-dynamic-width",
        version="1",
        seed=7,
        estimator="sklearn.ensemble.GradientBoostingClassifier",
        params=GBM_PARAMS,
        build=make_gbm,
        zipmap=False,
        purpose=(
            "test fixture the service must REFUSE: fraud-gbm@1's trees exported with a dynamic input width; the "
            "tree ensemble also runs on rows wider than 8, so the width cannot be verified"
        ),
        dynamic_width=True,
    ),
    Fixture(
        key="fraud-logreg-dynamic-width",
        directory="test/fixtures/models/fraud-logreg-dynamic-width",
        name="fraud-logreg-dynamic-width",
        version="1",
        seed=7,
        estimator="sklearn.linear_model.LogisticRegression",
        params=LOGREG_PARAMS,
        build=make_logreg,
        zipmap=False,
        purpose=(
            "test fixture the service must REFUSE: fraud-logreg exported with a dynamic input width; the linear "
            "classifier also runs on rows narrower than 8, so the width cannot be verified"
        ),
        dynamic_width=True,
    ),
]


# --------------------------------------------------------------------------------------------------------
# Data (as train.py's main builds it)
# --------------------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    seed: int
    events: list[dict[str, Any]]
    y: np.ndarray
    X: np.ndarray
    idx_train: np.ndarray
    idx_val: np.ndarray
    idx_test: np.ndarray
    rng_state: dict[str, Any]  # the generator's state after the data, where train.py picks the golden rows

    def golden_rng(self) -> np.random.Generator:
        rng = np.random.default_rng()
        rng.bit_generator.state = self.rng_state
        return rng

    def test_events(self) -> list[dict[str, Any]]:
        """The test split's events: the rows the baseline is counted over (train.py's ``add_monitoring``)."""
        return [self.events[i] for i in self.idx_test]


def build_dataset(seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    events, y = generate_dataset(rng, DATA_ROWS)
    check_against_schema(events, SCHEMA_PATH)
    X = compute_features(events, FEATURES)
    idx = np.arange(len(events))
    idx_train, idx_test = train_test_split(idx, test_size=0.2, stratify=y, random_state=seed)
    idx_train, idx_val = train_test_split(idx_train, test_size=0.125, stratify=y[idx_train], random_state=seed)
    return Dataset(seed, events, y, X, idx_train, idx_val, idx_test, rng.bit_generator.state)


# --------------------------------------------------------------------------------------------------------
# Export and artifacts
# --------------------------------------------------------------------------------------------------------


def flush_denormals(model: onnx.ModelProto) -> int:
    """Zeroes the subnormal values of the model's float initializers, which the MLP's L2 penalty leaves and
    which are slow to multiply on many x86 CPUs (models/README.md, "Subnormal weights"); returns how many."""
    flushed = 0
    for initializer in model.graph.initializer:
        values = numpy_helper.to_array(initializer)
        if values.dtype.kind != "f":
            continue
        subnormal = (values != 0) & (np.abs(values) < np.finfo(values.dtype).tiny)
        if subnormal.any():
            zeroed = np.where(subnormal, 0, values).astype(values.dtype)
            initializer.CopyFrom(numpy_helper.from_array(zeroed, initializer.name))
            flushed += int(subnormal.sum())
    return flushed


def export_onnx(estimator: Any, name: str, zipmap: bool, dynamic_width: bool = False) -> onnx.ModelProto:
    """train.py's export, for any classifier or pipeline, with ZipMap optionally left at skl2onnx's default
    and the input width optionally left dynamic."""
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    model = convert_sklearn(
        estimator,
        name=name,
        initial_types=[("features", FloatTensorType([None, None if dynamic_width else len(FEATURES)]))],
        options=None if zipmap else {id(final): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    opsets = sorted(model.opset_import, key=lambda o: o.domain)  # as train.py: reproducible bytes
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    flush_denormals(model)
    onnx.checker.check_model(model)
    return model


def _type_name(t: onnx.TypeProto) -> str:
    kind = t.WhichOneof("value")
    if kind == "tensor_type":
        return onnx.helper.tensor_dtype_to_np_dtype(t.tensor_type.elem_type).name
    if kind == "sequence_type":
        return f"sequence<{_type_name(t.sequence_type.elem_type)}>"
    if kind == "map_type":
        key = onnx.helper.tensor_dtype_to_np_dtype(t.map_type.key_type).name
        return f"map<{key}, {_type_name(t.map_type.value_type)}>"
    raise ValueError(f"unexpected ONNX type {kind}")


def describe_outputs(model: onnx.ModelProto) -> list[dict[str, Any]]:
    """train.py's output description, extended to ZipMap's sequence of maps (which has no shape)."""
    described = []
    for o in model.graph.output:
        entry: dict[str, Any] = {"name": o.name, "type": _type_name(o.type)}
        if o.type.WhichOneof("value") == "tensor_type":
            dims = o.type.tensor_type.shape.dim
            entry["shape"] = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in dims]
        described.append(entry)
    return described


def zipmap_output(model: onnx.ModelProto) -> dict[str, Any]:
    """The manifest ``output`` of a ZipMap export: names the sequence-of-maps output the service must refuse."""
    outputs = {o.name: o for o in model.graph.output}
    if set(outputs) != {"output_label", "output_probability"}:
        raise RuntimeError(f"unexpected ONNX outputs {sorted(outputs)}")
    if _type_name(outputs["output_probability"].type) != "sequence<map<int64, float32>>":
        raise RuntimeError("output_probability is not ZipMap's sequence of maps")
    return {"name": "output_probability", "column": 1}


def self_check_zipmap(model_path: Path, manifest_path: Path, golden_path: Path) -> float:
    """train.py's self_check for a ZipMap export, whose output onnxruntime returns as a list of dicts."""
    manifest = json.loads(manifest_path.read_text())
    golden = json.loads(golden_path.read_text())
    model_bytes = model_path.read_bytes()
    assert hashlib.sha256(model_bytes).hexdigest() == manifest["sha256"], "sha256 mismatch"
    events = [r["event"] for r in golden["rows"]]
    X = np.asarray([r["features"] for r in golden["rows"]], dtype=np.float32)
    assert np.array_equal(compute_features(events, manifest["features"]), X), "golden features do not replay"
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == manifest["inputs"][0]["name"] and inp.type == "tensor(float)", inp
    (out,) = [o for o in session.get_outputs() if o.name == manifest["output"]["name"]]
    assert out.type == "seq(map(int64,tensor(float)))", out.type
    expected = np.asarray([r["score"] for r in golden["rows"]])
    max_diff = float(np.max(np.abs(onnx_scores(session, manifest["output"], X) - expected)))
    assert max_diff < MAX_ONNX_DIFF, f"ONNX differs from sklearn by {max_diff}"
    return max_diff


def fitted_summary(estimator: Any) -> dict[str, Any]:
    """What the fit ended up with, for the provenance block."""
    if isinstance(estimator, Pipeline):
        mlp = estimator.steps[-1][1]
        n_weights = sum(w.size for w in mlp.coefs_) + sum(b.size for b in mlp.intercepts_)
        return {"epochs": int(mlp.n_iter_), "weights": int(n_weights), "final_loss": round(float(mlp.loss_), 6)}
    if isinstance(estimator, RandomForestClassifier):
        return {"nodes": int(sum(t.tree_.node_count for t in estimator.estimators_))}
    if isinstance(estimator, LogisticRegression):
        return {
            "iterations": int(estimator.n_iter_[0]),
            "coef": [round(float(c), 6) for c in estimator.coef_[0]],
            "intercept": round(float(estimator.intercept_[0]), 6),
        }
    if isinstance(estimator, GradientBoostingClassifier):
        return {"trees": int(estimator.n_estimators_)}
    return {}


def build_fixture(fx: Fixture, data: Dataset, clf: Any, fit_seconds: float, out_root: Path) -> dict[str, Any]:
    X, y, idx_val, idx_test = data.X, data.y, data.idx_val, data.idx_test
    val_scores = clf.predict_proba(X[idx_val])[:, 1]
    test_scores = clf.predict_proba(X[idx_test])[:, 1]
    threshold = f1_best_threshold(y[idx_val], val_scores)
    roc_auc = roc_auc_score(y[idx_test], test_scores)
    avg_precision = average_precision_score(y[idx_test], test_scores)
    at_threshold = confusion_metrics(y[idx_test], test_scores, threshold)

    model = export_onnx(clf, fx.name, fx.zipmap, fx.dynamic_width)
    model_bytes = model.SerializeToString()
    version_dir = out_root / fx.directory / fx.version
    version_dir.mkdir(parents=True, exist_ok=True)
    model_path = version_dir / "model.onnx"
    model_path.write_bytes(model_bytes)

    golden_idx, golden_selected = select_golden(y[idx_test], test_scores, GOLDEN_ROWS, data.golden_rng())
    golden_global = idx_test[golden_idx]
    golden_X = X[golden_global]
    golden_scores = clf.predict_proba(golden_X.astype(np.float32))[:, 1]
    golden_path = version_dir / "golden.json"
    write_golden(golden_path, [data.events[i] for i in golden_global], golden_X, golden_scores, fx.name, fx.version)

    opsets = {(o.domain or "ai.onnx"): o.version for o in model.opset_import}
    manifest = {
        "name": fx.name,
        "version": fx.version,
        "file": model_path.name,
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        "inputs": [{"name": "features", "type": "float32", "shape": [-1, len(FEATURES)]}],
        "output": zipmap_output(model) if fx.zipmap else score_output(model),
        "threshold": threshold,
        "labels": {"negative": "legit", "positive": "fraud"},
        "features": FEATURES,
        "training": {
            "script": "models/train_fixtures.py",
            "command": f"python models/train_fixtures.py --only {fx.key}",
            "purpose": fx.purpose,
            "seed": fx.seed,
            "data": "synthetic card transactions; generating process in models/train.py and models/README.md",
            "rows": {
                "total": len(data.events),
                "train": len(data.idx_train),
                "validation": len(idx_val),
                "test": len(idx_test),
            },
            "fraud_rate": round(float(y.mean()), 6),
            "estimator": fx.estimator,
            "params": fx.params,
            "fitted": fitted_summary(clf),
            "metrics": {
                "split": "test",
                "roc_auc": round(float(roc_auc), 6),
                "average_precision": round(float(avg_precision), 6),
                "at_threshold": at_threshold,
            },
            "threshold_rule": "maximises F1 on the validation split, rounded to 2 decimals",
            "onnx": {
                "ir_version": model.ir_version,
                "opsets": opsets,
                "target_opset": {"ai.onnx": TARGET_OPSET[""], "ai.onnx.ml": TARGET_OPSET["ai.onnx.ml"]},
                "zipmap": fx.zipmap,
                **({"input_shape": [None, None]} if fx.dynamic_width else {}),
                "outputs": describe_outputs(model),
            },
            "versions": {
                "python": ".".join(platform.python_version_tuple()[:2]),
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
                "skl2onnx": skl2onnx.__version__,
                "onnx": onnx.__version__,
                "onnxruntime": ort.__version__,
            },
            "golden": {"rows": len(golden_idx), "positives": int(y[golden_global].sum())},
        },
    }
    manifest = add_monitoring(manifest, model_bytes, data.test_events(), X[idx_test], golden_selected)
    check_fitted_coefficients(manifest)
    manifest_path = version_dir / "manifest.json"
    write_json(manifest_path, manifest)

    check = self_check_zipmap if fx.zipmap else self_check
    golden_diff = check(model_path, manifest_path, golden_path)
    # Beyond the golden rows: the whole test split (a rare float32 tree-threshold disagreement would show here).
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    test_diff = float(np.max(np.abs(onnx_scores(session, manifest["output"], X[idx_test]) - test_scores)))
    assert test_diff < MAX_ONNX_DIFF, f"{fx.key}: ONNX differs from sklearn by {test_diff} on the test split"

    print(f"{fx.key} ({fx.name}@{fx.version}, seed {fx.seed}): fit {fit_seconds:.1f}s, {fitted_summary_line(clf)}")
    print(f"  test ROC AUC {roc_auc:.4f}, average precision {avg_precision:.4f}")
    print(f"  threshold {threshold} (max F1 on validation); on test: {at_threshold}")
    print(f"  ONNX outputs: {describe_outputs(model)}; ir_version {model.ir_version}, opsets {opsets}")
    print(
        f"  self-check: max |onnx - sklearn| on {len(golden_idx)} golden rows = {golden_diff:.3g}, "
        f"on all {len(idx_test)} test rows = {test_diff:.3g}"
    )
    for path in (model_path, manifest_path, golden_path):
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        print(f"  wrote {shown} ({path.stat().st_size} bytes)")
    return manifest


def check_fitted_coefficients(manifest: dict[str, Any]) -> None:
    """A linear explanation holds the fit's coefficients and intercept (the graph's float32 copies of them;
    the provenance block rounds them to 6 decimals)."""
    explanation = manifest["explanation"]
    if explanation["method"] != "linear":
        return
    fitted = manifest["training"]["fitted"]
    assert np.allclose(explanation["coefficients"], fitted["coef"], rtol=0, atol=1e-6), "coefficients"
    assert abs(explanation["intercept"] - fitted["intercept"]) < 1e-6, "intercept"


def refresh_manifest(fx: Fixture, data: Dataset, out_root: Path) -> None:
    """``--manifest-only``: the baseline, explanation and golden selection of a fixture already written,
    computed from its model.onnx without a fit; the other files stay as they are. For fits that another CPU's
    BLAS kernels would change in the last bits (see models/README.md), whose model.onnx must stay the one
    committed."""
    version_dir = out_root / fx.directory / fx.version
    manifest_path = version_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    model_bytes = (version_dir / "model.onnx").read_bytes()
    assert hashlib.sha256(model_bytes).hexdigest() == manifest["sha256"], f"{fx.key}: sha256 mismatch"
    X_test = data.X[data.idx_test]
    scores = served_scores(model_bytes, manifest["output"], X_test).astype(np.float64)
    # The golden rows were picked with the fit's scikit-learn scores; onnxruntime's must pick the same ones.
    golden_idx, golden_selected = select_golden(data.y[data.idx_test], scores, GOLDEN_ROWS, data.golden_rng())
    golden_rows = json.loads((version_dir / "golden.json").read_text())["rows"]
    picked = [data.events[i]["event_id"] for i in data.idx_test[golden_idx]]
    assert picked == [row["event"]["event_id"] for row in golden_rows], f"{fx.key}: other golden rows"
    manifest = add_monitoring(manifest, model_bytes, data.test_events(), X_test, golden_selected)
    check_fitted_coefficients(manifest)
    write_json(manifest_path, manifest)
    shown = manifest_path.relative_to(REPO_ROOT) if manifest_path.is_relative_to(REPO_ROOT) else manifest_path
    print(f"{fx.key}: rewrote {shown} ({manifest_path.stat().st_size} bytes), model.onnx unchanged")


def fitted_summary_line(clf: Any) -> str:
    return ", ".join(f"{k} {v}" for k, v in fitted_summary(clf).items() if k not in ("coef",)) or "-"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", nargs="+", choices=[f.key for f in FIXTURES], help="write only these fixtures (default: all)"
    )
    parser.add_argument(
        "--out-root", type=Path, default=REPO_ROOT, help="base of the output directories (default: the repository)"
    )
    parser.add_argument(
        "--manifest-only",
        action="store_true",
        help="no fit: recompute each manifest's baseline and explanation from the model.onnx already written",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    # A model that stopped before converging is a broken fixture, not a warning to scroll past.
    warnings.simplefilter("error", ConvergenceWarning)
    # One BLAS/OpenMP thread: a multi-threaded matrix product sums in an order that depends on the thread
    # count, so the MLP's sklearn scores (golden.json, metrics) would change with the machine's cores.
    with threadpool_limits(limits=1):
        return run(args, started)


def run(args: argparse.Namespace, started: float) -> int:
    datasets: dict[int, Dataset] = {}
    fitted: dict[tuple[Callable[[int], Any], int], tuple[Any, float]] = {}
    for fx in FIXTURES:
        if args.only and fx.key not in args.only:
            continue
        if fx.seed not in datasets:
            data_started = time.perf_counter()
            datasets[fx.seed] = build_dataset(fx.seed)
            data = datasets[fx.seed]
            print(
                f"seed {fx.seed}: generated {len(data.events)} events, fraud rate {data.y.mean():.4f} "
                f"({time.perf_counter() - data_started:.1f}s)"
            )
        data = datasets[fx.seed]
        if args.manifest_only:
            refresh_manifest(fx, data, args.out_root)
            continue
        if (fx.build, fx.seed) not in fitted:  # fraud-logreg and fraud-logreg-zipmap share one fit
            fit_started = time.perf_counter()
            clf = fx.build(fx.seed)
            clf.fit(data.X[data.idx_train], data.y[data.idx_train])
            fitted[(fx.build, fx.seed)] = (clf, time.perf_counter() - fit_started)
        clf, fit_seconds = fitted[(fx.build, fx.seed)]
        build_fixture(fx, data, clf, fit_seconds, args.out_root)
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
