"""Load a scenario: read YAML safely, follow ``extends:``, apply ``--set`` overrides and
validate, turning every problem into a message that names the file, line, path, bad
value and what is allowed.

One input policy: scenario files and ``--set`` values go through the same YAML reader
(``read_yaml_text``: SafeLoader, then the shape checks of ``checks.yaml_shape_problems``
before any Python object is built).  ``extends:`` names a shipped scenario or a
``.yaml``/``.yml`` file, and a file that is not a scenario is never echoed back.

Names: a scenario's name is what the command line types (``described-beijing``); a
shipped scenario may also be named with underscores.  A file without a ``name:`` (or with
``name: null``) is named after its file.  In a file that ``extends:`` another (or in
``--set``), ``KEY: null`` removes what it inherits at KEY (a list, an act, a points entry,
...), and its default applies.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import re
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from scslab.errors import ScenarioError, ScenarioNotFound
from scslab.scenario.checks import semantic_problems, set_path_problems, yaml_shape_problems
from scslab.scenario.schema import ListRule, Scenario, reference_problems
from scslab.scenario.uncertainty import uncertain_problems

SHIPPED_DIR = Path(str(resources.files("scslab") / "scenarios"))
MAX_EXTENDS_DEPTH = 20
MAX_FILE_BYTES = 4 * 2**20  # scenarios are small; a bigger file is not one
SCENARIO_SUFFIXES = (".yaml", ".yml")


def shipped_scenarios() -> dict[str, Path]:
    """Names of the scenarios that ship with scslab, mapped to their files."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.yaml"))}


