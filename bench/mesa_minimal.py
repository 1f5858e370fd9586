"""Mesa reference implementation of scslab's "minimal model".

scslab's benchmark runs this file next to its own engine on the same minimal
model. The two are compared side by side, first on outputs (they must agree
within sampling error, since they use different RNG streams) and then on speed.

This file is written on purpose the way a typical Mesa modeller would write it:
one ``Agent`` per resident, one ``Model.step()`` per day, agents activated with
``self.agents.do("step")``, Python ``random`` draws, and a ``DataCollector``.
It is NOT optimized. That is what makes it a fair baseline for "what you get
with an off-the-shelf agent-based framework".

The minimal model, per resident and day:

* income decile ``d`` ~ uniform{0..9}; group ``g`` = 1 with probability 0.3;
  every resident starts at a score of 1000;
* a true negative act happens with probability 1/1000 (2/1000 if ``d < 3``)
  and is recorded with probability 0.9 (-50 points);
* a false negative record appears with probability 1/20000 (-50 points);
* a prosocial act happens with probability 1/200 and is always recorded
  (+5 points);
* every record counts on days t..t+364 and is gone from day t+365;
* a resident is listed while their score is below 950; a listed day is
  "wrongful" if the score without false records would not be below 950;
* a flight is attempted with probability (1/300)*(1 + d/3) and is blocked
  if the resident is listed.

Within a day: expiries and new records first, then the list status, then
flights.

Usage::

    python bench/mesa_minimal.py --residents 10000 --days 730 --seed 0 --json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import deque

import mesa

START_SCORE = 1000
THRESHOLD = 950
NEGATIVE_POINTS = -50
PROSOCIAL_POINTS = 5
RECORD_LIFETIME = 365  # days a record counts: created on t, gone from t + 365
P_NEGATIVE_ACT = 1 / 1000
P_RECORDED = 0.9
P_FALSE_RECORD = 1 / 20000
P_PROSOCIAL = 1 / 200
P_GROUP = 0.3
LAST_DAYS = 100  # window for mean_listed_last100


class Resident(mesa.Agent):
    """One resident: keeps its own live records and running scores."""

    def __init__(self, model: MinimalModel) -> None:
        super().__init__(model)
        self.decile = self.random.randrange(10)
        self.group = 1 if self.random.random() < P_GROUP else 0
        # Records are created in day order, so they also expire in that order:
        # a FIFO of (expires_on, points, is_false) is enough.
        self.records: deque[tuple[int, int, bool]] = deque()
        self.score = START_SCORE
        # Score as it would be without false records, for "wrongful" listings.
        self.true_score = START_SCORE
        self.listed = False
        self.wrongful = False

    def add_record(self, day: int, points: int, is_false: bool) -> None:
        self.records.append((day + RECORD_LIFETIME, points, is_false))
        self.score += points
        if not is_false:
            self.true_score += points

    def step(self) -> None:
        day = self.model.day
        # 1. Expiries, then the day's new records.
        while self.records and self.records[0][0] <= day:
            _, points, is_false = self.records.popleft()
            self.score -= points
            if not is_false:
                self.true_score -= points

        p_negative = 2 * P_NEGATIVE_ACT if self.decile < 3 else P_NEGATIVE_ACT
        if self.random.random() < p_negative and self.random.random() < P_RECORDED:
            self.add_record(day, NEGATIVE_POINTS, is_false=False)
        if self.random.random() < P_FALSE_RECORD:
            self.add_record(day, NEGATIVE_POINTS, is_false=True)
        if self.random.random() < P_PROSOCIAL:
            self.add_record(day, PROSOCIAL_POINTS, is_false=False)

        # 2. List status after today's records.
        self.listed = self.score < THRESHOLD
        self.wrongful = self.listed and self.true_score >= THRESHOLD

        # 3. Flight attempt, blocked while listed.
        if self.random.random() < (1 / 300) * (1 + self.decile / 3) and self.listed:
            self.model.blocked_flights += 1


class MinimalModel(mesa.Model):
    """The minimal model: one step() is one day."""

    def __init__(self, residents: int = 10_000, seed: int = 0) -> None:
        # rng=seed seeds both self.random (used by the agents) and self.rng.
        super().__init__(rng=seed)
        self.day = 0
        self.blocked_flights = 0
        self.listed_today = 0
        self.wrongful_today = 0
        Resident.create_agents(self, residents)
        self.datacollector = mesa.DataCollector(
            model_reporters={"listed": "listed_today", "wrongful": "wrongful_today"}
        )

    def step(self) -> None:
        # Residents do not interact, so activation order does not change the
        # outcome; plain do() avoids spending random draws on a shuffle.
        self.agents.do("step")
        self.listed_today = sum(self.agents.get("listed"))
        self.wrongful_today = sum(self.agents.get("wrongful"))
        self.datacollector.collect(self)
        self.day += 1


def run_mesa_minimal(residents: int = 10_000, days: int = 730, seed: int = 0) -> dict:
    """Run the minimal model for ``days`` days and return its summary outputs."""
    start = time.perf_counter()
    model = MinimalModel(residents=residents, seed=seed)
    for _ in range(days):
        model.step()
    seconds = time.perf_counter() - start

    listed_by_day = [int(n) for n in model.datacollector.model_vars["listed"]]
    wrongful_by_day = model.datacollector.model_vars["wrongful"]
    last = listed_by_day[-LAST_DAYS:]  # all days if the run is shorter than 100
    total_listed = sum(listed_by_day)
    return {
        "residents": residents,
        "days": days,
        "mean_listed_last100": sum(last) / len(last) if last else 0.0,
        "blocked_flights": model.blocked_flights,
        "wrongful_share": sum(wrongful_by_day) / total_listed if total_listed else 0.0,
        "listed_by_day": listed_by_day,
        "seconds": seconds,
        "resident_days_per_second": residents * days / seconds if seconds > 0 else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    result = run_mesa_minimal(args.residents, args.days, args.seed)
    summary = {k: v for k, v in result.items() if k != "listed_by_day"}
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
