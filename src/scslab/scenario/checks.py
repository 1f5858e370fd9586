"""Checks a scenario must pass before any work starts, beyond the schema and names.

* :func:`yaml_shape_problems` - a YAML document that is recursive, nested too deeply,
  expands (through ``&anchor``/``*alias``) into too many nodes, repeats a key in one
  mapping, uses a merge key (``<<:``), or holds an impossible or overflowing date, a whole
  number longer than any scslab can use, or text with a lone surrogate; checked on the
  composed node graph, before any Python object is built, for files and ``--set`` values
  alike.
* :func:`semantic_problems` - numbers that are not finite, and a policy that can never
  list anyone: a score list whose threshold lies beyond every reachable score, a record
  list whose acts never reach the platform, a sanction or reward whose lists never list.
* :func:`set_path_problems` - a ``--set`` whose path does not exist in the scenario.

Every problem is a dict in the format of ``schema.reference_problems`` (``path``,
``value``, ``message``; the loader adds file and line).  The checks read the scenario
defensively: a section or list kind they do not know is assumed able to do its job, so
new sections never make them fail.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

MAX_DEPTH = 64
MAX_NODES = 1_000_000
MAX_INT_DIGITS = 20  # 2**63 has 19 digits: no scenario value needs more
INF = math.inf
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"
_MERGE = "tag:yaml.org,2002:merge"


# ---------------------------------------------------------------- the YAML document


def yaml_shape_problems(node: yaml.Node | None) -> list[dict]:
    """Recursion, depth, alias expansion and impossible scalars of a composed YAML
    document (iterative).  A scalar's problem carries the dotted path to it."""
    if node is None:
        return []
    size: dict[int, int] = {}  # id(node) -> expanded node count
    depth_of: dict[int, int] = {}  # id(node) -> height
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool, int, str]] = [(node, False, 0, "")]
    while stack:
        n, done, depth, where = stack.pop()
        key = id(n)
        children = _children(n)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth_of[key] = 1 + max((depth_of[id(c)] for c in children), default=0)
            if size[key] > MAX_NODES:
                return [_shape("the document expands (through &anchors and *aliases) into "
                               f"more than {MAX_NODES:,} values; write it out plainly",
                               n)]
            continue
        if key in size:
            continue
        if key in on_path:
            return [_shape("an alias refers to a value that contains it (a recursive "
                           "document); a scenario must be a plain tree", n)]
        if depth > MAX_DEPTH:
            return [_shape(f"nested more than {MAX_DEPTH} levels deep", n)]
        if isinstance(n, yaml.ScalarNode):
            problem = _scalar_problem(n)
            if problem:
                return [dict(_shape(problem, n), path=where, value=_shown(n.value))]
        if isinstance(n, yaml.MappingNode):
            seen: set = set()
            for k, _ in n.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.tag == _MERGE:
                        return [dict(_shape("YAML merge keys (<<) are not read in scenarios; "
                                            "write the keys out (to share settings, use "
                                            "extends:)", k), path=where, value=k.value)]
                    if (k.tag, k.value) in seen:
                        return [dict(_shape(f"duplicate key {k.value!r} in one mapping (YAML "
                                            "would silently keep only the last); give each "
                                            "key once", k), value=k.value)]
                    seen.add((k.tag, k.value))
        on_path.add(key)
        stack.append((n, True, depth, where))
        for c, label in _labelled(n):
            if id(c) in on_path:
                return [_shape("an alias refers to a value that contains it (a recursive "
                               "document); a scenario must be a plain tree", c)]
            if id(c) not in size:
                stack.append((c, False, depth + 1, _join(where, label)))
    return []


def _scalar_problem(n: yaml.ScalarNode) -> str | None:
    text = n.value
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        return ("not text: it holds a lone surrogate (an escape such as \\ud800 that is "
                "half of a character); write the character itself")
    if n.tag == _INT:
        digits = text.lstrip("+-").replace("_", "")
        if len(digits) > MAX_INT_DIGITS:
            return (f"a whole number of {len(digits):,} digits; scslab's numbers have at "
                    f"most {MAX_INT_DIGITS - 1} (they fit in 64 bits)")
    if n.tag == _TIMESTAMP:
        try:
            yaml.constructor.SafeConstructor().construct_yaml_timestamp(n)
        except (ValueError, OverflowError) as e:
            return f"not a date: {e}; write YYYY-MM-DD"
    return None


def _shown(value: str) -> str:
    value = value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return value if len(value) <= 40 else value[:37] + "..."


def _labelled(n: yaml.Node) -> list[tuple[yaml.Node, str | None]]:
    """Children with the path label of the values (keys get none)."""
    if isinstance(n, yaml.MappingNode):
        out = []
        for k, v in n.value:
            label = k.value if isinstance(k, yaml.ScalarNode) else None
            out += [(k, None), (v, label)]
        return out
    if isinstance(n, yaml.SequenceNode):
        return [(v, f"[{i}]") for i, v in enumerate(n.value)]
    return []


