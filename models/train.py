#!/usr/bin/env python3
"""Train streamscore's sample fraud model (``fraud-gbm``) on synthetic card transactions.

The script is the single, reproducible source of ``models/fraud-gbm/<version>/``:

* ``model.onnx``    -- a GradientBoostingClassifier exported with skl2onnx;
* ``manifest.json`` -- identity, checksum, signature, feature mapping, threshold, provenance, and for
                       monitoring the training baseline (drift bins over the test split) and the
                       explanation (reason codes) (format: ``models/MANIFEST-FORMAT.md``);
* ``golden.json``   -- held-out events with the feature rows and scores that Python computed, which the
                       TypeScript tests replay through the serving path.

Everything is derived from ``--seed`` (default 7) with fixed constants (no wall clock), so the same seed
and the pinned library versions in ``models/requirements.txt`` give the same bytes.

Generating process (synthetic; every event has exactly the fields of ``schemas/card-transaction.avsc``)
--------------------------------------------------------------------------------------------------------
1. Accounts (5,000). Each has an ``account_id``, one card (a 16-digit test PAN: a test BIN, 9 random
   digits and a Luhn check digit), an issuing ``card_country`` (weighted towards US/GB/EU) and 1-3 known
   device fingerprints.
2. Events (``--rows``, default 50,000). For each: a uniformly drawn account; a ``channel`` with
   P(POS, ECOMMERCE, ATM, MOTO) = (0.55, 0.30, 0.10, 0.05); a ``merchant_category`` from a
   channel-specific MCC mix (ATM is always 6011; high-risk MCCs 5967/7995/4829/6051/5816 are ~4% of POS,
   ~20% of ECOMMERCE and ~15% of MOTO); a ``merchant_id`` from a pool of 40 merchants per MCC.
3. ``country`` equals ``card_country`` except for cross-border events (7% of POS/ATM, 20% of
   ECOMMERCE/MOTO), which go to another country; ``currency`` is the currency of ``country``.
4. ``amount_minor``: log-normal around an MCC-specific median (sigma 0.8), in cents, at least 50; ATM
   withdrawals are round amounts (20..500 major units).
5. ``device_id``: online only -- ECOMMERCE carries one of the account's devices (a never-seen device
   5% of the time) and is null 12% of the time; MOTO is null 95% of the time; POS/ATM always null.
   ``ip_address``: ECOMMERCE only (a documentation-range IPv4/IPv6 address), null 3% of the time.
   ``latitude``/``longitude`` (both or neither): POS/ATM terminal location near the country's centroid
   93% of the time, ECOMMERCE IP geolocation 35% of the time, MOTO never.
6. ``event_time``: epoch milliseconds in September 2025 (UTC); the day is uniform, the UTC hour follows a
   diurnal profile (quiet at night), minutes/seconds/milliseconds uniform.
7. Fraud label: Bernoulli(sigmoid(z)) with
       z = -6.0 + 0.55*(ln(amount in major units) - ln 50) + 1.1*[ECOMMERCE] + 1.3*[MOTO]
           + 1.2*[cross-border] + 0.6*[cross-border and card-not-present] + 1.4*[high-risk MCC]
           + 1.0*[device unknown and card-not-present] + 0.3*[ECOMMERCE without geolocation]
           + 0.9*[UTC hour 0..5] + N(0, 0.8^2)
   The Gaussian term stands for everything the model cannot see, so the label is learnable but noisy.
   The fraud rate comes out at about 3%.

Features
--------
The feature mapping is the ``FEATURES`` list below, written verbatim into the manifest; the script computes
the training matrix with a small interpreter of the manifest's transform ops (``compute_features``), in
float64, cast to float32 at the end, exactly as the service is meant to.

Usage::

    python models/train.py [--seed 7] [--rows 50000] [--golden-rows 300] [--out-dir models]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import platform
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import train_test_split

MODEL_NAME = "fraud-gbm"
MODEL_VERSION = "1"
REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO_ROOT / "schemas" / "card-transaction.avsc"

HIGH_RISK_MCCS = ["5967", "7995", "4829", "6051", "5816"]

# The contract with the TypeScript service: input column i of the model is FEATURES[i].
FEATURES: list[dict[str, Any]] = [
    {
        "name": "log_amount",
        "field": "amount_minor",
        "transforms": [{"op": "scale", "factor": 0.01}, {"op": "log1p"}],
    },
    {"name": "is_ecommerce", "field": "channel", "transforms": [{"op": "equals", "value": "ECOMMERCE"}]},
    {
        "name": "is_card_not_present",
        "field": "channel",
        "transforms": [{"op": "in_set", "values": ["ECOMMERCE", "MOTO"]}],
    },
    {
        "name": "is_cross_border",
        "field": "country",
        "transforms": [{"op": "differs_from_field", "field": "card_country"}],
    },
    {"name": "high_risk_mcc", "field": "merchant_category", "transforms": [{"op": "in_set", "values": HIGH_RISK_MCCS}]},
    {"name": "device_unknown", "field": "device_id", "transforms": [{"op": "is_null"}]},
    {"name": "geo_unknown", "field": "latitude", "transforms": [{"op": "is_null"}]},
    {"name": "hour_utc", "field": "event_time", "transforms": [{"op": "hour_of_day_utc"}]},
]

# ONNX opsets: conservative so that any onnxruntime >= 1.20 (and onnxruntime-node) loads the model.
TARGET_OPSET = {"": 15, "ai.onnx.ml": 3}

# Model size: 150 depth-3 trees keep the ONNX file in the tens of kilobytes.
GBM_PARAMS = {"n_estimators": 150, "max_depth": 3, "learning_rate": 0.1, "subsample": 1.0}

# Golden set composition (of --golden-rows): positives, then the highest-scoring negatives (the
# region around the threshold), then random negatives.
GOLDEN_SHARE_POSITIVE = 1 / 3
GOLDEN_SHARE_HARD_NEGATIVE = 1 / 6

MAX_ONNX_DIFF = 1e-5

# --------------------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------------------

N_ACCOUNTS = 5_000
MERCHANTS_PER_MCC = 40
TEST_BINS = ["400000", "411111", "555555", "222300"]  # card-scheme test ranges, never real cards

# country -> (issuing weight, currency, centroid latitude, centroid longitude)
COUNTRIES: dict[str, tuple[float, str, float, float]] = {
    "US": (0.45, "USD", 39.8, -98.6),
    "GB": (0.12, "GBP", 54.0, -2.0),
    "DE": (0.08, "EUR", 51.2, 10.4),
    "FR": (0.07, "EUR", 46.6, 2.2),
    "CA": (0.06, "CAD", 45.4, -75.7),
    "ES": (0.04, "EUR", 40.4, -3.7),
    "IT": (0.04, "EUR", 42.8, 12.5),
    "AU": (0.04, "AUD", -25.3, 134.0),
    "NL": (0.03, "EUR", 52.1, 5.3),
    "BR": (0.03, "BRL", -14.2, -51.9),
    "MX": (0.02, "MXN", 23.6, -102.5),
    "IN": (0.02, "INR", 21.0, 78.0),
    "RO": (0.00, "RON", 45.9, 25.0),  # destinations only: no cards issued there
    "NG": (0.00, "NGN", 9.1, 8.7),
}

CHANNELS = ["POS", "ECOMMERCE", "ATM", "MOTO"]
CHANNEL_WEIGHTS = [0.55, 0.30, 0.10, 0.05]
CROSS_BORDER_RATE = {"POS": 0.07, "ATM": 0.07, "ECOMMERCE": 0.20, "MOTO": 0.20}

# Channel -> MCC mix (weights are normalised in code).
# fmt: off
MCC_MIX: dict[str, dict[str, float]] = {
    "POS": {
        "5411": 22, "5812": 14, "5814": 12, "5541": 12, "5311": 8, "5691": 7, "5999": 7, "5732": 4,
        "4121": 4, "7011": 3, "5942": 3, "7995": 2, "6051": 1, "4829": 1,
    },
    "ECOMMERCE": {
        "5999": 18, "5732": 12, "5691": 12, "5311": 8, "4511": 8, "7011": 8, "5942": 8, "4111": 6,
        "5816": 6, "5967": 4, "7995": 4, "4829": 3, "6051": 3,
    },
    "ATM": {"6011": 1},
    "MOTO": {"5999": 25, "7011": 20, "4511": 15, "5732": 15, "5311": 10, "5967": 15},
}

# MCC -> median amount in major units.
MCC_MEDIAN_AMOUNT = {
    "5411": 45, "5812": 40, "5814": 12, "5541": 50, "5311": 70, "5691": 80, "5732": 250, "5999": 35,
    "4121": 25, "7011": 180, "5942": 20, "4511": 400, "4111": 15, "5967": 60, "7995": 100, "4829": 300,
    "6051": 250, "5816": 20,
}
# fmt: on
AMOUNT_SIGMA = 0.8
ATM_AMOUNTS = [20, 40, 60, 100, 200, 300, 500]
ATM_AMOUNT_WEIGHTS = [0.15, 0.2, 0.15, 0.2, 0.15, 0.08, 0.07]

# Relative frequency of each UTC hour 0..23 (one diurnal profile for all countries: a simplification).
HOUR_PROFILE = [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4.5, 5, 5.5, 5, 4.5, 4.5, 5, 5, 5, 4.5, 4, 3, 2.2, 1.5]
WINDOW_START_MS = 1_756_684_800_000  # 2025-09-01T00:00:00Z
WINDOW_DAYS = 30

# Fraud logit coefficients (see the module docstring).
FRAUD_INTERCEPT = -6.0
FRAUD_COEF = {
    "log_amount_rel": 0.55,
    "ecommerce": 1.1,
    "moto": 1.3,
    "cross_border": 1.2,
    "cross_border_cnp": 0.6,
    "high_risk_mcc": 1.4,
    "device_unknown_cnp": 1.0,
    "ecommerce_no_geo": 0.3,
    "night": 0.9,
}
FRAUD_NOISE_SD = 0.8
FRAUD_REFERENCE_AMOUNT = 50.0


def _normalised(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return w / w.sum()


def luhn_check_digit(digits: str) -> str:
    """Check digit that makes ``digits + check`` pass the Luhn test."""
    total = 0
    # Walking from the right, the digit next to the (future) check digit is doubled first.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


def make_accounts(rng: np.random.Generator) -> list[dict[str, Any]]:
    codes = list(COUNTRIES)
    issuing = _normalised([COUNTRIES[c][0] for c in codes])
    accounts = []
    for i in range(N_ACCOUNTS):
        body = TEST_BINS[rng.integers(len(TEST_BINS))] + "".join(str(d) for d in rng.integers(0, 10, 9))
        n_devices = int(rng.integers(1, 4))
        accounts.append(
            {
                "account_id": f"acct-{i:06d}",
                "card_number": body + luhn_check_digit(body),
                "card_country": codes[rng.choice(len(codes), p=issuing)],
                "devices": [rng.bytes(8).hex() for _ in range(n_devices)],
            }
        )
    return accounts


def make_merchants(rng: np.random.Generator) -> dict[str, list[str]]:
    """A pool of merchant ids for every MCC in use."""
    mccs = sorted({m for mix in MCC_MIX.values() for m in mix})
    return {mcc: [f"mch-{int(rng.integers(10**7)):07d}" for _ in range(MERCHANTS_PER_MCC)] for mcc in mccs}


def random_ip(rng: np.random.Generator) -> str:
    """An address from the documentation ranges (RFC 5737 / RFC 3849): realistic shape, never routable."""
    if rng.random() < 0.9:
        prefix = ["192.0.2", "198.51.100", "203.0.113"][rng.integers(3)]
        return f"{prefix}.{int(rng.integers(1, 255))}"
    return "2001:db8::" + ":".join(f"{int(x):x}" for x in rng.integers(0, 0x10000, 2))


def make_event(rng: np.random.Generator, account: dict[str, Any], merchants: dict[str, list[str]]) -> dict[str, Any]:
    """One transaction, with the Avro field names in schema order."""
    codes = list(COUNTRIES)
    channel = CHANNELS[rng.choice(len(CHANNELS), p=_normalised(CHANNEL_WEIGHTS))]
    mix = MCC_MIX[channel]
    mcc = list(mix)[rng.choice(len(mix), p=_normalised(list(mix.values())))]

    card_country = account["card_country"]
    country = card_country
    if rng.random() < CROSS_BORDER_RATE[channel]:
        others = [c for c in codes if c != card_country]
        country = others[rng.integers(len(others))]

    if channel == "ATM":
        major = ATM_AMOUNTS[rng.choice(len(ATM_AMOUNTS), p=_normalised(ATM_AMOUNT_WEIGHTS))]
        amount_minor = major * 100
    else:
        major = MCC_MEDIAN_AMOUNT[mcc] * math.exp(AMOUNT_SIGMA * rng.standard_normal())
        amount_minor = max(50, int(round(major * 100)))

    device_id = None
    if channel == "ECOMMERCE" and rng.random() >= 0.12:
        known = rng.random() >= 0.05
        device_id = account["devices"][rng.integers(len(account["devices"]))] if known else rng.bytes(8).hex()
    elif channel == "MOTO" and rng.random() >= 0.95:
        device_id = account["devices"][0]

    ip_address = random_ip(rng) if channel == "ECOMMERCE" and rng.random() >= 0.03 else None

    geo_rate = {"POS": 0.93, "ATM": 0.93, "ECOMMERCE": 0.35, "MOTO": 0.0}[channel]
    latitude = longitude = None
    if rng.random() < geo_rate:
        _, _, lat0, lon0 = COUNTRIES[country]
        latitude = round(float(np.clip(lat0 + 1.5 * rng.standard_normal(), -90, 90)), 5)
        longitude = round(float(np.clip(lon0 + 1.5 * rng.standard_normal(), -180, 180)), 5)

    day = int(rng.integers(WINDOW_DAYS))
    hour = int(rng.choice(24, p=_normalised(HOUR_PROFILE)))
    within_hour_ms = int(rng.integers(3_600_000))
    event_time = WINDOW_START_MS + (day * 24 + hour) * 3_600_000 + within_hour_ms

    return {
        "event_id": str(uuid.UUID(bytes=rng.bytes(16), version=4)),
        "account_id": account["account_id"],
        "card_number": account["card_number"],
        "card_country": card_country,
        "merchant_id": merchants[mcc][rng.integers(MERCHANTS_PER_MCC)],
        "merchant_category": mcc,
        "amount_minor": amount_minor,
        "currency": COUNTRIES[country][1],
        "country": country,
        "channel": channel,
        "device_id": device_id,
        "ip_address": ip_address,
        "latitude": latitude,
        "longitude": longitude,
        "event_time": event_time,
    }


def fraud_probability(event: dict[str, Any], noise: float) -> float:
    """P(fraud) for one event under the generating process (noise ~ N(0, FRAUD_NOISE_SD^2))."""
    c = FRAUD_COEF
    channel = event["channel"]
    cnp = channel in ("ECOMMERCE", "MOTO")
    cross_border = event["country"] != event["card_country"]
    hour = (event["event_time"] // 3_600_000) % 24
    z = FRAUD_INTERCEPT + noise
    z += c["log_amount_rel"] * (math.log(event["amount_minor"] / 100) - math.log(FRAUD_REFERENCE_AMOUNT))
    z += c["ecommerce"] * (channel == "ECOMMERCE") + c["moto"] * (channel == "MOTO")
    z += c["cross_border"] * cross_border + c["cross_border_cnp"] * (cross_border and cnp)
    z += c["high_risk_mcc"] * (event["merchant_category"] in HIGH_RISK_MCCS)
    z += c["device_unknown_cnp"] * (event["device_id"] is None and cnp)
    z += c["ecommerce_no_geo"] * (channel == "ECOMMERCE" and event["latitude"] is None)
    z += c["night"] * (hour < 6)
    return 1.0 / (1.0 + math.exp(-z))


def generate_dataset(rng: np.random.Generator, n_rows: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    accounts = make_accounts(rng)
    merchants = make_merchants(rng)
    events, labels = [], []
    for _ in range(n_rows):
        event = make_event(rng, accounts[rng.integers(len(accounts))], merchants)
        p = fraud_probability(event, FRAUD_NOISE_SD * rng.standard_normal())
        events.append(event)
        labels.append(int(rng.random() < p))
    return events, np.asarray(labels, dtype=np.int64)


def check_against_schema(events: list[dict[str, Any]], schema_path: Path) -> None:
    """Every event must have exactly the Avro record's fields, and a legal channel symbol."""
    schema = json.loads(schema_path.read_text())
    names = [f["name"] for f in schema["fields"]]
    channel_type = next(f["type"] for f in schema["fields"] if f["name"] == "channel")
    for event in events:
        if list(event) != names:
            raise ValueError(f"event fields {list(event)} differ from the schema's {names}")
        if event["channel"] not in channel_type["symbols"]:
            raise ValueError(f"bad channel {event['channel']!r}")
        if not luhn_valid(event["card_number"]) or len(event["card_number"]) != 16:
            raise ValueError("card number is not a 16-digit Luhn-valid PAN")


