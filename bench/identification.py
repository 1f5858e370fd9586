"""What a calibration's data pin down: a calibration directory as Markdown tables.

``scslab calibrate`` (ABC-SMC) writes a directory with ``posterior.parquet`` and a
``manifest.json`` that holds each parameter's prior and posterior 90% intervals.  This
script turns that directory into the tables ``docs/calibration.md`` reports:

* the run: scenario, population, particles, generations, runs, wall time, the count of free
  parameters against the fitted figures;
* per parameter: the prior's and the posterior's 90% intervals, the posterior median and
  the ratio of their widths, with a verdict (``identified`` below ``--identified``,
  ``weak`` below ``--weak``, otherwise ``not identified``: it stays declared uncertain);
  beside them the final population's spread with equal weights.  When the importance
  weights have collapsed (effective sample size below ``--min-ess``) the weighted
  intervals describe a particle or two, so the verdicts use the equal-weight spread and
  the report says so;
* the pairs whose normal scores correlate beyond ``--correlation`` in the posterior (the
  targets fix a combination, not each one);
* the posterior predictive at each fitted figure: median, 90% band, error of the median.

Re-run it after the engine changes, on a new calibration of the same scenario::

    scslab calibrate documented-china --targets documented-china --until 2018-05-31 \\
        --scale 0.0005 --particles 60 --generations 6 --max-runs 900 --out /tmp/china-abc
    python bench/identification.py /tmp/china-abc --label "$(git rev-parse --short HEAD)"

The holdout errors come from ``scslab targets DIR/calibrated.yaml --targets
documented-china --holdout-after 2018-05-31`` (the posterior median as a scenario).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from scslab.experiments.posterior import read_posterior


def _g(v: float) -> str:
    """A number in three significant figures, as the calibration tables print it."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}"


