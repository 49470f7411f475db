"""Lead-scoring benchmark: train and score on the demo leads at a scale, same run.

Usage: python benchmarks/leads_bench.py [--scale 200]

The demo CSVs are imported once into bench-out/demo-s{scale}.duckdb (cached). Phases run
in fresh child processes: materialising the per-lead table, training (LightGBM and the
logistic regression, choice, calibration), scoring every lead (probability, expected
value, grade, top-3 reasons as numbers), grading every lead by the rule model
(``leads score --rules``), and the Odoo-style naive-Bayes baseline as the comparison.
Goals at scale 200 (≈ 3M leads): train ≤ 60 s, score ≥ 200k leads/s. The machine's load
average is printed: other work on the same cores slows every phase.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, demo_data, measure


def warehouse(scale: float) -> Path:
    """The demo imported into a cached DuckDB file."""
    path = ROOT / "bench-out" / f"demo-s{scale:g}.duckdb"
    if not path.exists():
        import crmlens

        wh = crmlens.open(path)
        wh.import_files([demo_data(scale)])
        wh.close()
    return path


def materialise(wh_path: str, out: str) -> int:
    """The per-lead table of the warehouse, written to Parquet."""
    import crmlens
    from crmlens.insights.params import resolve_as_of
    from crmlens.insights.rules._leads_score import load_frame

    wh = crmlens.open(wh_path)
    frame, _ = load_frame(wh, resolve_as_of(wh, None), moment="arrival", exclude=())
    frame.to_parquet(out)
    return len(frame)


def _features(frame: object) -> list[str]:
    from crmlens.analytics.scoring import RESERVED

    return [c for c in frame.columns if c not in RESERVED]  # type: ignore[attr-defined]


def train(frame_path: str, model_path: str) -> tuple[str, dict[str, float]]:
    """Fit the LeadScorer on the labelled leads and pickle it."""
    import joblib
    import pandas as pd

    from crmlens.analytics.scoring import LeadScorer

    frame = pd.read_parquet(frame_path)
    labelled = frame[frame["is_labelled"] == 1]
    scorer = LeadScorer(_features(frame)).fit(labelled)
    joblib.dump(scorer, model_path)
    return scorer.kind_, scorer.candidates_


def score(frame_path: str, model_path: str) -> tuple[int, float]:
    """Score every lead; returns leads and the seconds spent scoring only."""
    import time

    import joblib
    import pandas as pd

    frame = pd.read_parquet(frame_path)
    scorer = joblib.load(model_path)
    start = time.perf_counter()
    scored = scorer.score(frame)
    return len(scored.grade), time.perf_counter() - start


def rules(wh_path: str, frame_path: str) -> tuple[int, float]:
    """Grade every lead by the rule model ``leads rules --init`` would write.

    Returns leads and the seconds spent scoring only (points, probability, expected
    value, grade and top-3 rules, as ``leads score --rules`` does before the texts).
    """
    import time

    import pandas as pd

    import crmlens
    from crmlens.analytics.leads import lead_attributes, lead_signals
    from crmlens.analytics.leads_rules import RuleModel
    from crmlens.insights.params import resolve_as_of
    from crmlens.insights.rules.leads import outcomes

    wh = crmlens.open(wh_path)
    day = resolve_as_of(wh, None)
    attrs = lead_attributes(wh.leads, with_response=False)
    signals = lead_signals(outcomes(wh, day), attrs).to_pyarrow().to_pylist()
    frame = pd.read_parquet(frame_path)
    model = RuleModel.from_signals(signals).fit(frame[frame["is_labelled"] == 1])
    start = time.perf_counter()
    scored = model.score(frame, default_amount=1.0).scored
    return len(scored.grade), time.perf_counter() - start


def odoo(frame_path: str) -> int:
    """Fit and apply the Odoo-style naive-Bayes baseline on the same leads."""
    import pandas as pd

    from crmlens.analytics.scoring_models import NaiveBayesBaseline

    frame = pd.read_parquet(frame_path)
    feats = _features(frame)
    nb = NaiveBayesBaseline(feats).fit(frame[frame["is_labelled"] == 1])
    return len(nb.predict_proba(frame))


def main() -> None:
    """Run the phases and print times, rates, ratios and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=200.0)
    args = parser.parse_args()
    wh = warehouse(args.scale)
    out = ROOT / "bench-out"
    frame, model = str(out / f"leads-s{args.scale:g}.parquet"), str(out / "lead.model")
    load = os.getloadavg()[0]
    mat_s, mat_mb, n = measure(materialise, str(wh), frame)
    tr_s, tr_mb, (kind, aucs) = measure(train, frame, model)
    sc_s, sc_mb, (n_scored, sc_only) = measure(score, frame, model)
    ru_s, ru_mb, (n_rules, ru_only) = measure(rules, str(wh), frame)
    nb_s, nb_mb, _ = measure(odoo, frame)
    rate, rules_rate = n_scored / sc_only, n_rules / ru_only
    auc = ", ".join(f"{k} {v:.4f}" for k, v in aucs.items())
    print(
        f"leads: {n:,} (scale {args.scale:g}); model chosen: {kind} (validation "
        f"AUC {auc}); load average {load:.1f} → {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores"
    )
    print(f"per-lead table     : {mat_s:8.2f} s  peak {mat_mb:7.0f} MiB")
    print(
        f"train (both models): {tr_s:8.2f} s  peak {tr_mb:7.0f} MiB  goal ≤ 60 s "
        f"{'OK' if tr_s <= 60 else 'MISSED'}"
    )
    print(
        f"score              : {sc_only:8.2f} s  peak {sc_mb:7.0f} MiB  "
        f"{rate:,.0f} leads/s  goal ≥ 200,000 {'OK' if rate >= 200_000 else 'MISSED'}"
        f"  (process incl. load {sc_s:.2f} s)"
    )
    print(
        f"score by rules     : {ru_only:8.2f} s  peak {ru_mb:7.0f} MiB  "
        f"{rules_rate:,.0f} leads/s  (process incl. signals {ru_s:.2f} s)"
    )
    print(
        f"odoo naive bayes   : {nb_s:8.2f} s  peak {nb_mb:7.0f} MiB  "
        f"train/odoo = {tr_s / nb_s:.2f}×"
    )


if __name__ == "__main__":
    main()