# --------------------------------------------------------------------------------------------------------
# Feature interpreter (the semantics of MANIFEST-FORMAT.md)
# --------------------------------------------------------------------------------------------------------


class BadRecord(ValueError):
    """A record that the service must refuse instead of scoring."""


def _json_equal(a: Any, b: Any) -> bool:
    # Compare as JSON values would in the service: true is not 1, and 1 equals 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _number(value: Any, op: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecord(f"{op} needs a number, got {value!r}")
    return float(value)


def apply_transform(value: Any, transform: dict[str, Any], record: dict[str, Any]) -> Any:
    op = transform["op"]
    if op == "scale":
        return _number(value, op) * float(transform["factor"])
    if op == "log1p":
        x = _number(value, op)
        if x < -1:
            raise BadRecord(f"log1p of {x} < -1")
        return math.log1p(x) if x > -1 else -math.inf
    if op == "clip":
        return min(max(_number(value, op), float(transform["min"])), float(transform["max"]))
    if op == "equals":
        return 1.0 if _json_equal(value, transform["value"]) else 0.0
    if op == "in_set":
        return 1.0 if any(_json_equal(value, v) for v in transform["values"]) else 0.0
    if op == "is_null":
        return 1.0 if value is None else 0.0
    if op == "differs_from_field":
        return 0.0 if _json_equal(value, record.get(transform["field"])) else 1.0
    if op == "hour_of_day_utc":
        # Floor division keeps pre-1970 (negative) timestamps on the right hour.
        return float((int(_number(value, op)) // 3_600_000) % 24)
    raise ValueError(f"unknown transform op {op!r}")


def feature_value(record: dict[str, Any], feature: dict[str, Any]) -> float:
    """One feature of one record, in float64."""
    transforms = feature.get("transforms", [])
    if any(t["op"] == "is_null" for t in transforms[1:]):
        raise ValueError(f"{feature['name']}: is_null must be the first transform")
    value = record.get(feature["field"])
    if value is None and not (transforms and transforms[0]["op"] == "is_null"):
        if "default" not in feature:
            raise BadRecord(f"{feature['name']}: field {feature['field']} is null")
        value = feature["default"]
    for transform in transforms:
        value = apply_transform(value, transform, record)
    result = 1.0 if value is True else 0.0 if value is False else _number(value, feature["name"])
    if not math.isfinite(result):
        raise BadRecord(f"{feature['name']}: non-finite value {result}")
    return result


def compute_features(records: list[dict[str, Any]], features: list[dict[str, Any]]) -> np.ndarray:
    """The float32 model input for ``records``: computed in float64, cast once at the end."""
    rows = np.array([[feature_value(r, f) for f in features] for r in records], dtype=np.float64)
    out = rows.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise BadRecord("a feature overflows float32")
    return out


# --------------------------------------------------------------------------------------------------------
# Training, export, artifacts
# --------------------------------------------------------------------------------------------------------


def f1_best_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    """The threshold (rounded to 2 decimals) that maximises F1 on (y, scores)."""
    precision, recall, thresholds = precision_recall_curve(y, scores)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = float(thresholds[int(np.argmax(f1[:-1]))])
    return round(best, 2)


def confusion_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = scores >= threshold
    tp = int(np.sum(predicted & (y == 1)))
    fp = int(np.sum(predicted & (y == 0)))
    fn = int(np.sum(~predicted & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6)}


def export_onnx(clf: GradientBoostingClassifier, n_features: int) -> onnx.ModelProto:
    model = convert_sklearn(
        clf,
        name=MODEL_NAME,
        initial_types=[("features", FloatTensorType([None, n_features]))],
        options={id(clf): {"zipmap": False}},  # plain tensors, not a sequence of maps
        target_opset=TARGET_OPSET,
    )
    # skl2onnx collects the opset domains in a set, so their order follows Python's per-process string
    # hashing; sorting them makes the serialised bytes reproducible.
    opsets = sorted(model.opset_import, key=lambda o: o.domain)
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    onnx.checker.check_model(model)
    return model


def score_output(model: onnx.ModelProto) -> dict[str, Any]:
    """The manifest's ``output`` entry, read from the graph rather than assumed."""
    outputs = {o.name: o for o in model.graph.output}
    if set(outputs) != {"label", "probabilities"}:
        raise RuntimeError(f"unexpected ONNX outputs {sorted(outputs)}")
    probs = outputs["probabilities"].type.tensor_type
    if probs.elem_type != onnx.TensorProto.FLOAT or len(probs.shape.dim) != 2:
        raise RuntimeError("probabilities is not a float32 matrix")
    return {"name": "probabilities", "column": 1}


def describe_outputs(model: onnx.ModelProto) -> list[dict[str, Any]]:
    described = []
    for o in model.graph.output:
        t = o.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]
        described.append(
            {"name": o.name, "type": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name, "shape": dims}
        )
    return described


def select_golden(
    y: np.ndarray, scores: np.ndarray, n_rows: int, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, Any]]:
    """Indices into the test set: positives, near-threshold negatives and random negatives, shuffled; and
    how they were drawn (``golden_selection``)."""
    positives = np.flatnonzero(y == 1)
    negatives = np.flatnonzero(y == 0)
    n_pos = min(len(positives), round(n_rows * GOLDEN_SHARE_POSITIVE))
    n_hard = round(n_rows * GOLDEN_SHARE_HARD_NEGATIVE)
    chosen_pos = rng.choice(positives, n_pos, replace=False)
    hard = negatives[np.argsort(-scores[negatives], kind="stable")[:n_hard]]
    rest = np.setdiff1d(negatives, hard)
    chosen_neg = rng.choice(rest, n_rows - n_pos - n_hard, replace=False)
    chosen = rng.permutation(np.concatenate([chosen_pos, hard, chosen_neg]))
    groups = {"p": (chosen_pos, positives), "t": (hard, hard), "r": (chosen_neg, rest)}
    return chosen, golden_selection(chosen, groups)


