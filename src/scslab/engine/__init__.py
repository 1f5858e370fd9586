"""The simulation engine: compile a scenario to arrays, run units through the event loop."""
