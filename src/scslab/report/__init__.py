"""Self-contained HTML reports of scslab runs, the chart builders behind them, the life of
one synthetic resident, and the scenario in plain words.

``scslab report RUN_DIR [RUN_DIR ...] -o report.html`` writes one HTML file that carries
its charts' JavaScript and data inline and loads nothing from the network
(:func:`scslab.report.html.write_report`).  Modules load on use: this package imports
nothing heavy by itself.
"""
