"""A logged protector transition replayed on the folded desk, and each disagreement worded; the desk's
checkpoint field by field and put back, with a bracket's one resend remembered."""

from __future__ import annotations

from typing import Any

from statebot.core.engine.protection import Command, ProtectionDesk, TRIP
from statebot.core.fsm.protector import CANCELLED, PENDING, TRIGGERED, WORKING
from statebot.core.orders import GTC, LIMIT, PROTECT, STOP, OrderRequest
from statebot.core.positions.book import PositionBook
from tests.core.engine.protection_helpers import Rig


def logged(oid: str, trigger: str, source: str, dest: str, **extra: Any) -> dict[str, Any]:
    return {"order_id": oid, "strategy": "s1", "symbol": "MES", "trigger": trigger, "from": source, "to": dest, **extra}


def sent(qty: int = -2) -> ProtectionDesk:
    desk = ProtectionDesk(PositionBook())
    stop = OrderRequest(client_order_id="e1-stop", strategy="s1", symbol="MES", qty=qty, kind=STOP, purpose=PROTECT,
                        stop_ticks=19990, tif=GTC, parent_id="e1", oca_group="oca-e1")
    target = OrderRequest(client_order_id="e1-target", strategy="s1", symbol="MES", qty=qty, kind=LIMIT,
                          purpose=PROTECT, limit_ticks=20020, tif=GTC, parent_id="e1", oca_group="oca-e1")
    desk.sent((stop, target))
    return desk


def state_of(desk: ProtectionDesk) -> dict[str, tuple[str, int]]:
    return {o.client_order_id: (m.state, m.filled) for o, m in desk.protectors()}


def test_a_logged_transition_moves_the_folded_protector() -> None:
    desk = sent()
    assert desk.replay(logged("e1-stop", "accepted", PENDING, WORKING)) is None
    assert desk.replay(logged("e1-stop", "ended", WORKING, CANCELLED, needed=True)) is None
    assert state_of(desk)["e1-stop"] == (CANCELLED, 0)


def test_the_guard_reads_the_logged_needed() -> None:
    desk = sent()
    assert desk.replay(logged("e1-stop", "rejected", PENDING, "REJECTED", needed=False)) is None
    assert state_of(desk)["e1-stop"] == ("REJECTED", 0)


def test_a_logged_execution_sets_the_count_it_logged_or_the_whole_size() -> None:
    desk = sent()
    assert desk.replay(logged("e1-stop", "executed", PENDING, TRIGGERED, filled=1)) is None
    assert state_of(desk)["e1-stop"] == (TRIGGERED, 1)
    assert desk.replay(logged("e1-target", "executed", PENDING, TRIGGERED)) is None  # an older record: no count
    assert state_of(desk)["e1-target"] == (TRIGGERED, 2)


def test_a_bracket_is_forgotten_once_the_log_ended_every_member() -> None:
    desk = sent(-1)
    desk.replay(logged("e1-stop", "executed", PENDING, TRIGGERED, filled=1))
    assert desk.knows("e1-stop")
    desk.replay(logged("e1-target", "cancel_asked", PENDING, "CANCELLING"))
    desk.replay(logged("e1-target", "ended", "CANCELLING", CANCELLED))
    assert not desk.knows("e1-stop") and not desk.knows("e1-target") and desk.protectors() == ()


def test_a_transition_of_a_protector_never_sent_is_worded() -> None:
    assert sent().replay(logged("e9-stop", "accepted", PENDING, WORKING)) == (
        "protector e9-stop: logged PENDING -> WORKING but no such protector was sent")


def test_a_transition_from_another_state_is_worded_and_changes_nothing() -> None:
    desk = sent()
    assert desk.replay(logged("e1-stop", "ended", WORKING, CANCELLED, needed=True)) == (
        "protector e1-stop: logged from WORKING but the folded machine is PENDING")
    assert state_of(desk)["e1-stop"] == (PENDING, 0)


