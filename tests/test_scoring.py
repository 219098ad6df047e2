"""The scoring and alerting engine as pure functions: items built by hand, no store.

What an analyst relies on: the same evidence gives the same scores and alerts whatever
the order it arrived in within one moment; echoes count once; denials never ring; one
category cannot top the index (Grabo); baselines behave; one development is one alert;
timelines and watches that cannot be read say where.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tocsin.alerts.backtest import TimelineError, read_timeline
from tocsin.alerts.engine import run
from tocsin.indicators.pack import Pack, builtin_pack_path, load_pack
from tocsin.indicators.yamlfile import PackError
from tocsin.scoring.index import Scorer, Snapshot
from tocsin.scoring.items import Item
from tocsin.scoring.watch import Watch, load_watches

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WARM = T0 - 30 * DAY  # a store history long enough to be past the cold start
# indicator -> (category, severity), as in the built-in pack
INDICATORS = {
    "readiness.alert-raised": ("readiness", 5),
    "readiness.combat-duty": ("readiness", 3),
    "rhetoric.explicit-threat": ("rhetoric", 4),
    "doctrine.revision": ("doctrine", 5),
    "deployment.nuclear-weapons": ("deployment", 4),
    "test.nuclear-explosive": ("test", 5),
    "test.nuclear-capable-missile": ("test", 3),
    "de-escalation.talks": ("de-escalation", 2),
    "nuclear-safety.plant-attacked": ("nuclear-safety", 3),
}


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack()


@pytest.fixture(scope="module")
def watch(pack: Pack) -> Watch:
    return load_watches(pack)["russia-nato"]


class Maker:
    """Items with fresh evidence and document ids, the way load_items builds them."""

    def __init__(self, catalogue: dict[str, tuple[str, int]] | None = None) -> None:
        self.n = 0
        self.catalogue = catalogue or INDICATORS

    def __call__(self, indicator: str = "readiness.alert-raised", *, origin: str = "source:a",
                 time: datetime = T0, polarity: str = "asserted", grade: str = "B",
                 source: str | None = None, actor: str | None = None) -> Item:
        self.n += 1
        category, severity = self.catalogue[indicator]
        return Item(evidence_id=self.n, document_id=self.n, time=time, indicator=indicator,
                    category=category, severity=severity, polarity=polarity, origin=origin,
                    grade=grade, source_id=source or origin.split(":", 1)[1], actor=actor)


def small_watch(**fields: Any) -> Watch:
    """A watch with only what a test needs; everything else is the model's default."""
    return Watch.model_validate({"id": "test-watch", **fields})


CONFIRMED = {"id": "confirmed", "kind": "confirmed", "level": "warning", "min_severity": 3,
             "min_origins": 2, "max_grade": "C"}


def scored(watch: Watch, items: list[Item], at: datetime | None = None,
           history_start: datetime | None = None) -> Snapshot:
    scorer = Scorer(watch, history_start=history_start)
    for item in items:
        scorer.add(item)
    return scorer.snapshot(at or items[-1].time)


def value_of(snap: Snapshot, indicator: str) -> float:
    [score] = [s for s in snap.indicators if s.indicator == indicator]
    return score.value


# -- 1. determinism ------------------------------------------------------------------------

