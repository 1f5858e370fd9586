"""Self-contained HTML reports of scslab runs, and the chart builders behind them.

``scslab report RUN_DIR [RUN_DIR ...] -o report.html`` writes one HTML file that carries
its charts' JavaScript and data inline and loads nothing from the network.
"""

from scslab.report.data import RunView
from scslab.report.html import build_report, write_report

__all__ = ["RunView", "build_report", "write_report"]