def golden_selection(chosen: np.ndarray, groups: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Each golden row's group and each group's weight: the test rows it was drawn from per row drawn.

    The golden rows over-represent frauds (a third of them against 3%) and the negatives near the threshold,
    so their raw proportions are far from the test split's; weighted by group they estimate them, which is
    how the tests check the baseline's bins against rows the service bins (test/models/baseline.test.ts).
    ``groups`` maps a one-letter code to (the rows drawn, the rows they were drawn from).
    """
    letters = np.full(len(chosen), "", dtype=object)
    for letter, (drawn, _) in groups.items():
        letters[np.isin(chosen, drawn)] = letter
    assert all(letters), "every golden row belongs to one group"
    weights = {letter: len(pool) / len(drawn) for letter, (drawn, pool) in groups.items() if len(drawn)}
    return {"groups": "".join(letters), "weights": weights}


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_golden(
    path: Path, events: list[dict[str, Any]], X: np.ndarray, scores: np.ndarray, name: str = MODEL_NAME, version: str = MODEL_VERSION
) -> None:
    # One row per line: readable diffs, small file. float(np.float32) is the float32 value exactly, so a
    # reader that rounds the parsed double to float32 (Math.fround) gets the same bits back.
    rows = [
        json.dumps({"event": e, "features": [float(v) for v in x], "score": float(s)}, ensure_ascii=False)
        for e, x, s in zip(events, X, scores, strict=True)
    ]
    header = json.dumps({"model": name, "version": version})[:-1]
    path.write_text(header + ', "rows": [\n' + ",\n".join(rows) + "\n]}\n")


def self_check(model_path: Path, manifest_path: Path, golden_path: Path) -> float:
    """Reload the written artifacts and prove they agree; returns max |onnx - sklearn| on the golden rows."""
    manifest = json.loads(manifest_path.read_text())
    golden = json.loads(golden_path.read_text())
    model_bytes = model_path.read_bytes()
    assert hashlib.sha256(model_bytes).hexdigest() == manifest["sha256"], "sha256 mismatch"

    # The golden events, after a JSON round trip, must still give the stored feature rows.
    events = [r["event"] for r in golden["rows"]]
    X = np.asarray([r["features"] for r in golden["rows"]], dtype=np.float32)
    assert np.array_equal(compute_features(events, manifest["features"]), X), "golden features do not replay"

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == manifest["inputs"][0]["name"] and inp.type == "tensor(float)", inp
    out = manifest["output"]
    (probs,) = session.run([out["name"]], {inp.name: X})
    onnx_scores = probs[:, out["column"]].astype(np.float64)
    expected = np.asarray([r["score"] for r in golden["rows"]])
    max_diff = float(np.max(np.abs(onnx_scores - expected)))
    assert max_diff < MAX_ONNX_DIFF, f"ONNX differs from sklearn by {max_diff}"
    return max_diff


# --------------------------------------------------------------------------------------------------------
# Monitoring: the baseline (drift bins) and the explanation (reason codes), MANIFEST-FORMAT.md
# --------------------------------------------------------------------------------------------------------

BASELINE_BINS = 10  # quantile bins per numeric feature and for the score, before duplicate edges go
# A feature whose last transform is one of these is 0 or 1: binned by value, both values always listed.
INDICATOR_OPS = {"equals", "in_set", "is_null", "differs_from_field"}


def onnx_scores(session: ort.InferenceSession, output: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """The manifest's score from onnxruntime: a tensor column, or the class key of ZipMap's maps."""
    (result,) = session.run([output["name"]], {session.get_inputs()[0].name: X})
    if isinstance(result, list):  # ZipMap: one {class: probability} dict per row
        return np.asarray([row[output["column"]] for row in result], dtype=np.float64)
    return result[:, output["column"]].astype(np.float64)


def served_scores(model_bytes: bytes, output: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Scores as the service reads them: onnxruntime's, as float32. One thread: the same bits on any machine
    with as many cores (a tree ensemble's sums depend a little on the thread count)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    return onnx_scores(session, output, X).astype(np.float32)


def split_between(low: float, high: float) -> float:
    """The shortest decimal strictly between ``low < high`` (their midpoint if none is shorter)."""
    middle = (low + high) / 2
    for digits in range(17):
        candidate = round(middle, digits)
        if low < candidate < high:
            return candidate
    return middle


def quantile_edges(values: np.ndarray, n_bins: int = BASELINE_BINS) -> list[float]:
    """Interior edges at the quantiles k/n_bins, duplicates removed: each splits the rows where the quantile
    does (below the lowest value at or above it), placed between that value and the next lower one the rows
    hold, so that a value recomputed a bit differently (another onnxruntime build's last bits, a tie of
    many rows) stays in its bin. No edge below the minimum (its bin would be empty). A constant gets
    [v, the next value of its type]: three bins, below v, v, above v."""
    distinct = np.unique(values)
    if len(distinct) == 1:
        return [float(distinct[0]), float(np.nextafter(distinct[0], distinct.dtype.type(np.inf)))]
    splits = np.unique(np.quantile(values, np.arange(1, n_bins) / n_bins, method="inverted_cdf"))
    splits = splits[splits > distinct[0]]
    if len(splits) == 0:  # more than n_bins distinct values, all but a few rows at the minimum
        splits = distinct[1:2]
    lower = distinct[np.searchsorted(distinct, splits) - 1]
    return [split_between(float(a), float(b)) for a, b in zip(lower, splits, strict=True)]


def with_proportions(values: np.ndarray, bins: dict[str, Any]) -> dict[str, Any]:
    """``bins`` with the share of ``values`` in each, binned by the service's rule: with edges, bin i holds
    edges[i-1] <= x < edges[i] (below edges[0], bin 0); with values, the bin of the equal value."""
    x = values.astype(np.float64)  # exact for float32 values, as the service's float64 comparisons are
    if "edges" in bins:
        counts = np.bincount(np.searchsorted(bins["edges"], x, side="right"), minlength=len(bins["edges"]) + 1)
    else:
        counts = np.asarray([np.count_nonzero(x == v) for v in bins["values"]])
        assert counts.sum() == len(x), "a value outside the listed values"
    return {**bins, "proportions": [int(c) / len(x) for c in counts]}


def feature_bins(values: np.ndarray, indicator: bool, n_bins: int = BASELINE_BINS) -> dict[str, Any]:
    """An indicator by value (0 and 1 both listed, whatever the rows hold); a column with 2 to n_bins
    distinct values by value; anything else by quantile edges."""
    distinct = np.unique(values)
    if indicator:
        assert set(distinct.tolist()) <= {0.0, 1.0}, f"an indicator holds {distinct}"
        return with_proportions(values, {"values": [0.0, 1.0]})
    if 1 < len(distinct) <= n_bins:
        return with_proportions(values, {"values": [float(v) for v in distinct]})
    return with_proportions(values, {"edges": quantile_edges(values, n_bins)})


def monitoring_baseline(
    events: list[dict[str, Any]], X: np.ndarray, scores: np.ndarray, features: list[dict[str, Any]]
) -> dict[str, Any]:
    """The manifest's ``baseline`` over these rows: ``X`` as served (the input's element type), ``scores``
    as served (float32), ``events`` the records they came from (for the share of null fields)."""
    assert X.shape == (len(events), len(features)) and scores.shape == (len(events),)
    assert scores.dtype == np.float32
    entries = []
    for j, feature in enumerate(features):
        column = X[:, j]
        transforms = feature.get("transforms", [])
        indicator = bool(transforms) and transforms[-1]["op"] in INDICATOR_OPS
        null = sum(1 for e in events if e.get(feature["field"]) is None)
        entries.append(
            {
                "name": feature["name"],
                # The lower median, a value the rows hold: an indicator's is 0 or 1, never 0.5.
                "median": float(np.quantile(column, 0.5, method="inverted_cdf")),
                "missing": null / len(events),
                **feature_bins(column, indicator),
            }
        )
    # Scores always by quantile edges: a score training never gave still falls in a bin.
    score = with_proportions(scores, {"edges": quantile_edges(scores)})
    return {"samples": len(events), "features": entries, "score": score}


def model_explanation(model: onnx.ModelProto) -> dict[str, Any]:
    """``linear`` for a graph whose score is a logistic regression on the features as served (skl2onnx's
    LinearClassifier with a logistic post-transform, ZipMap or not), with the positive class's coefficients
    and intercept as the graph holds them; ``occlusion`` for anything else."""
    first = model.graph.node[0]
    if first.op_type != "LinearClassifier" or first.input[0] != model.graph.input[0].name:
        return {"method": "occlusion"}
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in first.attribute}
    assert attributes["post_transform"] == b"LOGISTIC", attributes["post_transform"]
    classes = list(attributes["classlabels_ints"])
    positive = classes.index(1)
    coefficients = np.asarray(attributes["coefficients"], dtype=np.float32).reshape(len(classes), -1)
    return {
        "method": "linear",
        "coefficients": [float(c) for c in coefficients[positive]],
        "intercept": float(np.float32(attributes["intercepts"][positive])),
    }


def check_linear_explanation(explanation: dict[str, Any], X: np.ndarray, scores: np.ndarray) -> None:
    """The coefficients reproduce the served scores: sigmoid(coefficients . x + intercept)."""
    if explanation["method"] != "linear":
        return
    logit = X.astype(np.float64) @ np.asarray(explanation["coefficients"]) + explanation["intercept"]
    diff = float(np.max(np.abs(1 / (1 + np.exp(-logit)) - scores)))
    assert diff < MAX_ONNX_DIFF, f"the linear explanation misses the served scores by {diff}"


def add_monitoring(
    manifest: dict[str, Any], model_bytes: bytes, events: list[dict[str, Any]], X: np.ndarray, selection: dict[str, Any]
) -> dict[str, Any]:
    """The manifest with the baseline over ``events`` (``X`` their rows as served) scored by the model in
    ``model_bytes``, its explanation, and the golden rows' ``selection`` (each replaced if it had one), in
    one key order whether the manifest was just built or read back from disk."""
    scores = served_scores(model_bytes, manifest["output"], X)
    explanation = model_explanation(onnx.load_from_string(model_bytes))
    check_linear_explanation(explanation, X, scores)
    baseline = monitoring_baseline(events, X, scores, manifest["features"])
    training = dict(manifest["training"])
    training["golden"] = {**{k: v for k, v in training["golden"].items() if k != "selection"}, "selection": selection}
    kept = {k: v for k, v in manifest.items() if k not in ("training", "baseline", "explanation")}
    return {**kept, "training": training, "baseline": baseline, "explanation": explanation}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="seed for data, split and model (default 7)")
    parser.add_argument("--rows", type=int, default=50_000, help="synthetic events to generate")
    parser.add_argument("--golden-rows", type=int, default=300, help="held-out events in golden.json")
    parser.add_argument(
        "--out-dir", type=Path, default=Path(__file__).resolve().parent, help="models directory (default: this one)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)

    events, y = generate_dataset(rng, args.rows)
    check_against_schema(events, SCHEMA_PATH)
    X = compute_features(events, FEATURES)
    print(f"generated {len(events)} events, fraud rate {y.mean():.4f}")

    # 70% train, 10% validation (threshold choice), 20% test (metrics, golden rows); stratified.
    idx = np.arange(len(events))
    idx_train, idx_test = train_test_split(idx, test_size=0.2, stratify=y, random_state=args.seed)
    idx_train, idx_val = train_test_split(idx_train, test_size=0.125, stratify=y[idx_train], random_state=args.seed)

    fit_started = time.perf_counter()
    clf = GradientBoostingClassifier(random_state=args.seed, **GBM_PARAMS)
    clf.fit(X[idx_train], y[idx_train])
    fit_seconds = time.perf_counter() - fit_started

    val_scores = clf.predict_proba(X[idx_val])[:, 1]
    test_scores = clf.predict_proba(X[idx_test])[:, 1]
    threshold = f1_best_threshold(y[idx_val], val_scores)
    roc_auc = roc_auc_score(y[idx_test], test_scores)
    avg_precision = average_precision_score(y[idx_test], test_scores)
    at_threshold = confusion_metrics(y[idx_test], test_scores, threshold)
    print(f"trained {GBM_PARAMS['n_estimators']} trees in {fit_seconds:.1f}s")
    print(f"test ROC AUC {roc_auc:.4f}, average precision {avg_precision:.4f}")
    print(f"threshold {threshold} (max F1 on validation); on test: {at_threshold}")

    model = export_onnx(clf, len(FEATURES))
    model_bytes = model.SerializeToString()
    version_dir = args.out_dir / MODEL_NAME / MODEL_VERSION
    version_dir.mkdir(parents=True, exist_ok=True)
    model_path = version_dir / "model.onnx"
    model_path.write_bytes(model_bytes)

    golden_idx, golden_selected = select_golden(y[idx_test], test_scores, args.golden_rows, rng)
    golden_global = idx_test[golden_idx]
    golden_X = X[golden_global]
    # The scores the service must reproduce: sklearn on exactly the float32 rows it will see.
    golden_scores = clf.predict_proba(golden_X.astype(np.float32))[:, 1]
    golden_path = version_dir / "golden.json"
    write_golden(golden_path, [events[i] for i in golden_global], golden_X, golden_scores)

    opsets = {(o.domain or "ai.onnx"): o.version for o in model.opset_import}
    manifest = {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "file": model_path.name,
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        "inputs": [{"name": "features", "type": "float32", "shape": [-1, len(FEATURES)]}],
        "output": score_output(model),
        "threshold": threshold,
        "labels": {"negative": "legit", "positive": "fraud"},
        "features": FEATURES,
        "training": {
            "script": "models/train.py",
            "command": f"python models/train.py --seed {args.seed} --rows {args.rows} --golden-rows {args.golden_rows}",
            "seed": args.seed,
            "data": "synthetic card transactions; generating process in models/train.py and models/README.md",
            "rows": {"total": len(events), "train": len(idx_train), "validation": len(idx_val), "test": len(idx_test)},
            "fraud_rate": round(float(y.mean()), 6),
            "estimator": "sklearn.ensemble.GradientBoostingClassifier",
            "params": GBM_PARAMS,
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
    # The baseline is counted over the test split: held out, so its scores are what the model gives on
    # events it never saw, and the golden rows are drawn from it.
    manifest = add_monitoring(manifest, model_bytes, [events[i] for i in idx_test], X[idx_test], golden_selected)
    manifest_path = version_dir / "manifest.json"
    write_json(manifest_path, manifest)

    max_diff = self_check(model_path, manifest_path, golden_path)
    # Beyond the golden rows: the whole test split, to catch a rare float32 tree-threshold disagreement.
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    onnx_test = session.run(["probabilities"], {"features": X[idx_test]})[0][:, 1]
    test_diff = float(np.max(np.abs(onnx_test - clf.predict_proba(X[idx_test])[:, 1])))
    assert test_diff < MAX_ONNX_DIFF, f"ONNX differs from sklearn by {test_diff} on the test split"
    print(f"ONNX outputs: {describe_outputs(model)}; ir_version {model.ir_version}, opsets {opsets}")
    print(
        f"self-check: max |onnx - sklearn| on {len(golden_idx)} golden rows = {max_diff:.3g}, "
        f"on all {len(idx_test)} test rows = {test_diff:.3g}"
    )
    for path in (model_path, manifest_path, golden_path):
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        print(f"wrote {shown} ({path.stat().st_size} bytes)")
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
