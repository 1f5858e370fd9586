"""Declared uncertainty: which numbers of a scenario nobody knows, and how unknown they are.

A scenario's ``uncertain:`` block maps a dotted parameter path (:mod:`scslab.scenario.params`)
to a distribution and a ``why:`` sentence that names the source of the range, or says
that none exists::

    uncertain:
      acts.judgment_default.rate.per_year:
        dist: loguniform
        low: 0.005
        high: 0.02
        why: No source gives the rate; a factor of two either way of a round number.
      departments.courts.records.judgment_default.coverage.2014-01-01:
        dist: beta
        a: 8
        b: 12
        why: ...

A dated value is uncertain one date at a time (the path ends in the date).  Each path must
name a real-valued number of the scenario, and every value the distribution can take must
be one the field accepts (a probability stays in [0, 1]); :func:`uncertain_problems`
checks both by validating the scenario with the support's ends put in.

The same distributions serve sensitivity analysis (as the ranges of a design), Bayesian
calibration (as priors, with :func:`log_density`) and intervals on every figure (as the
draws of :func:`sample`).  Values come from uniforms through each distribution's quantile
function (:meth:`Distribution.ppf`), so one design in the unit cube serves every kind.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from scslab.errors import ScenarioError
from scslab.scenario.params import ParameterError, get_param, set_param

# Quantiles a design may reach in a distribution with an unbounded tail: a Morris level or
# a Sobol point at 0 or 1 would otherwise be an infinite parameter.
TAIL = 0.001
# Stands for an infinite end of a support when asking the schema whether it accepts it.
HUGE = 1e300


def _finite(v: float, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number")
    return float(v)


Why = Annotated[str, Field(min_length=1, description="the source of the range, or a plain "
                                                    "statement that no source gives one")]
Low = Annotated[float, Field(description="lowest value")]
High = Annotated[float, Field(description="highest value")]
Mean = Annotated[float, Field(description="mean (before any cut)")]
Sd = Annotated[float, Field(description="standard deviation (before any cut), above 0")]


# frozen scipy distributions by kind and parameters (_Distribution._scipy)
_FROZEN: dict[tuple, Any] = {}
KEPT_FROZEN = 4096


class _Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def _check(self) -> None:  # pragma: no cover - every kind overrides it
        pass

    @model_validator(mode="after")
    def _valid(self):
        for name in type(self).model_fields:
            v = getattr(self, name)
            if name not in ("dist", "why"):
                _finite(v, name)
        self._check()
        return self

    # -- what every kind provides --------------------------------------------------------
    def support(self) -> tuple[float, float]:
        """The smallest and largest value the distribution can take (may be infinite)."""
        raise NotImplementedError

    def frozen(self):
        """The distribution as a frozen ``scipy.stats`` distribution."""
        raise NotImplementedError

    def _scipy(self):
        """``frozen()``, made once per kind and parameters: making a scipy distribution
        costs about a millisecond, and the sandbox checks the whole ``uncertain:`` block
        (tens of distributions) on every move of a lever."""
        key = (type(self).__name__, *self.params().values())
        hit = _FROZEN.get(key)
        if hit is None:
            if len(_FROZEN) >= KEPT_FROZEN:
                _FROZEN.clear()
            hit = _FROZEN[key] = self.frozen()
        return hit

    def ppf(self, u) -> np.ndarray:
        """Values at quantiles ``u`` (uniforms in [0, 1]); an unbounded tail is cut at
        :data:`TAIL` so that a design's corner stays a finite value."""
        u = np.asarray(u, dtype=float)
        lo, hi = self.support()
        if not math.isfinite(lo) or not math.isfinite(hi):
            u = np.clip(u, TAIL if not math.isfinite(lo) else 0.0,
                        1 - TAIL if not math.isfinite(hi) else 1.0)
        return np.asarray(self._scipy().ppf(u), dtype=float)

    def cdf(self, x) -> np.ndarray:
        return np.asarray(self._scipy().cdf(np.asarray(x, dtype=float)), dtype=float)

    def logpdf(self, x) -> np.ndarray:
        return np.asarray(self._scipy().logpdf(np.asarray(x, dtype=float)), dtype=float)

    def median(self) -> float:
        return float(self.ppf(0.5))

    def describe(self) -> str:
        """The distribution in a few words: ``loguniform 0.005 to 0.02``."""
        raise NotImplementedError

    def params(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in type(self).model_fields
                if k not in ("dist", "why")}


