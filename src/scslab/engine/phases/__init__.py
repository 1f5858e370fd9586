"""The phases of one simulated day, one file each, in the order engine/day_loop.py runs
them: acts, records (and remedies), listing, exposure (attempts), metrics."""
