"""Group metrics in the shape of Fairlearn's ``MetricFrame``, for synthetic residents.

A :class:`GroupMetricFrame` splits a run's synthetic residents into groups (any resident
attribute, or the intersection of several) and computes each metric overall and per group,
with the aggregations auditors quote: ratios and differences between groups (disparate
impact) and the worst and best group.  Given several replicates (the same scenario at
seeds ``seed + r``), every statistic is computed per replicate and summarised by its mean
across replicates, with an interval (``intervals``).

Return types are fixed by the shape of the answer, never by the number of metrics:

* one value per metric (``overall``, ``group_min()``, ``ratio()`` between groups) is a
  ``pd.Series`` indexed by metric name;
* one value per group and metric (``by_group``, ``ratio(reference=...)``) is a
  ``pd.DataFrame`` indexed by group (a ``MultiIndex`` for an intersection of attributes)
  with one column per metric;
* ``intervals(...)`` is a ``pd.DataFrame`` with columns ``value, lo, hi, replicates``,
  indexed like the statistic stacked (``metric``, or ``group..., metric``).

Metrics (names in :data:`METRICS`), from the per-resident table (``RunResult.residents``):

* ``listing_rate``: share of residents ever black-listed (``listed_days > 0``);
* ``sanction_rate``: share with at least one blocked attempt (``blocked > 0``);
* ``wrongful_listing_rate``: share ever wrongfully listed (``wrongful_days > 0``);
* ``mean_score``: mean final score;
* ``green_channel_benefit``: mean green-channel days saved per resident, only when the
  table has such a column (``green_days``, see :data:`GREEN_COLUMNS`); otherwise the
  metric is skipped.

From the aggregate ``groups`` table (always written; single attributes only) the same
names are computed from its sums; ``sanction_rate`` there is not available (the table has
blocked attempts, not residents blocked) and is replaced by ``blocked_per_resident``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scslab.errors import ScslabError
from scslab.scenario.schema import CHILD_CATEGORY

# Columns that may carry green-channel days saved once rewards exist (first match wins).
GREEN_COLUMNS = ("green_days", "green_days_saved", "green_channel_days_saved")


def _green_column(df: pd.DataFrame) -> str | None:
    return next((c for c in GREEN_COLUMNS if c in df.columns), None)


def _share_positive(col: str) -> Callable[[pd.DataFrame], float]:
    def f(df: pd.DataFrame) -> float:
        return float((df[col] > 0).mean()) if len(df) else math.nan

    f.__name__ = f"share_{col}_positive"
    return f


def _mean_of(col: str) -> Callable[[pd.DataFrame], float]:
    def f(df: pd.DataFrame) -> float:
        return float(df[col].mean()) if len(df) else math.nan

    f.__name__ = f"mean_{col}"
    return f


def _green(df: pd.DataFrame) -> float:
    col = _green_column(df)
    return float(df[col].mean()) if len(df) else math.nan


# name -> (column the metric needs or None, function of a residents sub-table)
METRICS: dict[str, tuple[str | None, Callable[[pd.DataFrame], float]]] = {
    "listing_rate": ("listed_days", _share_positive("listed_days")),
    "sanction_rate": ("blocked", _share_positive("blocked")),
    "wrongful_listing_rate": ("wrongful_days", _share_positive("wrongful_days")),
    "mean_score": ("final_score", _mean_of("final_score")),
    "green_channel_benefit": (None, _green),
}

# groups-table metrics: name -> (numerator measure, denominator measure)
GROUP_TABLE_METRICS: dict[str, tuple[str, str]] = {
    "listing_rate": ("ever_listed", "residents"),
    "wrongful_listing_rate": ("ever_wrongful", "residents"),
    "mean_score": ("final_score_sum", "residents"),
    "blocked_per_resident": ("blocked", "residents"),
    "green_channel_benefit": ("green_days", "residents"),
}

OUTCOME_COLUMNS = {"resident", "unit", "household", "employer", "child", "final_score",
                   "listed_days", "wrongful_days", "blocked", "blocked_wrongful", "listings",
                   "shocked", "listings_during_shock", "replicate",
                   *GREEN_COLUMNS}


class MetricFrameError(ScslabError):
    """A group-metric request that cannot be answered (unknown group, metric or input)."""


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, str | tuple):
        return [x]
    return list(x)


def _replicated(data, what: str) -> pd.DataFrame | None:
    """A table with a ``replicate`` column from a DataFrame or a list of DataFrames."""
    if data is None:
        return None
    if isinstance(data, pd.DataFrame):
        df = data
        if "replicate" not in df.columns:
            df = df.assign(replicate=0)
        return df
    frames = list(data)
    if not frames:
        raise MetricFrameError(f"{what}: an empty list of replicates")
    return pd.concat([f.assign(replicate=r) for r, f in enumerate(frames)], ignore_index=True)


@dataclass(frozen=True)
class GroupRates:
    """One attribute's metrics from the groups table's sums, for one run: ``groups`` (the
    categories with residents, sorted), ``by_group`` (metric -> one value per group) and
    ``overall`` (metric -> the value over every resident)."""

    metrics: list[str]
    groups: np.ndarray
    by_group: dict[str, np.ndarray]
    overall: dict[str, float]


def group_rates(group: np.ndarray, measure: np.ndarray, value: np.ndarray,
                metrics: Sequence[str] | None = None) -> GroupRates:
    """The metrics of :data:`GROUP_TABLE_METRICS` from one attribute's rows of one run's
    groups table (columns ``group``, ``measure``, ``value`` as arrays; repeated rows are
    summed).  A group's metric is its numerator over its residents (NaN without
    residents); the overall metric is the sum of numerators over the sum of residents.
    ``metrics=None`` takes every metric whose measures the rows have; a metric named but
    missing raises, except ``green_channel_benefit`` (there with rewards only).

    >>> r = group_rates(np.array(["a", "a", "b", "b"]),
    ...                 np.array(["residents", "ever_listed"] * 2),
    ...                 np.array([10.0, 1.0, 30.0, 6.0]), ["listing_rate"])
    >>> r.by_group["listing_rate"].tolist(), r.overall["listing_rate"]
    ([0.1, 0.2], 0.175)
    """
    names = list(GROUP_TABLE_METRICS) if metrics is None else _as_list(metrics)
    present = set(np.unique(measure).tolist())
    use = {}
    for name in names:
        if name not in GROUP_TABLE_METRICS:
            raise MetricFrameError(
                f"metric {name!r} is not available from the groups table; available: "
                + ", ".join(GROUP_TABLE_METRICS))
        num, den = GROUP_TABLE_METRICS[name]
        if num in present and den in present:
            use[name] = (num, den)
        elif metrics is not None and name != "green_channel_benefit":
            raise MetricFrameError(f"the groups table has no {num!r} measure")
    groups, at = np.unique(group, return_inverse=True)

    def sums(m: str) -> np.ndarray:  # one value per group; NaN where the group has no row
        rows = measure == m
        out = np.zeros(len(groups))
        np.add.at(out, at[rows], value[rows])
        seen = np.zeros(len(groups), dtype=bool)
        seen[at[rows]] = True
        return np.where(seen, out, np.nan)

    read = {m for pair in use.values() for m in pair} | ({"residents"} & present)
    by_measure = {m: sums(m) for m in read}
    keep = by_measure["residents"] > 0 if "residents" in by_measure else \
        np.ones(len(groups), bool)
    by_group, overall = {}, {}
    for name, (num, den) in use.items():
        n, d = by_measure[num], by_measure[den]
        with np.errstate(divide="ignore", invalid="ignore"):
            by_group[name] = np.where(d > 0, n / d, np.nan)[keep]
        total = np.nansum(d)
        overall[name] = float(np.nansum(n) / total) if total > 0 else math.nan
    return GroupRates(metrics=list(use), groups=groups[keep], by_group=by_group,
                      overall=overall)


class GroupMetricFrame:
    """Disaggregated metrics over synthetic residents (Fairlearn ``MetricFrame`` shape).

    Parameters (keyword-only):
        residents: the per-resident table of a traced run (``RunResult.residents``), a list
            of them (one per replicate) or one table with a ``replicate`` column.
        groups: instead of ``residents``, the aggregate ``groups`` table (or a list, or a
            table with a ``replicate`` column); single attributes only.
        sensitive_features: an attribute name, or a list of names for their intersection.
        metrics: metric names from :data:`METRICS`, or a dict name -> function of a
            residents sub-table returning a float; default: every metric whose columns
            exist.

    >>> df = pd.DataFrame({"hukou": ["local", "local", "migrant", "migrant"],
    ...                    "final_score": [1000, 980, 900, 1000],
    ...                    "listed_days": [0, 0, 10, 0], "wrongful_days": [0, 0, 0, 0],
    ...                    "blocked": [0, 0, 2, 0]})
    >>> mf = GroupMetricFrame(residents=df, sensitive_features="hukou")
    >>> float(mf.by_group.loc["migrant", "listing_rate"])
    0.5
    """

    def __init__(
        self,
        *,
        residents=None,
        groups=None,
        sensitive_features: str | Sequence[str],
        metrics: Sequence[str] | dict[str, Callable[[pd.DataFrame], float]] | None = None,
    ):
        if (residents is None) == (groups is None):
            raise MetricFrameError("give exactly one of residents= or groups=")
        self.sensitive_features = _as_list(sensitive_features)
        if not self.sensitive_features:
            raise MetricFrameError("give at least one sensitive feature (a resident attribute)")
        if residents is not None:
            self._init_residents(_replicated(residents, "residents"), metrics)
        else:
            self._init_groups(_replicated(groups, "groups"), metrics)
        self.replicates = len(self._overall_r)

    # ---- construction -------------------------------------------------------------------
    def _init_residents(self, df: pd.DataFrame, metrics) -> None:
        missing = [f for f in self.sensitive_features if f not in df.columns]
        if missing:
            attrs = [c for c in df.columns if c not in OUTCOME_COLUMNS]
            raise MetricFrameError(
                f"unknown attribute(s) {', '.join(missing)}; the residents have: "
                + (", ".join(attrs) or "no attributes")
            )
        if "child" in df.columns:  # children are a group of their own, as in groups.parquet
            df = df.copy()
            for f in self.sensitive_features:
                df[f] = df[f].astype(object).where(~df["child"].astype(bool), CHILD_CATEGORY)
        funcs = self._resolve_metrics(df, metrics)
        self.metrics = list(funcs)
        overall, by_group = {}, {}
        keys = self.sensitive_features if len(self.sensitive_features) > 1 else \
            self.sensitive_features[0]
        for r, part in df.groupby("replicate", sort=True):
            overall[r] = pd.Series({m: f(part) for m, f in funcs.items()}, dtype=float)
            rows = {g: {m: f(sub) for m, f in funcs.items()}
                    for g, sub in part.groupby(keys, sort=True, observed=True)}
            bg = pd.DataFrame.from_dict(rows, orient="index", columns=self.metrics, dtype=float)
            by_group[r] = bg
        self._finish(overall, by_group)

    def _resolve_metrics(self, df, metrics) -> dict[str, Callable]:
        if isinstance(metrics, dict):
            return dict(metrics)
        names = list(METRICS) if metrics is None else _as_list(metrics)
        out = {}
        for name in names:
            if name not in METRICS:
                raise MetricFrameError(
                    f"unknown metric {name!r}; known: {', '.join(METRICS)}"
                )
            col, f = METRICS[name]
            if name == "green_channel_benefit":
                if _green_column(df) is None:
                    continue  # no rewards in this run: the metric is skipped
            elif col not in df.columns:
                if metrics is None:
                    continue
                raise MetricFrameError(f"metric {name!r} needs the column {col!r}")
            out[name] = f
        return out

    def _init_groups(self, df: pd.DataFrame, metrics) -> None:
        if len(self.sensitive_features) != 1:
            raise MetricFrameError(
                "the groups table holds single attributes only; for an intersection of "
                f"{' x '.join(self.sensitive_features)} use a traced run's residents table "
                "(scslab.run(..., trace=True).residents)"
            )
        attr = self.sensitive_features[0]
        if "period" in df.columns:
            df = df[df["period"] == "run"]
        # unique() first: iterating a column of (arrow) strings costs a millisecond a call
        if attr not in set(df["attribute"].unique()):
            raise MetricFrameError(
                f"unknown attribute {attr!r}; the groups table has: "
                + ", ".join(sorted(set(df["attribute"])))
            )
        df = df[df["attribute"] == attr]
        if isinstance(metrics, dict):
            raise MetricFrameError("custom metric functions need the residents table")
        overall, by_group = {}, {}
        for r, part in df.groupby("replicate", sort=True):
            rates = group_rates(part["group"].to_numpy(), part["measure"].to_numpy(),
                                part["value"].to_numpy(dtype=float), metrics)
            index = pd.Index(rates.groups, name=attr)
            by_group[r] = pd.DataFrame(rates.by_group, index=index, columns=rates.metrics,
                                       dtype=float)
            overall[r] = pd.Series(rates.overall, index=rates.metrics, dtype=float)
        # every replicate shows the metrics any of them has (NaN where one lacks it)
        self.metrics = list(dict.fromkeys(m for bg in by_group.values() for m in bg.columns))
        by_group = {r: bg.reindex(columns=self.metrics) for r, bg in by_group.items()}
        overall = {r: o.reindex(self.metrics) for r, o in overall.items()}
        self._finish(overall, by_group)

    def _finish(self, overall: dict, by_group: dict) -> None:
        names = self.sensitive_features
        index_all = None
        for bg in by_group.values():
            index_all = bg.index if index_all is None else index_all.union(bg.index)
        for r, bg in by_group.items():
            bg = bg.reindex(index_all)
            if len(names) > 1:
                bg.index = pd.MultiIndex.from_tuples(list(bg.index), names=names)
            else:
                bg.index.name = names[0]
            bg.columns.name = "metric"
            by_group[r] = bg.sort_index()
        for s in overall.values():
            s.index.name = "metric"
        self._overall_r = overall
        self._by_group_r = by_group

    # ---- per-replicate statistics ---------------------------------------------------------
    def _per_replicate(self, stat: Callable[[pd.Series, pd.DataFrame], object]) -> list:
        return [stat(self._overall_r[r], self._by_group_r[r]) for r in sorted(self._overall_r)]

    # ---- the MetricFrame interface ----------------------------------------------------------
    @property
    def overall(self) -> pd.Series:
        """Each metric over all residents (mean over replicates)."""
        return _nanmean(self._per_replicate(lambda o, g: o))

    @property
    def by_group(self) -> pd.DataFrame:
        """Each metric per group (rows) and metric (columns), mean over replicates."""
        return _nanmean(self._per_replicate(lambda o, g: g))

    @property
    def by_replicate(self) -> pd.DataFrame:
        """``by_group`` of every replicate, with ``replicate`` as the first index level."""
        return pd.concat(self._by_group_r, names=["replicate"])

    def group_min(self) -> pd.Series:
        """The lowest group value of each metric."""
        return _nanmean(self._per_replicate(lambda o, g: g.min()))

    def group_max(self) -> pd.Series:
        """The highest group value of each metric."""
        return _nanmean(self._per_replicate(lambda o, g: g.max()))

    def ratio(self, reference=None, *, method: str = "between_groups"):
        """Disparate-impact ratios.

        With ``reference`` (a group value, or a tuple for an intersection): each group's
        metric divided by the reference group's, as a DataFrame by group.  Without it, one
        value per metric: ``between_groups`` is min/max over groups (1 = parity);
        ``to_overall`` is the smallest of group/overall and overall/group.
        """
        return _nanmean(self._per_replicate(self._ratio_fn(reference, method)))

    def difference(self, reference=None, *, method: str = "between_groups"):
        """Differences: group minus ``reference`` group (DataFrame by group), or one value
        per metric: ``between_groups`` max - min; ``to_overall`` the largest |group -
        overall|."""
        return _nanmean(self._per_replicate(self._difference_fn(reference, method)))

    def _check_reference(self, g: pd.DataFrame, reference):
        if len(self.sensitive_features) > 1:
            ref = reference if isinstance(reference, tuple | list) else (reference,)
            key = tuple(str(x) for x in ref)
        else:
            key = str(reference)
        if key not in g.index:
            raise MetricFrameError(
                f"reference group {reference!r} is not among the groups: "
                + ", ".join(map(str, g.index))
            )
        return key

    def _ratio_fn(self, reference, method):
        _check_method(method)

        def f(o: pd.Series, g: pd.DataFrame):
            with np.errstate(divide="ignore", invalid="ignore"):
                if reference is not None:
                    ref = g.loc[self._check_reference(g, reference)]
                    return g / ref.where(ref != 0)
                if method == "between_groups":
                    return g.min() / g.max().where(g.max() != 0)
                up = g / o.where(o != 0)
                return np.minimum(up, 1 / up).min()

        return f

    def _difference_fn(self, reference, method):
        _check_method(method)

        def f(o: pd.Series, g: pd.DataFrame):
            if reference is not None:
                return g - g.loc[self._check_reference(g, reference)]
            if method == "between_groups":
                return g.max() - g.min()
            return (g - o).abs().max()

        return f

    # ---- two scenarios, paired replicate by replicate -------------------------------------
    def difference_from(self, other: GroupMetricFrame, *, reference=None) -> pd.DataFrame:
        """Each group's metric in this scenario minus the same group's in ``other``.

        Both frames must hold the same replicates of two scenarios (replicate ``r`` at seed
        ``seed + r`` in both, as :func:`scslab.compare` runs them), so each resident draws
        the same randomness in both and the differences are paired.  The result is the mean
        over replicates of the per-replicate differences, by group (rows) and metric.

        With ``reference`` (a group), the reference group's difference is subtracted from
        every group's: how much more (or less) the change moved this group than the
        reference group ("does appeal help migrants as much as locals?").  Intervals:
        ``intervals("difference_from", other=..., reference=...)``.
        """
        return _nanmean(self._per_replicate_pair(other, reference))

    def _per_replicate_pair(self, other: GroupMetricFrame, reference) -> list[pd.DataFrame]:
        if not isinstance(other, GroupMetricFrame):
            raise MetricFrameError("difference_from needs another GroupMetricFrame")
        if other.sensitive_features != self.sensitive_features:
            raise MetricFrameError(
                "the two frames group residents differently: "
                f"{' x '.join(self.sensitive_features)} against "
                f"{' x '.join(other.sensitive_features)}")
        mine, theirs = sorted(self._by_group_r), sorted(other._by_group_r)
        if mine != theirs:
            raise MetricFrameError(
                f"the two frames hold different replicates ({len(mine)} and {len(theirs)}); "
                "pairing needs the same seeds in both scenarios")
        metrics = [m for m in self.metrics if m in other.metrics]
        out = []
        for r in mine:
            a = self._by_group_r[r][metrics]
            b = other._by_group_r[r][metrics]
            groups = a.index.union(b.index)  # a group missing in one scenario: NaN
            d = a.reindex(groups) - b.reindex(groups)
            if reference is not None:
                d = d - d.loc[self._check_reference(d, reference)]
            out.append(d)
        return out

    # ---- intervals over replicates ----------------------------------------------------------
    def intervals(self, statistic: str = "by_group", *, reference=None,
                  method: str = "between_groups", level: float = 0.9,
                  interval: str = "t", other: GroupMetricFrame | None = None
                  ) -> pd.DataFrame:
        """An interval across replicates for a statistic.

        ``statistic`` is one of ``overall``, ``by_group``, ``group_min``, ``group_max``,
        ``ratio``, ``difference``, or ``difference_from`` with ``other`` (the paired
        difference from another scenario's frame, see :meth:`difference_from`).
        ``interval="t"`` is mean ± t quantile × sd/√K over the K replicates;
        ``"percentile"`` takes the replicates' empirical quantiles.  With one replicate
        ``lo`` and ``hi`` are NaN.
        """
        stats = {
            "overall": lambda o, g: o,
            "by_group": lambda o, g: g,
            "group_min": lambda o, g: g.min(),
            "group_max": lambda o, g: g.max(),
            "ratio": self._ratio_fn(reference, method),
            "difference": self._difference_fn(reference, method),
        }
        if statistic == "difference_from":
            if other is None:
                raise MetricFrameError("difference_from needs other= (another scenario's frame)")
            values = self._per_replicate_pair(other, reference)
        elif statistic not in stats:
            raise MetricFrameError(
                f"unknown statistic {statistic!r}; choose one of {', '.join(stats)}, "
                "difference_from"
            )
        else:
            values = self._per_replicate(stats[statistic])
        if isinstance(values[0], pd.DataFrame):
            values = [v.stack(future_stack=True) for v in values]
        mat = pd.concat(values, axis=1).replace([np.inf, -np.inf], np.nan)
        return interval_table(mat, level=level, interval=interval)


def _check_method(method: str) -> None:
    if method not in ("between_groups", "to_overall"):
        raise MetricFrameError(
            f"unknown method {method!r}; choose between_groups or to_overall"
        )


def _nanmean(values: list):
    """Elementwise mean of Series/DataFrames over replicates, ignoring NaN and ±inf."""
    if len(values) == 1:
        return values[0].replace([np.inf, -np.inf], np.nan)
    if isinstance(values[0], pd.DataFrame):
        arr = np.stack([v.to_numpy(dtype=float) for v in values])
        arr[~np.isfinite(arr)] = np.nan
        with warnings.catch_warnings():  # all-NaN cells stay NaN without a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.nanmean(arr, axis=0)
        return pd.DataFrame(m, index=values[0].index, columns=values[0].columns)
    mat = pd.concat(values, axis=1).replace([np.inf, -np.inf], np.nan)
    return mat.mean(axis=1, skipna=True).rename(None)


def interval_table(mat: pd.DataFrame, *, level: float = 0.9, interval: str = "t"
                   ) -> pd.DataFrame:
    """Rows of ``mat`` are quantities, columns replicates -> value, lo, hi, replicates."""
    if not 0 < level < 1:
        raise MetricFrameError(f"level must be between 0 and 1 (got {level})")
    if interval not in ("t", "percentile"):
        raise MetricFrameError(f"unknown interval {interval!r}; choose t or percentile")
    arr = mat.to_numpy(dtype=float)
    rows = [summarise(arr[i], level=level, interval=interval) for i in range(len(arr))]
    return pd.DataFrame(rows, index=mat.index, columns=["value", "lo", "hi", "replicates"])


def summarise(x: np.ndarray, *, level: float = 0.9, interval: str = "t"
              ) -> tuple[float, float, float, int]:
    """Mean and interval of one quantity over replicates (NaN replicates are dropped)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    k = len(x)
    if k == 0:
        return (math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if k == 1:
        return (mean, math.nan, math.nan, 1)
    if interval == "percentile":
        a = (1 - level) / 2
        lo, hi = np.quantile(x, [a, 1 - a])
        return (mean, float(lo), float(hi), k)
    from scipy import stats  # scipy.stats takes ~0.5 s to import; only intervals need it

    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, k - 1)) * sd / math.sqrt(k)
    return (mean, mean - half, mean + half, k)