# Weights that are short decimals, so that the float sum of three of them depends on the
# order it is taken in: (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1. The usual range ends at
# exactly 0.6 (median 0 + band 1 x floor 0.6).
DECIMAL = small_watch(
    id="decimal-weights",
    reliability={"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4, "E": 0.6, "F": 0.7},
    severity={k: 1.0 for k in range(1, 6)},
    polarity={"asserted": 1.0, "reported": 1.0, "hypothetical": 0.1, "denied": 0.0},
    credibility={k: 1.0 for k in range(1, 7)},
    baseline={"floor": 0.6, "band": 1.0},
    rules=[CONFIRMED])
ORDER_BUG = (
    "Scorer._value (scoring/index.py) sums origin weights in arrival order; float addition "
    "is not associative, so items of one moment give a value one ulp apart depending on "
    "their order, and `excess > 0` (confirmed) / `amount <= 0` (pulls) decide on that ulp")

ROWS = st.lists(
    st.tuples(st.sampled_from(sorted(INDICATORS)),
              st.sampled_from(["source:a", "source:b", "source:c", "story:7", "doc:9"]),
              st.sampled_from("ABCDEF"),
              st.sampled_from(["asserted", "reported", "hypothetical", "denied"]),
              st.integers(0, 2)),  # one of three moments of the same day
    min_size=1, max_size=30)
THREE_OUTLETS = [("readiness.alert-raised", f"source:{o}", grade, "asserted", 0)
                 for o, grade in zip("abc", "ABC", strict=True)]


def items_from(rows: list[tuple[str, str, str, str, int]]) -> list[Item]:
    make = Maker()
    items = [make(indicator, origin=origin, grade=grade, polarity=polarity,
                  time=T0 + timedelta(hours=3 * moment), source=f"outlet-{n % 4}")
             for n, (indicator, origin, grade, polarity, moment) in enumerate(rows)]
    return sorted(items, key=lambda i: i.time)  # stable: ties keep their drawn order


def snapshots(watch: Watch, items: list[Item]) -> list[dict[str, Any]]:
    """The snapshot JSON after every moment at which items arrived."""
    scorer = Scorer(watch)
    out = []
    for n, item in enumerate(items):
        scorer.add(item)
        if n + 1 == len(items) or items[n + 1].time != item.time:
            out.append(scorer.snapshot(item.time).to_json())
    return out


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(["russia-nato", "decimal-weights"]), rows=ROWS,
       priority=st.permutations(range(30)))
@example(name="decimal-weights", rows=THREE_OUTLETS, priority=list(range(29, -1, -1)))
def test_items_of_one_moment_give_the_same_scores_and_alerts_in_any_order(
        watch: Watch, name: str, rows: list[tuple[str, str, str, str, int]],
        priority: list[int]) -> None:
    chosen = {"russia-nato": watch, "decimal-weights": DECIMAL}[name]
    items = items_from(rows)
    # another order within each moment (evidence ids are 1..len(rows))
    reordered = sorted(items, key=lambda i: (i.time, priority[i.evidence_id - 1]))
    assert snapshots(chosen, reordered) == snapshots(chosen, items)
    assert [d.to_json() for d in run(chosen, reordered)] == \
        [d.to_json() for d in run(chosen, items)]


def test_the_order_of_three_reports_of_one_minute_does_not_decide_an_alert() -> None:
    items = items_from(THREE_OUTLETS)
    alerts = [run(DECIMAL, order) for order in (items, items[::-1], items[1:] + items[:1])]
    assert [len(a) for a in alerts] in ([0, 0, 0], [1, 1, 1])


# -- 2. echoes -----------------------------------------------------------------------------

def test_echoes_of_one_report_count_once_and_independent_origins_add_up(watch: Watch) -> None:
    make = Maker()
    one = scored(watch, [make(origin="story:3", source="northgate-wire")])
    # the agency report and four rewrites and copies of it by other outlets: one story
    echoes = [make(origin="story:3", source=s, time=T0 + timedelta(minutes=10 * k))
              for k, s in enumerate(["northgate-wire", "brightwater-post", "atlas-briefing",
                                     "meridian-ledger", "atlas-briefing"])]
    five = scored(watch, echoes)
    assert value_of(five, "readiness.alert-raised") == value_of(one, "readiness.alert-raised")
    assert five.index == one.index
    [score] = five.indicators
    assert len(score.origins) == 1 and len(score.evidence) == 5
    two = scored(watch, [*echoes, make(origin="story:4", time=T0 + timedelta(hours=1))])
    assert value_of(two, "readiness.alert-raised") > value_of(one, "readiness.alert-raised")
    assert two.index > one.index


# -- 3. polarity ---------------------------------------------------------------------------

def test_denials_weigh_nothing_and_a_day_of_denials_rings_nothing(watch: Watch) -> None:
    make = Maker()
    denials = [make(indicator, origin=f"source:{o}", grade="A", polarity="denied",
                    time=T0 + timedelta(minutes=k))
               for k, (indicator, o) in enumerate(
                   [(i, o) for i in ("readiness.alert-raised", "test.nuclear-explosive",
                                     "doctrine.revision") for o in "abcde"])]
    scorer = Scorer(watch)
    assert all(scorer.weight(item) == 0 for item in denials)
    snap = scored(watch, denials)
    assert snap.index == 0 and snap.level is None and snap.pulls == {}
    assert run(watch, denials) == []


