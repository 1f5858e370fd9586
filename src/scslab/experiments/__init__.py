"""Experiments on runs: comparisons, the system-off twin, published targets, calibration."""
