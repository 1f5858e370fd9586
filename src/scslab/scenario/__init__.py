"""Scenario files: schema, loading (with ``extends:`` and ``--set``), dated values."""

from scslab.scenario.loader import load_scenario, resolve_scenario_dict, shipped_scenarios
from scslab.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "resolve_scenario_dict", "shipped_scenarios"]