def test_a_trigger_the_table_forbids_is_worded_and_changes_nothing() -> None:
    desk = sent()
    desk.replay(logged("e1-stop", "rejected", PENDING, "REJECTED", needed=False))
    assert desk.replay(logged("e1-stop", "executed", "REJECTED", TRIGGERED, filled=1)) == (
        "protector e1-stop: executed is not allowed from REJECTED")
    assert state_of(desk)["e1-stop"] == ("REJECTED", 0)


def test_a_destination_the_table_does_not_give_is_worded() -> None:
    desk = sent()
    assert desk.replay(logged("e1-stop", "accepted", PENDING, CANCELLED)) == (
        "protector e1-stop: logged PENDING -> CANCELLED but the table gives WORKING")


def test_the_checkpoint_names_every_field_of_each_protector() -> None:
    desk = sent()
    desk.replay(logged("e1-stop", "accepted", PENDING, WORKING))
    assert desk.to_dict() == [
        {"order_id": "e1-stop", "qty": -2, "state": WORKING, "filled": 0, "resent": False,
         "order": {"client_order_id": "e1-stop", "strategy": "s1", "symbol": "MES", "qty": -2, "kind": STOP,
                   "limit_ticks": None, "stop_ticks": 19990, "tif": GTC, "parent_id": "e1", "oca_group": "oca-e1"}},
        {"order_id": "e1-target", "qty": -2, "state": PENDING, "filled": 0, "resent": False,
         "order": {"client_order_id": "e1-target", "strategy": "s1", "symbol": "MES", "qty": -2, "kind": LIMIT,
                   "limit_ticks": 20020, "stop_ticks": None, "tif": GTC, "parent_id": "e1", "oca_group": "oca-e1"}},
    ]


def test_a_restored_desk_holds_the_same_protectors_in_the_same_states() -> None:
    desk = sent()
    desk.replay(logged("e1-stop", "executed", PENDING, TRIGGERED, filled=1))
    again = ProtectionDesk(PositionBook())
    again.restore(desk.to_dict())
    assert again.to_dict() == desk.to_dict()
    assert [o for o, _ in again.protectors()] == [o for o, _ in desk.protectors()]
    assert state_of(again) == {"e1-stop": (TRIGGERED, 1), "e1-target": (PENDING, 0)}


def test_a_restored_desk_remembers_the_bracket_was_sent_again_once() -> None:
    r = Rig(on_lost="resend").opened()
    r.status("e1-stop", "CANCELLED")  # sent again as again-1
    r.status("again-1", "ACCEPTED")
    data = r.desk.to_dict()
    r.desk._held.clear()  # noqa: SLF001 - the same book, a desk put back from its checkpoint
    r.desk._resent.clear()  # noqa: SLF001
    r.desk.restore(data)
    assert r.desk.to_dict() == data
    changes = r.status("again-1", "CANCELLED")
    assert changes.commands == (Command(kind=TRIP, reason="protective stop again-1 of s1/MES lost"),)


def test_a_restored_protector_not_marked_resent_may_be_sent_again() -> None:
    r = Rig(on_lost="resend").opened()
    data = r.desk.to_dict()
    r.desk._held.clear()  # noqa: SLF001
    r.desk.restore([{**d, "resent": False} for d in data])
    assert [c.kind for c in r.status("e1-stop", "CANCELLED").commands] == ["send"]


def test_a_protector_without_an_oca_group_restored_as_resent_marks_no_group() -> None:
    desk = ProtectionDesk(PositionBook())
    lone = OrderRequest(client_order_id="p1", strategy="s1", symbol="MES", qty=-1, kind=STOP, purpose=PROTECT,
                        stop_ticks=19990, tif=GTC)
    desk.sent((lone,))
    data = [{**d, "resent": True} for d in desk.to_dict()]
    again = ProtectionDesk(PositionBook())
    again.restore(data)
    assert [d["resent"] for d in again.to_dict()] == [False]
    assert again.order("p1") == lone and again.protectors()[0][1].state == PENDING