def test_a_hypothetical_weighs_much_less_than_an_assertion(watch: Watch) -> None:
    make = Maker()
    asserted = scored(watch, [make(origin="source:a"), make(origin="source:b")])
    hypothetical = scored(watch, [make(origin="source:a", polarity="hypothetical"),
                                  make(origin="source:b", polarity="hypothetical")])
    ratio = value_of(hypothetical, "readiness.alert-raised") / \
        value_of(asserted, "readiness.alert-raised")
    assert 0 < ratio <= 0.25
    assert hypothetical.index < asserted.index / 3


def test_de_escalation_pulls_the_index_down(watch: Watch) -> None:
    make = Maker()
    threat = [make("rhetoric.explicit-threat", origin=f"source:{o}") for o in "abc"]
    talks = [make("de-escalation.talks", origin=f"source:{o}", grade="A") for o in "defg"]
    alone = scored(watch, threat)
    with_talks = scored(watch, threat + talks)
    assert with_talks.pulls["de-escalation"] < 0
    assert 0 <= with_talks.index < alone.index
    assert scored(watch, talks).index == 0  # no escalation to take down: never below 0


# -- 4. Grabo ------------------------------------------------------------------------------

def saturate(pack: Pack, category: str, origins: int = 30) -> list[Item]:
    """Every indicator of ``category`` asserted by ``origins`` A-graded outlets."""
    make = Maker({i.id: (i.category, i.severity) for i in pack.indicators})
    out = []
    for indicator in (i for i in pack.indicators if i.category == category):
        out += [make(indicator.id, origin=f"source:outlet-{k}", grade="A",
                     time=T0 + timedelta(minutes=k)) for k in range(origins)]
    return sorted(out, key=lambda i: i.time)


def test_one_category_alone_stays_under_warning_whatever_the_evidence(
        watch: Watch, pack: Pack) -> None:
    for category in sorted({i.category for i in pack.indicators}):
        snap = scored(watch, saturate(pack, category))
        assert snap.index < watch.levels["warning"], (category, snap.index)
        assert snap.level in (None, "watch"), category


def test_four_categories_lining_up_reach_warning(watch: Watch) -> None:
    make = Maker()
    items = [make(indicator, origin=f"source:{o}", grade="A")
             for indicator in ("readiness.alert-raised", "doctrine.revision",
                               "deployment.nuclear-weapons", "test.nuclear-explosive")
             for o in "abcd"]
    snap = scored(watch, items)
    assert snap.index >= watch.levels["warning"]
    assert snap.level in ("warning", "critical")
    assert set(snap.moving) == {"readiness", "doctrine", "deployment", "test"}


# -- 5. baselines --------------------------------------------------------------------------

def steady(days: int, make: Maker) -> list[Item]:
    """One B-graded outlet reporting the same indicator once a day, at 09:00."""
    return [make(time=T0 + k * DAY) for k in range(days)]


def test_a_steady_indicator_is_not_anomalous_and_a_jump_is(watch: Watch) -> None:
    make = Maker()
    history = steady(30, make)
    day31 = T0 + 30 * DAY
    same = scored(watch, [*history, make(time=day31)])
    [score] = same.indicators
    assert not score.cold
    assert score.median == pytest.approx(score.value)
    assert score.anomaly == pytest.approx(0, abs=1e-9) and score.excess == 0
    assert same.index == 0

    jump = [*history, make(time=day31),
            *(make(origin=f"source:extra-{k}", grade="A", time=day31) for k in range(8))]
    snap = scored(watch, jump)
    [score] = snap.indicators
    assert score.anomaly > 10 and score.excess > 0 and snap.index > 0


def test_with_no_history_the_baseline_is_the_prior(watch: Watch) -> None:
    make = Maker()
    [score] = scored(watch, [make()]).indicators
    assert score.cold and score.median == 0 and score.spread == watch.baseline.floor
    assert score.anomaly == pytest.approx(score.value / watch.baseline.floor)


def test_cold_start_until_min_history_days_of_store_history(watch: Watch) -> None:
    # a report a day, but fewer than min_history days of history before the last one
    items = steady(watch.baseline.min_history, Maker())
    snap = scored(watch, items)
    [score] = snap.indicators
    assert snap.cold and score.cold
    # the store's history counts, not the indicator's: a first report after enough
    # quiet days is judged against a trusted (empty) baseline
    quiet = T0 - (watch.baseline.min_history + 3) * DAY
    snap = scored(watch, items[-1:], history_start=quiet)
    [score] = snap.indicators
    assert not snap.cold and not score.cold and score.median == 0