def _join(where: str, label: str | None) -> str:
    if label is None:
        return where
    if label.startswith("["):
        return where + label
    return f"{where}.{label}" if where else label


def _children(n: yaml.Node) -> list[yaml.Node]:
    if isinstance(n, yaml.MappingNode):
        return [x for kv in n.value for x in kv]
    if isinstance(n, yaml.SequenceNode):
        return list(n.value)
    return []


def _shape(message: str, n: yaml.Node) -> dict:
    return {"path": "", "line": n.start_mark.line + 1, "message": message}


# ---------------------------------------------------------------- --set paths


def set_path_problems(errors: list[dict], base: dict, sets: list[str]) -> list[dict]:
    """``--set`` paths that run through something the scenario does not have.

    ``errors`` are pydantic's errors for the merged scenario; a ``--set`` that creates a
    new entry is only reported when that entry then fails to validate (an entry created
    whole by ``--set``, e.g. a new list with its ``kind``, is fine).
    """
    problems = []
    bad_locs = [tuple(str(p) for p in e.get("loc", ())) for e in errors]
    paths = [tuple(p for p in a.split("=", 1)[0].strip().split(".") if p) for a in sets]
    for parts in [p for p in paths if p]:
        node: Any = base
        for i, part in enumerate(parts):
            here = ".".join(parts[:i]) or "(top level)"
            if i > 0 and not isinstance(node, dict):
                problems.append({
                    "file": "--set", "path": ".".join(parts), "value": part,
                    "message": f"{here} is a single value, not a section; "
                               f"--set {here}=VALUE to change it",
                })
                break
            if part not in node and not any(str(k) == part for k in node):
                if i == len(parts) - 1:
                    break  # a new key: the schema says whether it is allowed
                created = tuple(parts[: i + 1])
                if any(loc[: len(created)] == created for loc in bad_locs):
                    have = ", ".join(sorted(str(k) for k in node)) or "nothing"
                    problems.append({
                        "file": "--set", "path": ".".join(parts), "value": part,
                        "message": f"no such path: {here} has no {part!r} (it has: {have}); "
                                   "--set changes existing entries, or adds one only "
                                   "when given whole",
                    })
                break
            if i == len(parts) - 1:
                break
            node = node[part] if part in node else next(
                v for k, v in node.items() if str(k) == part)
    return problems


# ---------------------------------------------------------------- the scenario's meaning


def semantic_problems(s) -> list[dict]:
    """Problems of a validated scenario whose names all resolve (see module doc)."""
    problems = _nonfinite(s)
    if problems:
        return problems
    try:
        problems += _never_listing(s)
    except (AttributeError, KeyError, TypeError, ValueError):  # pragma: no cover
        # a section this check does not understand yet: the engine decides
        pass
    return problems


def _nonfinite(s) -> list[dict]:
    problems = []

    def walk(v, path):
        if isinstance(v, float) and not math.isfinite(v):
            problems.append({"path": path, "value": v,
                             "message": "expected a finite number (not .inf or .nan)"})
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}.{k}" if path else str(k))
        elif isinstance(v, list | tuple):
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]")

    walk(s.model_dump(mode="python"), "")
    return problems


def _values(v) -> list:
    """Every value a dated value takes (a plain value is its only value)."""
    return list(v.values()) if isinstance(v, dict) else [v]


def _max(v) -> float:
    vals = [x for x in _values(v) if isinstance(x, int | float)]
    return max(vals) if vals else 0.0


def _subject(x) -> str:
    return getattr(x, "subject", "resident") or "resident"


def _acts_reaching_platform(s) -> dict[str, str]:
    """Acts whose records can reach the pooled platform and count there, each with why
    not for those that cannot (value '' means it can)."""
    why: dict[str, str] = {a: "no department records it" for a in s.acts}
    sc = s.policy.score
    for a in s.acts:
        ret = sc.retention_days.get(a, sc.default_retention_days)
        if all(v == 0 for v in _values(ret)):
            why[a] = "its records are kept 0 days"
    for d, dep in s.departments.items():
        for a, rec in dep.records.items():
            if a not in s.acts or why[a] in ("", "its records are kept 0 days"):
                continue
            act = s.acts[a]
            happens = act.rate.daily_probability() > 0 and _max(rec.coverage) > 0
            false = _max(rec.false_per_resident_year) > 0
            if getattr(dep, "shares_from", None) is None:
                why[a] = f"department {d} records it but never shares (shares_from is null)"
            elif not (happens or false):
                why[a] = (f"it never happens or department {d} never records it "
                          "(rate, coverage and false records are all 0)")
            else:
                why[a] = ""
    return why


