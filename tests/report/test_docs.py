"""The generated docs are committed and must match what the generator makes now."""

from pathlib import Path

import pytest

from scslab.report.schema_doc import reference, scenario_page
from scslab.scenario.loader import shipped_scenarios

DOCS = Path(__file__).resolve().parents[2] / "docs"
REGEN = ("regenerate with: python -m scslab.report.schema_doc > docs/scenario-reference.md "
         "&& python -m scslab.report.schema_doc --scenarios docs/scenarios")


def test_scenario_reference_is_up_to_date():
    committed = (DOCS / "scenario-reference.md").read_text(encoding="utf-8")
    assert committed == reference(), "docs/scenario-reference.md is stale; " + REGEN


def test_reference_covers_every_model_and_field():
    from pydantic import BaseModel

    from scslab.scenario import schema

    text = reference()
    models = [m for m in vars(schema).values() if isinstance(m, type)
              and issubclass(m, BaseModel) and m.__module__ == schema.__name__
              and m.model_fields]
    reachable = [m for m in models if f"## {m.__name__}\n" in text]
    assert schema.Scenario in reachable and schema.Score in reachable
    for m in reachable:
        section = text.split(f"## {m.__name__}\n", 1)[1].split("\n## ", 1)[0]
        for name in m.model_fields:
            assert f"| `{name}` |" in section, f"{m.__name__}.{name} missing"


@pytest.mark.parametrize("name", ["tiny", "minimal"])
def test_shipped_scenario_pages_exist(name):
    assert (DOCS / "scenarios" / f"{name}.md").is_file()


def test_scenario_pages_are_up_to_date():
    for page in sorted((DOCS / "scenarios").glob("*.md")):
        name = page.stem
        if name not in shipped_scenarios():
            continue
        assert page.read_text(encoding="utf-8") == scenario_page(name), \
            f"docs/scenarios/{name}.md is stale; " + REGEN