def test_during_cold_start_only_corroboration_can_ring() -> None:
    spike = {"id": "spike", "kind": "spike", "level": "watch", "min_anomaly": 1.0,
             "min_value": 0.1, "min_origins": 2}
    watch = small_watch(rules=[spike, CONFIRMED])
    make = Maker()
    items = [make(origin=f"source:{o}", grade="A") for o in "abc"]
    [cold] = run(watch, items)
    assert cold.rules == ["confirmed"]
    [warm] = run(watch, items, history_start=WARM)
    assert warm.rules == ["confirmed", "spike"]


# -- 6. grouping ---------------------------------------------------------------------------

def test_firings_on_consecutive_days_update_one_alert() -> None:
    watch = small_watch(cooldown_hours=72, rules=[CONFIRMED])
    make = Maker()
    day1 = [make(origin=f"source:{o}") for o in "ab"]
    day2 = [make(origin=f"source:{o}", time=T0 + DAY) for o in "cd"]
    [alert] = run(watch, day1 + day2, history_start=WARM)
    assert alert.first_at == T0 and alert.last_at == T0 + DAY
    assert sorted(alert.evidence) == sorted(i.evidence_id for i in day1 + day2)
    assert [e.kind for e in alert.events] == ["raised"]  # nothing new to send on


def test_firings_ten_days_apart_are_two_alerts() -> None:
    watch = small_watch(cooldown_hours=72, rules=[CONFIRMED])
    make = Maker()
    later = T0 + 10 * DAY
    items = [make(origin=f"source:{o}") for o in "ab"] + \
        [make(origin=f"source:{o}", time=later) for o in "cd"]
    first, second = run(watch, items, history_start=WARM)
    assert (first.first_at, second.first_at) == (T0, later)
    assert [e.kind for e in second.events] == ["raised"]


def test_parallel_developments_keep_their_own_alerts() -> None:
    watch = small_watch(cooldown_hours=72, rules=[CONFIRMED])
    make = Maker()
    doctrine = [make("doctrine.revision", origin=f"source:{o}") for o in "ab"]
    missile = [make("test.nuclear-capable-missile", origin=f"source:{o}", time=T0 + DAY)
               for o in "cd"]
    first, second = run(watch, doctrine + missile, history_start=WARM)
    assert (first.categories, second.categories) == (["doctrine"], ["test"])


def test_cooldown_counts_from_the_last_activity_of_the_open_alert() -> None:
    watch = small_watch(cooldown_hours=72, rules=[CONFIRMED])
    make = Maker()
    # firings every 2 days: each within the cooldown of the previous one
    items = [make(origin=f"source:{day}-{o}", time=T0 + 2 * day * DAY)
             for day in range(5) for o in "ab"]
    [alert] = run(watch, items, history_start=WARM)
    assert alert.last_at - alert.first_at == 8 * DAY


# -- 6b. levels: one definition ----------------------------------------------------------

def test_an_alert_shows_its_peak_index_the_level_of_that_index_and_its_rules_level_apart(
        ) -> None:
    """A confirmed severe indicator rings while the index is low: the alert's level is
    what the index says (none below `watch`), the rule's `warning` is its rule level; as
    more origins and categories join, the alert takes the peak and the peak's level."""
    watch = small_watch(cooldown_hours=72, rules=[CONFIRMED])
    make = Maker()
    first = [make(origin=f"source:{o}") for o in "ab"]
    later = T0 + timedelta(hours=3)
    more = [make(indicator, origin=f"source:{o}", time=later, grade="A")
            for indicator in ("readiness.alert-raised", "doctrine.revision",
                              "deployment.nuclear-weapons", "test.nuclear-explosive")
            for o in "cdef"]
    [alert] = run(watch, first + more, history_start=WARM)
    raised = alert.events[0]
    assert raised.level is None and raised.index < watch.levels["watch"]
    assert raised.rule_level == "warning"
    peak = scored(watch, first + more, later, history_start=WARM)
    assert alert.index == peak.index > raised.index
    assert alert.index_at == later and alert.peak == peak.to_json()
    assert alert.level == watch.level_of(alert.index) == peak.level is not None
    assert alert.rule_level == "warning"
    assert [e.kind for e in alert.events] == ["raised", "updated"]  # the level rose
    assert all(e.level == watch.level_of(e.index) for e in alert.events)
    assert alert.to_json()["index"] == round(peak.index, 1)


