"""The exceptions scslab raises.  Every user-facing failure is a subclass of ScslabError,
so the CLI can turn it into a clear message and exit code 2 without a traceback."""

from __future__ import annotations


class ScslabError(Exception):
    """Base class of every error scslab reports to its user."""

    exit_code = 2


class ScenarioError(ScslabError):
    """A scenario file (or a --set override) is wrong.

    Carries one entry per problem: the file, the line (when known), the dotted path to the
    field, the bad value and what is allowed.
    """

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = []
        for p in self.problems:
            where = p.get("file") or "<scenario>"
            if p.get("line"):
                where += f":{p['line']}"
            path = p.get("path") or "(top level)"
            bad = p.get("value", "")
            msg = f"{where}: {path}: {p['message']}"
            if bad != "":
                msg += f" (got {bad!r})"
            lines.append(msg)
        return "\n".join(lines)


class ScenarioNotFound(ScenarioError):
    """A scenario name or path that does not exist."""


class RunDirError(ScslabError):
    """A run directory that cannot be written, or read as a complete scslab run."""


class InvariantError(ScslabError):
    """A simulation invariant broke (a bug, not a user error): names the rule."""

    exit_code = 3
