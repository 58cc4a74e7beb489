"""The one muting decision: each cause, its order, what stops recovery, what only holds."""

from dataclasses import replace

from models.vocabulary.selectors import parse_selector as p
from tasks.core.alerting.lifecycle import AlertState, Lifecycle
from tasks.core.alerting.maintenance_windows import MaintenanceSpec
from tasks.core.alerting.muting import (
    AlertFacts,
    InhibitSpec,
    MuteCause,
    MuteScene,
    SilenceSpec,
    mutes_of,
)
from tasks.core.recovery.suppression import recovery_suppressed

NOW = 1000.0
WEB = {"target": "web", "severity": "warning"}
CRITICAL = {"target": "web", "severity": "critical"}
SCENE = MuteScene(
    silences=[SilenceSpec(3, p('{target="web"}'), 0.0, 2000.0)],
    windows=[MaintenanceSpec("nightly", p('{target="web"}'), start=0.0, end=2000.0)],
    parents={"web": {"db"}},
    down=frozenset({"db"}),
    inhibit=[InhibitSpec(p('{severity="critical"}'), p('{severity="warning"}'), ("target",))],
    firing=[CRITICAL],
)


def quiet_cause(facts: AlertFacts, scene: MuteScene) -> MuteCause | None:
    mute = mutes_of(facts, scene, now=NOW).quiet
    return None if mute is None else mute.cause


def test_each_quiet_cause_is_asked_in_order_and_the_first_wins():
    facts = AlertFacts(WEB, remediation="quiet", is_acknowledged=True, was_told=True)
    scene = SCENE
    seen = []
    for _ in range(7):
        cause = quiet_cause(facts, scene)
        seen.append(cause)
        scene = replace(
            scene,
            **{
                MuteCause.SILENCE: {"silences": []},
                MuteCause.MAINTENANCE: {"windows": []},
                MuteCause.PARENT_DOWN: {"down": frozenset()},
                MuteCause.INHIBITED: {"firing": []},
            }.get(cause, {}),
        )
        if cause is MuteCause.FIXED:
            facts = replace(facts, remediation=None)
        if cause is MuteCause.ACKNOWLEDGED:
            facts = replace(facts, was_told=False)
    assert seen == [
        MuteCause.SILENCE,
        MuteCause.MAINTENANCE,
        MuteCause.PARENT_DOWN,
        MuteCause.INHIBITED,
        MuteCause.FIXED,
        MuteCause.ACKNOWLEDGED,
        None,
    ]


def test_the_reason_says_which_silence_window_or_parent():
    details = [
        mutes_of(AlertFacts(WEB), scene, now=NOW).quiet
        for scene in (SCENE, replace(SCENE, silences=[]), replace(SCENE, silences=[], windows=[]))
    ]
    assert [m.detail for m in details if m] == [
        "silenced by #3",
        "maintenance window nightly",
        "parent db DOWN",
    ]


def test_recovery_stops_for_silence_maintenance_and_a_down_parent_but_not_inhibition():
    only_inhibited = replace(SCENE, silences=[], windows=[], down=frozenset())
    assert quiet_cause(AlertFacts(WEB), only_inhibited) is MuteCause.INHIBITED
    assert recovery_suppressed(WEB, only_inhibited, now=NOW) is None
    assert recovery_suppressed(WEB, SCENE, now=NOW) == "silenced by #3"
    fixed_and_acked = AlertFacts(WEB, remediation="quiet", is_acknowledged=True, was_told=True)
    assert quiet_cause(fixed_and_acked, MuteScene()) is MuteCause.FIXED
    assert recovery_suppressed(WEB, MuteScene(), now=NOW) is None


def test_an_expired_silence_no_longer_mutes():
    assert quiet_cause(AlertFacts(WEB), MuteScene(silences=SCENE.silences)) is MuteCause.SILENCE
    later = mutes_of(AlertFacts(WEB), MuteScene(silences=SCENE.silences), now=2000.0)
    assert later.quiet is None


def test_an_alert_that_stopped_firing_is_never_quiet_but_may_still_be_held():
    resolved = Lifecycle(AlertState.RESOLVED, fired_at=0.0, resolved_at=NOW - 10)
    facts = AlertFacts(WEB, resolved, notify_delay_s=(0.0, 60.0), remediation="held")
    mutes = mutes_of(facts, SCENE, now=NOW)
    assert mutes.quiet is None
    assert mutes.held is not None and mutes.held.cause is MuteCause.DELAYED
    assert mutes_of(facts, SCENE, now=NOW + 60).held is None


def test_held_causes_verifying_then_flapping_then_delay():
    firing = Lifecycle(AlertState.FIRING, active_since=NOW - 5, fired_at=NOW - 5)
    facts = AlertFacts(
        WEB, firing, notify_delay_s=(60.0, 0.0), is_flap_damped=True, remediation="held"
    )
    causes = []
    for change in ({"remediation": None}, {"is_flap_damped": False}, {"notify_delay_s": (0, 0)}):
        held = mutes_of(facts, MuteScene(), now=NOW).held
        causes.append(held.cause if held else None)
        facts = replace(facts, **change)
    assert causes == [MuteCause.VERIFYING, MuteCause.FLAPPING, MuteCause.DELAYED]
    assert mutes_of(facts, MuteScene(), now=NOW).held is None


def test_an_acknowledgement_before_the_group_told_it_does_not_mute():
    acked = AlertFacts(WEB, is_acknowledged=True, was_told=False)
    assert mutes_of(acked, MuteScene(), now=NOW) == mutes_of(AlertFacts(WEB), MuteScene(), now=NOW)