def test_a_spike_within_the_usual_range_rings_nothing() -> None:
    """An anomaly the band still calls usual adds nothing to the index: no alert that
    would read "index 0"."""
    make = Maker()
    items = [make()]
    usual = {"band": 2.0}  # two spreads above the median are still usual
    [score] = scored(small_watch(baseline=usual), items, history_start=WARM).indicators
    assert score.excess == 0 and score.anomaly > 0
    spike = {"id": "spike", "kind": "spike", "level": "watch", "min_anomaly": score.anomaly,
             "min_value": 0.01, "min_origins": 1}
    assert run(small_watch(rules=[spike], baseline=usual), items, history_start=WARM) == []
    # and with more than the usual range, it rings, with an index above 0
    wide = small_watch(rules=[spike], baseline={"band": 0.0})
    [alert] = run(wide, items, history_start=WARM)
    assert alert.index > 0


def test_a_rule_never_rings_on_a_category_the_index_does_not_count() -> None:
    silent = small_watch(rules=[CONFIRMED], categories={"readiness": {"weight": 0}})
    make = Maker()
    items = [make(origin=f"source:{o}") for o in "abc"]
    assert run(silent, items, history_start=WARM) == []
    assert len(run(small_watch(rules=[CONFIRMED]), items, history_start=WARM)) == 1


def test_the_scorer_refuses_items_out_of_time_order(watch: Watch) -> None:
    make = Maker()
    scorer = Scorer(watch)
    scorer.add(make(time=T0 + timedelta(hours=1)))
    with pytest.raises(ValueError, match="time order"):
        scorer.add(make(time=T0))


# -- 7. contested origins ------------------------------------------------------------------

def dispute(make: Maker) -> list[Item]:
    """Outlet x reports the alert and its denial the same morning; y reports the alert."""
    return [make(origin="source:x", time=T0),
            make(origin="source:x", polarity="denied", time=T0 + timedelta(minutes=30)),
            make(origin="source:y", time=T0 + timedelta(hours=1))]


def test_a_contested_origin_keeps_half_its_weight_and_cannot_make_a_spike(watch: Watch) -> None:
    make = Maker()
    contested = scored(watch, dispute(make))
    [score] = contested.indicators
    assert score.contested == 1 and score.firm_origins == 1
    plain = scored(watch, [make(origin="source:x"),
                           make(origin="source:y", time=T0 + timedelta(hours=1))])
    [firm] = plain.indicators
    assert score.value < firm.value
    spike = small_watch(rules=[{"id": "spike", "kind": "spike", "level": "watch",
                                "min_anomaly": 1.0, "min_value": 0.1, "min_origins": 2}])
    assert run(spike, dispute(Maker()), history_start=WARM) == []
    both = [make(origin="source:x"), make(origin="source:y")]
    assert [d.rules for d in run(spike, both, history_start=WARM)] == [["spike"]]


def test_a_contested_origin_does_not_count_toward_confirmed() -> None:
    watch = small_watch(rules=[CONFIRMED])
    make = Maker()
    assert run(watch, [make(origin="source:x"), make(origin="source:y")]) != []
    assert run(watch, dispute(Maker())) == []


def test_a_denial_of_another_actors_claim_does_not_contest() -> None:
    """One report gives a minister's claim and, further down, an official of another
    country denying something else under the same indicator: not a dispute."""
    watch = small_watch(rules=[CONFIRMED])
    make = Maker()
    items = [make(origin="source:x", time=T0, actor="belousov"),
             make(origin="source:x", polarity="denied", time=T0 + timedelta(minutes=30),
                  actor="us-energy-secretary"),
             make(origin="source:y", time=T0 + timedelta(hours=1), actor="belousov")]
    assert run(watch, items) != []
    [score] = scored(small_watch(), items).indicators
    assert score.contested == 0


# -- 8. timelines --------------------------------------------------------------------------

def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


CATEGORIES = {"readiness", "rhetoric", "test", "doctrine", "arms-control"}