def _n(v: float) -> str:
    """A published figure or model value: whole numbers with commas, shares in 3 figures."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def verdict(ratio: float, identified: float, weak: float) -> str:
    """How well the data pin a parameter down, from its posterior/prior width ratio."""
    if math.isnan(ratio):
        return "-"
    if ratio < identified:
        return "identified"
    if ratio < weak:
        return "weak"
    return "not identified"


def report(directory: Path, *, label: str = "", identified: float = 0.5, weak: float = 0.8,
           correlation: float = 0.7, min_ess: float = 10.0) -> str:
    """The Markdown report of one calibration directory."""
    post = read_posterior(directory)
    m = post.manifest
    opts = m.get("options", {})
    size = (f"scale {opts['scale']}" if opts.get("scale") else
            f"{opts['residents']:,} residents" if opts.get("residents") else "full scale")
    gens = m.get("generations", [])
    lines = [f"# Identification: {m.get('scenario_name', directory.name)}", ""]
    if label:
        lines += [f"Code: {label}.", ""]
    k, n = len(post.prior), len(post.targets)
    lines += [
        f"- {k} free parameters against {n} fitted figures; {size}; seed {m.get('seed')}",
        f"- {m.get('particles')} particles, {len(gens)} generations, {m.get('runs')} runs "
        f"({m.get('predictive_runs', 0)} of them predictive), "
        f"{m.get('seconds', 0) / 60:.1f} minutes; {m.get('stopped', '')}",
        f"- effective sample size {m.get('effective_sample_size')}; regression adjusted: "
        f"{'yes' if m.get('regression_adjusted') else 'no'}",
        "- tolerance by generation: " + ", ".join(
            "inf" if g["tolerance"] is None else f"{g['tolerance']:.3g}" for g in gens),
        "",
        "| parameter | prior 90% | posterior 90% | median | width ratio | verdict |",
        "|---|---|---|---|---:|---|",
    ]
    ident = post.identifiability.copy()
    # the final population with equal weights: what the last tolerance accepted, before the
    # importance weights; the only usable spread when those weights have collapsed
    parts = post.particles
    ess = float(m.get("effective_sample_size") or 0.0)
    degenerate = ess < min_ess
    flat = []
    for r in ident.itertuples(index=False):
        lo, hi = (float(v) for v in np.quantile(parts[r.parameter].to_numpy(float), [0.05, 0.95]))
        width = r.prior_hi - r.prior_lo
        flat.append((lo, hi, (hi - lo) / width if width > 0 else math.nan))
    ident["flat_lo"], ident["flat_hi"], ident["flat_ratio"] = zip(*flat, strict=True)
    key = "flat_ratio" if degenerate else "width_ratio"
    ident = ident.sort_values(key, kind="stable")
    if degenerate:
        lines[-3:-3] = [
            f"- **the importance weights have collapsed** (effective sample size {ess:.1f} of "
            f"{m.get('particles')} particles, below {min_ess:g}): the weighted intervals "
            "describe one or two particles, not the posterior. Verdicts use the final "
            "population with equal weights (what the last tolerance accepted), a rough guide "
            "only; run more particles, fewer parameters or more generations."]
    lines[-2] = ("| parameter | prior 90% | posterior 90% (weighted) | median | width ratio | "
                 "final population 90% (equal weights) | width ratio | verdict |")
    lines[-1] = "|---|---|---|---|---:|---|---:|---|"
    counts: dict[str, int] = {}
    for r in ident.itertuples(index=False):
        v = verdict(float(getattr(r, key)), identified, weak)
        counts[v] = counts.get(v, 0) + 1
        lines.append(f"| `{r.parameter}` | {_g(r.prior_lo)} to {_g(r.prior_hi)} | "
                     f"{_g(r.lo)} to {_g(r.hi)} | {_g(r.median)} | {r.width_ratio:.2f} | "
                     f"{_g(r.flat_lo)} to {_g(r.flat_hi)} | {r.flat_ratio:.2f} | {v} |")
    lines += ["", f"Verdicts ({'equal-weight' if degenerate else 'weighted'} width ratio below "
              f"{identified}: identified; below {weak}: weak): "
              + ", ".join(f"{c} {v}" for v, c in counts.items()), ""]
    strong = post.correlations[post.correlations["correlation"].abs() >= correlation]
    if len(strong):
        note = (" (from the collapsed weights: a particle or two, so read them as noise)"
                if degenerate else "")
        lines += [f"Posterior correlations of {correlation} or more{note}:", "",
                  "| parameter | other | correlation |", "|---|---|---:|"]
        for r in strong.itertuples(index=False):
            lines.append(f"| `{r.parameter}` | `{r.other}` | {r.correlation:+.2f} |")
        lines.append("")
    fit = post.fit
    if len(fit):
        lines += ["Posterior predictive at the fitted figures:", "",
                  "| target | date | published | median | 90% band | error of median | "
                  "in band |", "|---|---|---:|---:|---|---:|---|"]
        errors = []
        for r in fit.itertuples(index=False):
            err = (r.median - r.published) / abs(r.published) if r.published else math.nan
            errors.append(abs(err))
            lines.append(f"| {r.target} | {r.at or '-'} | {_n(r.published)} | {_n(r.median)} | "
                         f"{_n(r.p05)} to {_n(r.p95)} | {err:+.1%} | "
                         f"{'yes' if r.within_90 else 'no'} |")
        finite = [e for e in errors if math.isfinite(e)]
        inside = int(fit["within_90"].sum())
        if finite:
            finite.sort()
            lines += ["", f"{inside} of {len(fit)} published figures inside the 90% band; "
                      f"median |error| {finite[len(finite) // 2]:.1%}, mean "
                      f"{sum(finite) / len(finite):.1%}, largest {finite[-1]:.1%}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=Path, help="a scslab calibrate --out directory")
    ap.add_argument("--label", default="", help="what code ran it (e.g. a commit)")
    ap.add_argument("--identified", type=float, default=0.5,
                    help="width ratio below which a parameter counts as identified")
    ap.add_argument("--weak", type=float, default=0.8,
                    help="width ratio below which it counts as weakly identified")
    ap.add_argument("--correlation", type=float, default=0.7,
                    help="list posterior correlations at least this strong")
    ap.add_argument("--min-ess", type=float, default=10.0,
                    help="below this effective sample size the weights count as collapsed")
    a = ap.parse_args(argv)
    try:
        text = report(a.directory, label=a.label, identified=a.identified, weak=a.weak,
                      correlation=a.correlation, min_ess=a.min_ess)
    except Exception as e:  # a missing or foreign directory: say which, no traceback
        print(f"error: {a.directory}: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
