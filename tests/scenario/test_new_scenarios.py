"""The scenarios of the build-up and the city scores: dated phase-in, sanctions from their
start dates, opt-in incentives; each validates and runs at small scale in seconds."""

import datetime as dt

import scslab


def _by_date(ts, day):
    return ts[ts["date"] < day], ts[ts["date"] >= day]


def test_described_beijing_builds_up_from_the_plan_to_the_2021_deadline():
    """The court list and its bans work from July 2018; banks share from 2019; the score
    blacklist, the red list and household association start on 2021-01-01; firm
    registration is barred only from 2019."""
    r = scslab.run("described-beijing", scale=0.0003)  # 6,600 residents, 1 unit
    ts = r.timeseries
    assert ts["date"].iloc[0] == dt.date(2018, 7, 1)
    before, after = _by_date(ts, dt.date(2021, 1, 1))
    for lst in ("blacklist", "redlist", "family_of_listed"):
        assert before[f"list_{lst}"].max() == 0 and after[f"list_{lst}"].max() > 0, lst
    assert before["list_court"].max() > 0
    assert before["blocked_flight"].sum() > 0 and before["blocked_star_hotel"].sum() > 0
    early, _ = _by_date(ts, dt.date(2019, 1, 1))
    assert early["records_active_bank_regulator"].max() == 0
    assert ts["records_active_bank_regulator"].iloc[-1] > 0
    assert early["blocked_firm_registration"].sum() == 0
    assert before["green_days_medical_appointment"].sum() == 0
    assert after["green_days_medical_appointment"].sum() > 0
    assert r.summary["acts"]["political_post"] > 0
    assert ts["records_active_residents_committees"].iloc[-1] > 0


def test_described_china_is_described_beijing_for_the_nation():
    s = scslab.load_scenario("described-china")
    b = scslab.load_scenario("described-beijing")
    assert s.population.residents == 1_400_000_000 and s.population.units == 40_000
    assert s.policy == b.policy and s.start == b.start and s.n_days == b.n_days
    assert s.departments == b.departments and s.acts == b.acts
    r = scslab.run("described-china", scale=0.000005)  # 7,000 residents, 1 unit
    before, after = _by_date(r.timeseries, dt.date(2021, 1, 1))
    assert before["list_blacklist"].max() == 0 and after["list_blacklist"].max() > 0


def test_hangzhou_rewards_only_those_who_opt_in_and_never_sanctions():
    s = scslab.load_scenario("hangzhou")
    assert not s.policy.sanctions and s.start == dt.date(2018, 11, 16)
    assert list(s.policy.score.tiers) == ["extremely_good", "excellent", "good", "fair",
                                          "to_be_improved"]
    r = scslab.run("hangzhou", scale=0.001)  # 9,500 residents
    ts = r.timeseries
    n = r.summary["residents"]
    end = ts.iloc[-1]
    assert end["tier_good"] / n > 0.5
    assert end["tier_excellent"] > 0 and end["tier_to_be_improved"] > 0
    assert ts["fast_tracked_sports_ground_booking"].sum() > 0
    assert sum(r.summary["blocked"].values()) == 0
    nobody = scslab.run("hangzhou", scale=0.001,
                        sets=["population.attributes.opted_in.weights=[0, 1]"])
    assert nobody.timeseries["fast_tracked_sports_ground_booking"].sum() == 0
    assert nobody.timeseries["tier_excellent"].iloc[-1] == end["tier_excellent"]