def test_timeline_as_a_yaml_list_a_milestones_mapping_or_csv(tmp_path: Path) -> None:
    listed = write(tmp_path / "list.yaml", """
- date: 2022-09-21
  title: Mobilisation address
  categories: [rhetoric]
- {date: 2022-02-27, title: Special regime of combat duty, categories: [readiness]}
""")
    mapping = write(tmp_path / "map.yaml", """
milestones:
  - date: 2022-02-27
    title: Special regime of combat duty
    categories: [readiness]
  - date: 2022-09-21
    title: Mobilisation address
    categories: [rhetoric]
""")
    table = write(tmp_path / "t.csv", "date,title,categories\n"
                  "2022-09-21,Mobilisation address,rhetoric\n"
                  "2022-02-27,Special regime of combat duty,readiness\n")
    for path in (listed, mapping, table):
        found = read_timeline(path, CATEGORIES)
        assert [(m.day.isoformat(), m.title, m.categories) for m in found] == [
            ("2022-02-27", "Special regime of combat duty", ("readiness",)),
            ("2022-09-21", "Mobilisation address", ("rhetoric",))], path
    several = write(tmp_path / "several.csv", "date,title,categories\n"
                    "2023-10-05,Valdai,arms-control;test\n")
    [m] = read_timeline(several, CATEGORIES)
    assert m.categories == ("arms-control", "test")


@pytest.mark.parametrize(("name", "text", "where", "what"), [
    ("word.yaml", "- {date: 2022-02-27, title: a}\n- {date: tomorrow, title: b}\n",
     ": milestone 2", "not a date"),
    ("date.csv", "date,title,categories\n2022-02-27,a,test\n2022-02-30,b,test\n",
     ":3", "not a date"),
    ("category.yaml", "milestones:\n  - {date: 2022-02-27, title: a, categories: [bogus]}\n",
     ": milestone 1", "bogus"),
    ("category.csv", "date,title,categories\n2022-02-27,a,test;bogus\n", ":2", "bogus"),
    ("columns.csv", "day,headline\n2022-02-27,a\n", ":1", "date,title"),
    ("no-date.yaml", "- {title: a}\n", ": milestone 1", "date"),
    ("empty.yaml", "", "", "list of milestones"),
    ("empty.csv", "", "", "date,title"),
    ("nothing.yaml", "milestones: []\n", "", "no milestones"),
    ("latin1.yaml", "- {date: 2022-02-27, title: Défense}\n".encode("latin-1"), "",
     "UTF-8"),
])
def test_timeline_errors_name_the_file_and_the_entry(
        tmp_path: Path, name: str, text: str | bytes, where: str, what: str) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(TimelineError) as caught:
        read_timeline(path, CATEGORIES)
    message = str(caught.value)
    assert message.startswith(f"{path}{where}"), message
    assert what in message


def test_an_impossible_yaml_date_is_a_timeline_error(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "- {date: 2022-02-27, title: a}\n"
                                      "- {date: 2022-02-30, title: b}\n")
    with pytest.raises(TimelineError, match=re.escape(f"{path}: milestone 2: ")):
        read_timeline(path, CATEGORIES)


# -- 9. watches in a pack ------------------------------------------------------------------

@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(builtin_pack_path(), tmp_path / "nuclear"))


def edit_watch(pack_dir: Path, old: str, new: str) -> Path:
    path = pack_dir / "watches" / "russia-nato.yaml"
    text = path.read_text(encoding="utf-8")
    assert re.search(old, text, flags=re.M), old
    path.write_text(re.sub(old, new, text, count=1, flags=re.M), encoding="utf-8")
    return path


def line_of(path: Path, pattern: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if re.search(pattern, line))


BROKEN = [
    ("unknown category", r"^  nuclear-safety:", "  nuclear-safty:", "nuclear-safty"),
    ("levels out of order", r"^levels:.*$", "levels: {watch: 50, warning: 45, critical: 70}",
     "levels"),
]


@pytest.mark.parametrize(("old", "new", "what"), [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])
def test_a_broken_watch_names_its_file_and_a_line(pack_copy: Path, old: str, new: str,
                                                  what: str) -> None:
    path = edit_watch(pack_copy, old, new)
    with pytest.raises(PackError) as caught:
        load_watches(load_pack(pack_copy))
    message = str(caught.value)
    assert re.match(rf"{re.escape(str(path))}:\d+: ", message), message
    assert what in message


@pytest.mark.parametrize(("old", "new", "what"), [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])
def test_a_broken_watch_points_at_the_offending_line(pack_copy: Path, old: str, new: str,
                                                     what: str) -> None:
    path = edit_watch(pack_copy, old, new)
    with pytest.raises(PackError) as caught:
        load_watches(load_pack(pack_copy))
    assert str(caught.value).startswith(f"{path}:{line_of(path, re.escape(new))}: ")