def find_scenario(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario reference is a path to a YAML file or the name of a shipped scenario
    (hyphens and underscores alike: ``described_beijing`` is ``described-beijing``)."""
    ref_s = str(ref)
    candidates = []
    if relative_to is not None:
        candidates.append(relative_to / ref_s)
    candidates.append(Path(ref_s))
    for c in candidates:
        if c.is_file():
            return c.resolve()
    shipped = shipped_scenarios()
    for name in (ref_s, ref_s.replace("_", "-")):
        if name in shipped:
            return shipped[name]
    close = difflib.get_close_matches(ref_s.replace("_", "-"), list(shipped), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ScenarioNotFound(
        [
            {
                "file": str(ref_s),
                "path": "",
                "message": f"no such scenario file or shipped scenario; {hint}shipped: "
                + ", ".join(shipped),
            }
        ]
    )


def name_from_file(path: Path) -> str | None:
    """The scenario name a file without ``name:`` gets: its file name, lower-case, with
    anything but letters, digits, '-' and '_' turned into '-'.

    >>> name_from_file(Path("My Class (v2).yaml"))
    'my-class-v2'
    """
    name = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-_")
    name = re.sub(r"^[^a-z]+", "", name)
    return name[:100] or None


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key (for error messages)."""


def read_yaml_text(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML ``text`` the one way scslab reads any input (files and ``--set``
    values): compose with the SafeLoader, refuse a bad shape (``yaml_shape_problems``),
    then build the Python value.  A ScenarioError names ``source``."""
    loader = None
    try:
        loader = _LineLoader(text)  # its reader refuses control characters at once
        node = loader.get_single_node()
        shape = yaml_shape_problems(node)
        if shape:
            raise ScenarioError([dict(p, file=source) for p in shape])
        data = loader.construct_document(node) if node is not None else None
    except RecursionError:
        raise ScenarioError([{"file": source, "path": "",
                              "message": "nested too deeply to be a scenario"}]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or type(e).__name__  # never the text itself
        raise ScenarioError(
            [
                {
                    "file": source,
                    "line": mark.line + 1 if mark else None,
                    "path": "",
                    "message": f"YAML syntax error: {problem}",
                }
            ]
        ) from None
    except (ValueError, OverflowError) as e:  # a value the shape checks did not foresee
        raise ScenarioError([{"file": source, "path": "",
                              "message": f"a value cannot be read: {str(e)[:120]}"}]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, node


def _read_yaml(path: Path) -> tuple[dict, dict[tuple, int]]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError([{"file": str(path), "path": "",
                                  "message": f"too large to be a scenario ({size:,} bytes; "
                                             f"at most {MAX_FILE_BYTES:,})"}])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.reason if isinstance(e, UnicodeDecodeError) else (e.strerror or str(e))
        raise ScenarioError(
            [{"file": str(path), "path": "", "message": f"cannot read: {why}"}]
        ) from None
    data, node = read_yaml_text(text, str(path))
    if data is None:
        raise ScenarioError(
            [{"file": str(path), "path": "", "message": "the file is empty (or only comments); "
              "a scenario needs name, description, start, days or end, population and acts, "
              "or extends: another scenario"}])
    if not isinstance(data, dict):
        raise ScenarioError(
            [{"file": str(path), "path": "", "value": type(data).__name__,
              "message": "a scenario file must be a mapping of keys to values"}]
        )
    known = set(Scenario.model_fields) | {"extends"}
    if not any(isinstance(k, str) and k in known for k in data):
        # not a scenario: say so without echoing what the file holds
        raise ScenarioError(
            [{"file": str(path), "path": "",
              "message": "not a scenario: none of its keys is a scenario's (a scenario has "
                         "name, description, start, days or end, population, acts, ... or "
                         "extends)"}])
    lines: dict[tuple, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return data, lines


def key_lines(node) -> dict[tuple, int]:
    """The line of every key and list item of a composed document, by path tuple."""
    out: dict[tuple, int] = {}
    if node is not None:
        _index_lines(node, (), out)
    return out


def _index_lines(node, prefix: tuple, out: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = yaml.safe_load(yaml.serialize(k)) if k.tag != "tag:yaml.org,2002:str" else k.value
            path = prefix + (str(key),)
            out[path] = k.start_mark.line + 1
            _index_lines(v, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            path = prefix + (str(i),)
            out[path] = v.start_mark.line + 1
            _index_lines(v, path, out)


def deep_merge(base: dict, over: dict, _key: str | None = None) -> dict:
    """``over`` on top of ``base``: mappings merge key by key, anything else replaces;
    ``None`` for a key ``base`` has removes it (its default then applies), except a grade
    of ``tiers``, where null means "the rest".

    >>> deep_merge({"lists": {"court": {"kind": "record"}, "black": {}}},
    ...            {"lists": {"court": None}})
    {'lists': {'black': {}}}
    """
    out = copy.deepcopy(base)
    for k, v in over.items():
        if v is None and k in out and _key != "tiers":
            del out[k]
        elif isinstance(v, dict) and isinstance(out.get(k), dict) and not _replaces(v):
            out[k] = deep_merge(out[k], v, str(k))
        else:
            out[k] = copy.deepcopy(v)
    return out


def _replaces(v: dict) -> bool:
    # A dated value replaces its parent's schedule as a whole, never merges with it; so
    # does a distribution of the uncertain: block (a child's normal must not inherit the
    # parent's uniform low and high).
    return bool(v) and (all(isinstance(k, dt.date) for k in v) or "dist" in v)


def _load_chain(path: Path, seen: tuple[Path, ...]) -> tuple[dict, list[tuple[Path, dict]]]:
    if path in seen:
        cycle = " -> ".join(str(p) for p in seen + (path,))
        raise ScenarioError(
            [{"file": str(path), "path": "extends", "message": f"cycle in extends: {cycle}"}]
        )
    if len(seen) > MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            [{"file": str(path), "path": "extends",
              "message": f"extends is nested more than {MAX_EXTENDS_DEPTH} deep"}]
        )
    data, lines = _read_yaml(path)
    parent_ref = data.pop("extends", None)
    if not seen and data.get("name") is None:
        # a file without a name of its own (or name: null) is named after the file
        derived = name_from_file(path)
        if derived:
            data["name"] = derived
    chain = [(path, lines)]
    if parent_ref is None:
        return data, chain
    if not isinstance(parent_ref, str):
        raise ScenarioError(
            [{"file": str(path), "line": lines.get(("extends",)), "path": "extends",
              "value": parent_ref, "message": "extends takes one scenario name or path"}]
        )
    shipped = shipped_scenarios()
    if parent_ref not in shipped and parent_ref.replace("_", "-") not in shipped and (
            not parent_ref.lower().endswith(SCENARIO_SUFFIXES)):
        raise ScenarioError(
            [{"file": str(path), "line": lines.get(("extends",)), "path": "extends",
              "value": parent_ref,
              "message": "extends names a shipped scenario (" + ", ".join(shipped)
                         + ") or a scenario file ending in .yaml or .yml"}])
    try:
        parent_path = find_scenario(parent_ref, relative_to=path.parent)
    except ScenarioNotFound as e:
        e.problems[0].update(file=str(path), line=lines.get(("extends",)), path="extends",
                             value=parent_ref)
        raise ScenarioError(e.problems) from None
    parent, parent_chain = _load_chain(parent_path, seen + (path,))
    return deep_merge(parent, data), chain + parent_chain


def parse_set(assignments: list[str] | None) -> dict:
    """``["a.b.c=VALUE", ...]`` -> nested dict; VALUE is read as YAML (numbers, dates,
    lists), by the same reader and with the same checks as scenario files."""
    out: dict = {}
    for item in assignments or []:
        if not isinstance(item, str):
            raise ScenarioError([{"file": "--set", "path": "", "value": repr(item)[:60],
                                  "message": "write --set as dotted.path=VALUE (text)"}])
        if "=" not in item:
            raise ScenarioError(
                [{"file": "--set", "path": _printable(item), "value": _printable(item),
                  "message": "write --set as dotted.path=VALUE"}]
            )
        key, raw = item.split("=", 1)
        if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in key):
            raise ScenarioError([{"file": "--set", "path": _printable(key),
                                  "message": "a path is made of names (letters, digits, "
                                             "'_', '-') joined by dots"}])
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ScenarioError(
                [{"file": "--set", "path": key, "message": "empty path in --set"}]
            )
        if raw.strip():
            try:
                value, _ = read_yaml_text(raw, "--set")
            except ScenarioError as e:
                problems = [dict(p, path=key.strip() + (f" (at {p['path']})" if p.get("path")
                                                        else ""), line=None) for p in e.problems]
                for p in problems:
                    p.setdefault("value", _printable(raw))
                raise ScenarioError(problems) from None
        else:
            value = ""
        cur = out
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
            if not isinstance(cur, dict):
                raise ScenarioError(
                    [{"file": "--set", "path": key, "message": "conflicting --set paths"}]
                )
        cur[parts[-1]] = value
    return out


def _printable(text: str) -> str:
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 60 else text[:57] + "..."


def resolve_scenario_dict(ref: str | Path, overrides: dict | None = None) -> tuple[dict, list]:
    """The merged (not yet validated) scenario dict and the chain of files it came from."""
    path = find_scenario(ref)
    data, chain = _load_chain(path, ())
    if overrides:
        data = deep_merge(data, overrides)
        # an override of the period replaces the file's way of giving it
        if "days" in overrides:
            data.pop("end", None)
        elif "end" in overrides:
            data.pop("days", None)
    return data, chain


def load_scenario(
    ref: str | Path, *, overrides: dict | None = None, sets: list[str] | None = None
) -> Scenario:
    """Load, merge and validate a scenario by shipped name or path.

    >>> s = load_scenario("minimal", sets=["population.residents=1000"])
    >>> s.population.residents
    1000
    """
    over = deep_merge(overrides or {}, parse_set(sets))
    data, chain = resolve_scenario_dict(ref, over)
    _drop_uncertain_under_removed(data, over)
    set_paths = _flatten_paths(parse_set(sets))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        problems = _problems_from(e, data, chain, set_paths)
        if sets:
            base, _ = resolve_scenario_dict(ref, overrides)
            problems = set_path_problems(e.errors(), base, sets) + problems
        raise ScenarioError(problems) from None
    problems = (reference_problems(scenario) or semantic_problems(scenario)
                or uncertain_problems(scenario))
    if problems:
        for p in problems:
            _locate(p, _key_path(p["path"]), chain, set_paths)
        raise ScenarioError(problems)
    return scenario


def scenario_data(s: Scenario) -> dict:
    """The resolved scenario as plain JSON-able data (dates as ISO strings)."""
    def conv(v):
        if isinstance(v, dict):
            return {conv(k) if isinstance(k, dt.date) else k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dt.date):
            return v.isoformat()
        return v

    return conv(s.model_dump(mode="python", exclude={"end"}))


def scenario_hash(s: Scenario) -> str:
    """sha256 of the resolved scenario's canonical JSON."""
    blob = json.dumps(scenario_data(s), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _drop_uncertain_under_removed(data: dict, over: dict) -> None:
    """An override that removes a part of the scenario (``--set policy.rewards=null``)
    removes the uncertain: entries of the parameters inside it too: what is not modelled
    has no unknown.  Entries elsewhere are kept and checked as usual."""
    removed = list(_removed_paths(over))
    block = data.get("uncertain")
    if not removed or not isinstance(block, dict):
        return
    for key in [k for k in block if any(k == r or k.startswith(r + ".") for r in removed)]:
        del block[key]


def _removed_paths(d: dict, prefix: str = ""):
    """The dotted paths an override sets to null."""
    for k, v in d.items():
        path = f"{prefix}{k}"
        if v is None:
            yield path
        elif isinstance(v, dict):
            yield from _removed_paths(v, path + ".")


def _flatten_paths(d: dict, prefix: tuple = ()) -> set[tuple]:
    out = set()
    for k, v in d.items():
        out.add(prefix + (str(k),))
        if isinstance(v, dict):
            out |= _flatten_paths(v, prefix + (str(k),))
    return out


def _key_path(path: str) -> tuple[str, ...]:
    """The keys of a problem's path; a key of the uncertain: block is itself dotted."""
    if path.startswith("uncertain."):
        return ("uncertain", path.removeprefix("uncertain."))
    return tuple(_split_path(path))


def _split_path(path: str) -> list[str]:
    out = []
    for part in path.split("."):
        while "[" in part:
            head, rest = part.split("[", 1)
            if head:
                out.append(head)
            idx, part = rest.split("]", 1)
            out.append(idx)
        if part:
            out.append(part)
    return out


def _locate(problem: dict, path: tuple, chain, set_paths) -> None:
    """Fill in the file and line that define ``path`` (the most derived file wins)."""
    if path in set_paths:
        problem.setdefault("file", "--set")
        return
    for p in range(len(path), 0, -1):
        for file, lines in chain:
            if path[:p] in lines:
                problem.setdefault("file", str(file))
                problem.setdefault("line", lines[path[:p]])
                return
    problem.setdefault("file", str(chain[0][0]))


def _problems_from(err: ValidationError, data: dict, chain, set_paths) -> list[dict]:
    problems = []
    for e in err.errors(include_url=False):
        path, node = [], data
        for part in e["loc"]:
            if isinstance(node, dict) and part in node:
                node = node[part]
                path.append(str(part))
            elif isinstance(node, dict) and str(part) in {str(k) for k in node}:
                key = next(k for k in node if str(k) == str(part))
                node = node[key]
                path.append(str(part))
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
                path.append(str(part))
            elif e["type"] in ("missing", "extra_forbidden") and part == e["loc"][-1]:
                path.append(str(part))
            # anything else is a union tag or validator name pydantic adds to the location
        msg = e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        value = e.get("input")
        friendly = _FRIENDLY.get(e["type"])
        if friendly is not None:
            msg = friendly(e, path)
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path.append(str((e.get("ctx") or {}).get("discriminator", "kind")).strip("'"))
            value = (e.get("ctx") or {}).get("tag", "") if e["type"] == "union_tag_invalid" \
                else ""
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(path[:-1], data)
            msg = "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
            value = path[-1] if path else value
        elif e["type"] == "missing":
            msg = "required field is missing"
            value = ""
        elif isinstance(value, dict | list):
            value = _short(value)
        elif isinstance(value, dt.datetime):
            value = value.isoformat()
        dotted = ".".join(
            f"[{p}]" if p.isdigit() and i > 0 else p for i, p in enumerate(path)
        ).replace(".[", "[")
        problem = {"path": dotted, "value": value, "message": msg}
        _locate(problem, tuple(path), chain, set_paths)
        problems.append(problem)
    return problems


def _tags(e: dict) -> str:
    tags = str((e.get("ctx") or {}).get("expected_tags", ""))
    if not tags:  # pydantic names them only for a wrong tag; the schema's list kinds
        union = typing.get_args(typing.get_args(ListRule)[0])
        return ", ".join(a for m in union for a in typing.get_args(
            m.model_fields["kind"].annotation))
    return ", ".join(t.strip(" '") for t in tags.split(","))


def _pattern(e: dict, path: list[str]) -> str:
    if path == ["name"]:
        return ("expected a scenario name: lower-case letters, digits and '-' (or '_'), "
                "starting with a letter, e.g. my-class")
    return ("expected a name of lower-case letters, digits and '_', starting with a letter, "
            "e.g. loan_arrears")


# pydantic's words for some errors, in the words of the scenario format
_FRIENDLY = {
    "union_tag_invalid": lambda e, p: (
        f"unknown kind {(e.get('ctx') or {}).get('tag')!r}; allowed: {_tags(e)}"),
    "union_tag_not_found": lambda e, p: f"a kind is required; allowed: {_tags(e)}",
    "date_parsing": lambda e, p: "expected a date YYYY-MM-DD",
    "date_from_datetime_parsing": lambda e, p: "expected a date YYYY-MM-DD",
    "date_from_datetime_inexact": lambda e, p: "expected a date YYYY-MM-DD (no time of day)",
    "date_type": lambda e, p: "expected a date YYYY-MM-DD",
    "bool_type": lambda e, p: "expected true or false (not text or a number)",
    "bool_parsing": lambda e, p: "expected true or false",
    "string_pattern_mismatch": _pattern,
}


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def _allowed_keys(path: list[str], data: dict) -> list[str]:
    """Field names the model at ``path`` accepts (best effort, for 'unknown key' errors)."""
    tp: Any = Scenario
    node: Any = data
    for part in path:
        tp = _unwrap(tp, node)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part)
            if field is None:
                return []
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        else:
            return []
        node = node.get(part) if isinstance(node, dict) else None
    tp = _unwrap(tp, node)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _unwrap(tp: Any, node: Any) -> Any:
    """Strip Annotated/Optional; pick a union member by its 'kind' tag."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            for tag in ("kind", "dist"):  # list rules; distributions of uncertain:
                if isinstance(node, dict) and tag in node:
                    for m in models:
                        field = m.model_fields.get(tag)
                        if field is not None and node[tag] in typing.get_args(
                                field.annotation):
                            return m
            tp = models[0] if models else members[0]
        else:
            return tp