class Uniform(_Distribution):
    """Every value between ``low`` and ``high`` equally likely."""

    dist: Literal["uniform"] = Field(description="the kind of distribution")
    low: Low
    high: High
    why: Why

    def _check(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")

    def support(self):
        return self.low, self.high

    def frozen(self):
        from scipy import stats
        return stats.uniform(self.low, self.high - self.low)

    def describe(self):
        return f"uniform {self.low:g} to {self.high:g}"


class LogUniform(_Distribution):
    """Every order of magnitude between ``low`` and ``high`` equally likely (``low > 0``)."""

    dist: Literal["loguniform"] = Field(description="the kind of distribution")
    low: Annotated[float, Field(description="lowest value, above 0")]
    high: High
    why: Why

    def _check(self):
        if not 0 < self.low < self.high:
            raise ValueError(f"need 0 < low < high (got low {self.low:g}, high {self.high:g})")

    def support(self):
        return self.low, self.high

    def frozen(self):
        from scipy import stats
        return stats.loguniform(self.low, self.high)

    def describe(self):
        return f"loguniform {self.low:g} to {self.high:g}"


class Normal(_Distribution):
    """Normal with ``mean`` and ``sd``; its tails are unbounded, so it fits only fields
    that take any number (use ``truncnormal`` for a rate or a probability)."""

    dist: Literal["normal"] = Field(description="the kind of distribution")
    mean: Mean
    sd: Sd
    why: Why

    def _check(self):
        if not self.sd > 0:
            raise ValueError(f"sd must be above 0 (got {self.sd:g})")

    def support(self):
        return -math.inf, math.inf

    def frozen(self):
        from scipy import stats
        return stats.norm(self.mean, self.sd)

    def describe(self):
        return f"normal mean {self.mean:g}, sd {self.sd:g}"


class TruncNormal(_Distribution):
    """Normal with ``mean`` and ``sd`` cut to ``low``-``high``."""

    dist: Literal["truncnormal"] = Field(description="the kind of distribution")
    mean: Mean
    sd: Sd
    low: Low
    high: High
    why: Why

    def _check(self):
        if not self.sd > 0:
            raise ValueError(f"sd must be above 0 (got {self.sd:g})")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")

    def support(self):
        return self.low, self.high

    def frozen(self):
        from scipy import stats
        return stats.truncnorm((self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd,
                               loc=self.mean, scale=self.sd)

    def describe(self):
        return (f"truncnormal mean {self.mean:g}, sd {self.sd:g}, "
                f"{self.low:g} to {self.high:g}")


class Beta(_Distribution):
    """Beta(``a``, ``b``) stretched over ``low``-``high`` (default 0-1): for shares and
    probabilities; its mean is ``low + (high - low) a / (a + b)``."""

    dist: Literal["beta"] = Field(description="the kind of distribution")
    a: Annotated[float, Field(description="first shape parameter, above 0")]
    b: Annotated[float, Field(description="second shape parameter, above 0")]
    low: Low = 0.0
    high: High = 1.0
    why: Why

    def _check(self):
        if not (self.a > 0 and self.b > 0):
            raise ValueError(f"a and b must be above 0 (got a {self.a:g}, b {self.b:g})")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")

    def support(self):
        return self.low, self.high

    def frozen(self):
        from scipy import stats
        return stats.beta(self.a, self.b, loc=self.low, scale=self.high - self.low)

    def describe(self):
        span = "" if (self.low, self.high) == (0.0, 1.0) else f" on {self.low:g} to {self.high:g}"
        return f"beta a {self.a:g}, b {self.b:g}{span}"


class Triangular(_Distribution):
    """Triangular from ``low`` to ``high``, most likely at ``mode``."""

    dist: Literal["triangular"] = Field(description="the kind of distribution")
    low: Low
    mode: Annotated[float, Field(description="most likely value")]
    high: High
    why: Why

    def _check(self):
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(f"need low <= mode <= high and low < high (got {self.low:g}, "
                             f"{self.mode:g}, {self.high:g})")

    def support(self):
        return self.low, self.high

    def frozen(self):
        from scipy import stats
        width = self.high - self.low
        return stats.triang((self.mode - self.low) / width, loc=self.low, scale=width)

    def describe(self):
        return f"triangular {self.low:g} to {self.high:g}, mode {self.mode:g}"


Distribution = Annotated[
    Uniform | LogUniform | Normal | TruncNormal | Beta | Triangular,
    Field(discriminator="dist"),
]
KINDS = ("uniform", "loguniform", "normal", "truncnormal", "beta", "triangular")


def _drop_nulls(v: Any) -> Any:
    """``path: null`` in a scenario that extends another takes that path's uncertainty away."""
    if isinstance(v, dict):
        return {str(k): d for k, d in v.items() if d is not None}
    return v


Uncertain = Annotated[dict[str, Distribution], BeforeValidator(_drop_nulls)]


# ---------------------------------------------------------------- values of a scenario


def from_unit(uncertain: Mapping[str, _Distribution], u) -> np.ndarray:
    """Points of the unit cube (rows, one column per path) as parameter values."""
    u = np.atleast_2d(np.asarray(u, dtype=float))
    if u.shape[1] != len(uncertain):
        raise ValueError(f"{u.shape[1]} columns for {len(uncertain)} parameters")
    return np.column_stack([d.ppf(u[:, j]) for j, d in enumerate(uncertain.values())]) \
        if uncertain else np.zeros((len(u), 0))


def sample(uncertain: Mapping[str, _Distribution], n: int, rng: np.random.Generator
           ) -> np.ndarray:
    """``n`` independent draws (rows) of every path (columns)."""
    return from_unit(uncertain, rng.random((n, len(uncertain))))


def to_normal(uncertain: Mapping[str, _Distribution], x) -> np.ndarray:
    """Parameter values (rows) as normal scores: ``z = Phi^-1(F(x))`` for each path's
    distribution ``F``.  Under the declared distributions ``z`` is standard normal, with
    no bounds, which suits proposals that move particles about (ABC-SMC)."""
    from scipy.special import ndtri

    x = np.atleast_2d(np.asarray(x, dtype=float))
    cols = []
    for j, d in enumerate(uncertain.values()):
        f = d.frozen()
        c, s = f.cdf(x[:, j]), f.sf(x[:, j])
        # the smaller tail keeps its digits: Phi^-1(1 - s) = -Phi^-1(s)
        cols.append(np.where(c <= 0.5, ndtri(c), -ndtri(s)))
    return np.column_stack(cols) if cols else np.zeros((len(x), 0))


def from_normal(uncertain: Mapping[str, _Distribution], z) -> np.ndarray:
    """Normal scores (rows) back to parameter values: the inverse of :func:`to_normal`."""
    from scipy.special import ndtr

    z = np.atleast_2d(np.asarray(z, dtype=float))
    cols = []
    for j, d in enumerate(uncertain.values()):
        f = d.frozen()
        zj = z[:, j]
        cols.append(np.where(zj <= 0, f.ppf(ndtr(np.minimum(zj, 0.0))),
                             f.isf(ndtr(-np.maximum(zj, 0.0)))))
    return np.column_stack(cols) if cols else np.zeros((len(z), 0))


def log_density(uncertain: Mapping[str, _Distribution], x) -> np.ndarray:
    """The joint log-density of rows ``x`` under independent marginals (``-inf`` outside
    the support)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    out = np.zeros(len(x))
    for j, d in enumerate(uncertain.values()):
        out += d.logpdf(x[:, j])
    return out


def uniform_range(low: float, high: float, why: str) -> Uniform:
    """The distribution of a ``--param PATH=LO:HI`` range."""
    return Uniform(dist="uniform", low=low, high=high, why=why)


def apply_values(data: dict, values: Mapping[str, float]) -> dict:
    """A copy of scenario ``data`` with each path set to its value."""
    out = copy.deepcopy(data)
    for p, v in values.items():
        set_param(out, p, float(v))
    return out


def with_values(scenario, values: Mapping[str, float]):
    """The scenario (a validated ``Scenario``) with each path set to its value, validated
    again; an invalid combination is a ScenarioError naming the paths and values."""
    data = scenario.model_dump(mode="python", exclude={"end"})  # a fresh copy: set in place
    for p, v in values.items():
        set_param(data, p, float(v))
    try:
        return type(scenario).model_validate(data)
    except ValidationError as e:
        raise ScenarioError([{"file": "uncertain", "path": ", ".join(values),
                              "value": {k: float(v) for k, v in values.items()},
                              "message": "these values make the scenario invalid: "
                                         + "; ".join(_messages(e))}]) from None


def nominal_values(scenario, uncertain: Mapping[str, _Distribution]) -> dict[str, float]:
    """Each path's value as the scenario declares it, or the distribution's median where
    the declared value lies outside the distribution's support."""
    data = scenario.model_dump(mode="python", exclude={"end"})
    out = {}
    for p, d in uncertain.items():
        v = get_param(data, p)
        lo, hi = d.support()
        out[p] = v if lo <= v <= hi else d.median()
    return out


# ---------------------------------------------------------------- checks


def _messages(e: ValidationError) -> list[str]:
    return [err["msg"].removeprefix("Value error, ") for err in e.errors(include_url=False)]


def uncertain_problems(scenario, *, own_value_inside: bool = True) -> list[dict]:
    """Every path of the scenario's ``uncertain:`` block must name a real-valued number,
    the scenario's own value must lie inside its distribution (unless
    ``own_value_inside=False``: ranges given on the command line may explore elsewhere),
    and each end of the distribution's support must be a value the field accepts.

    Problems are dicts with ``path``, ``value`` and ``message`` (the format of
    ``schema.reference_problems``); the loader adds the file and line.
    """
    uncertain = getattr(scenario, "uncertain", None) or {}
    if not uncertain:
        return []
    model = type(scenario)
    data = scenario.model_dump(mode="python", exclude={"end"})
    problems: list[dict] = []
    named: dict[str, _Distribution] = {}
    for p, d in uncertain.items():
        try:
            value = get_param(data, p)
        except ParameterError as e:
            problems.append({"path": f"uncertain.{p}", "value": p,
                             "message": str(e).removeprefix(f"{p}: ")
                             + "; a path names one number of this scenario"})
            continue
        lo, hi = d.support()
        if own_value_inside and not lo <= value <= hi:
            # most often a scenario that changes a value and inherits its parent's range
            problems.append({"path": f"uncertain.{p}", "value": d.describe(),
                             "message": f"the scenario's own value {value:g} lies outside "
                                        f"the distribution ({lo:g} to {hi:g}); declare a "
                                        "range around it, or drop it with `path: null`"})
            continue
        named[p] = d

    def accepts(values: dict[str, float]) -> list[str]:
        try:
            model.model_validate(apply_values(data, values))
        except ValidationError as e:
            return _messages(e)
        except ParameterError as e:  # pragma: no cover - paths were checked above
            return [str(e)]
        return []

    def end(v: float) -> float:
        return v if math.isfinite(v) else math.copysign(HUGE, v)

    lows = {p: end(d.support()[0]) for p, d in named.items()}
    highs = {p: end(d.support()[1]) for p, d in named.items()}
    # a value strictly inside the support with a fractional part: whole-number fields
    # (days, points) cannot take the draws of a continuous distribution
    middle = {p: d.median() for p, d in named.items()}
    inner = {p: m + 1e-7 * (1 + abs(m)) for p, m in middle.items()}
    if not (accepts(lows) or accepts(highs) or accepts(inner)):
        return problems  # the common case: three validations for the whole block
    for p, d in named.items():
        lo, hi = d.support()
        for what, v in (("lowest", lows[p]), ("highest", highs[p]), ("a middle", inner[p])):
            bad = accepts({p: v})
            if bad:
                if what == "a middle":
                    message = (f"{p} does not accept a fractional value such as {v:.6g}: "
                               f"{'; '.join(bad)}; only fields that take any real number "
                               "can be uncertain")
                else:
                    shown = lo if what == "lowest" else hi
                    message = (f"{d.dist} reaches the {what} value {shown:g}, which {p} "
                               f"does not accept: {'; '.join(bad)}"
                               + ("" if math.isfinite(shown) else
                                  "; use truncnormal or beta for a bounded field"))
                problems.append({"path": f"uncertain.{p}", "value": d.describe(),
                                 "message": message})
                break
    return problems