def _score_range(s, subject: str, reach: dict[str, str]) -> tuple[float, float, str]:
    """Lowest and highest score a ``subject`` can have, and how that was worked out."""
    sc = s.policy.score
    rules = sc if subject == "resident" else getattr(s.policy, "firm_score", sc)
    base = rules.base
    lo = hi = float(base)
    for a, act in s.acts.items():
        if _subject(act) != subject or reach.get(a) != "" or a not in sc.points:
            continue
        pts = [p for p in _values(sc.points[a])] + [0]
        cap = sc.caps.get(a)
        if min(pts) < 0:
            lo -= cap if cap is not None else INF
        if max(pts) > 0:
            hi += cap if cap is not None else INF
    if rules.min is not None:
        lo, hi = max(lo, rules.min), max(hi, rules.min)
    if rules.max is not None:
        lo, hi = min(lo, rules.max), min(hi, rules.max)
    how = f"base {base}"
    if rules.min is not None:
        how += f", min {rules.min}"
    if rules.max is not None:
        how += f", max {rules.max}"
    lost = [f"{a} ({reach[a]})" for a, act in s.acts.items()
            if _subject(act) == subject and a in sc.points and reach.get(a)]
    if lost:
        how += "; scored acts that never count: " + "; ".join(lost)
    return lo, hi, how


def _fmt(x: float) -> str:
    if x == INF:
        return "unbounded"
    if x == -INF:
        return "-unbounded"
    return f"{x:g}"


def _never_listing(s) -> list[dict]:
    """Lists that can never list anyone, and sanctions/rewards that hang on such lists."""
    problems: list[dict] = []
    reach = _acts_reaching_platform(s)
    lists = s.policy.lists
    can: dict[str, bool] = {}
    derived: dict[str, list[str]] = {}
    for name, rule in lists.items():
        kind = getattr(rule, "kind", None)
        path = f"policy.lists.{name}"
        if kind == "score":
            lo, hi, how = _score_range(s, _subject(rule), reach)
            if rule.below is not None:
                thr = _values(rule.below)
                can[name] = any(t > lo for t in thr)
                if not can[name]:
                    problems.append({
                        "path": f"{path}.below", "value": rule.below if len(thr) > 1 else thr[0],
                        "message": f"this list can never list anyone: no score can fall "
                                   f"below it (lowest reachable score {_fmt(lo)}: {how}); "
                                   f"allowed: a threshold above {_fmt(lo)}",
                    })
            else:
                thr = _values(rule.at_least)
                can[name] = any(t <= hi for t in thr)
                if not can[name]:
                    problems.append({
                        "path": f"{path}.at_least",
                        "value": rule.at_least if len(thr) > 1 else thr[0],
                        "message": f"this list can never list anyone: no score reaches "
                                   f"it (highest reachable score {_fmt(hi)}: {how}); "
                                   f"allowed: a threshold of at most {_fmt(hi)}",
                    })
        elif kind == "record":
            ok = [a for a in rule.acts if reach.get(a) == ""]
            durations = _values(rule.duration_days)
            if not ok:
                can[name] = False
                reasons = "; ".join(f"{a}: {reach.get(a) or 'unknown act'}" for a in rule.acts)
                fine = ", ".join(a for a, r in reach.items() if r == "") or "none"
                problems.append({
                    "path": f"{path}.acts", "value": list(rule.acts),
                    "message": f"this list can never list anyone: none of its acts reaches "
                               f"the platform ({reasons}); acts that do: {fine}",
                })
            elif all(d == 0 for d in durations):
                can[name] = False
                problems.append({
                    "path": f"{path}.duration_days", "value": rule.duration_days,
                    "message": "this list can never list anyone: it lists for 0 days; "
                               "allowed: 1 to 36500 days",
                })
            else:
                can[name] = True
        else:  # lists fed by other lists (firm-linked, household, escalation) or unknown
            sources = list(getattr(rule, "lists", None) or [])
            if getattr(rule, "source", None):
                sources.append(rule.source)
            if sources:
                derived[name] = sources
            else:
                can[name] = True  # a kind this check does not know: assume it can
    # a derived list can list if any of its sources can (fixpoint; cycles cannot)
    changed = True
    while changed:
        changed = False
        for name, sources in derived.items():
            if name not in can and any(can.get(x) for x in sources):
                can[name] = True
                changed = True
    for name, sources in derived.items():
        if name not in can:
            can[name] = False
            problems.append({
                "path": f"policy.lists.{name}", "value": sources,
                "message": "this list can never list anyone: every list it follows "
                           "can never list anyone",
            })
    for section in ("sanctions", "rewards"):
        for action, rule in (getattr(s.policy, section, None) or {}).items():
            names = list(getattr(rule, "lists", []) or [])
            if names and not any(can.get(x, True) for x in names):
                problems.append({
                    "path": f"policy.{section}.{action}.lists", "value": names,
                    "message": f"this {section[:-1]} never applies: none of its lists can "
                               "ever list anyone (see the problems above)",
                })
    return problems
