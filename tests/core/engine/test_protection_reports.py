"""What each venue report about a protector makes the desk log and ask for, field by field: the transitions
(with the guard's input and the count executed), the cancels of an OCA sibling, a lost stop tripped or sent
again (and why, word for word), and what the desk then still holds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from statebot.core.engine.protection import CANCEL, SEND, TRIP, Changes, Command, ProtectionDesk, ProtectorChange
from statebot.core.fsm.protector import CANCELLED, CANCELLING, PENDING, REJECTED, TRIGGERED, WORKING
from statebot.core.orders import GTC, PROTECT, STOP, Fill, OrderRequest
from statebot.core.positions.book import PositionBook
from tests.core.engine.protection_helpers import T0, Rig


def change(oid: str, trigger: str, source: str, dest: str, needed: bool | None = None,
           filled: int | None = None) -> ProtectorChange:
    return ProtectorChange(order_id=oid, strategy="s1", symbol="MES", trigger=trigger, source=source, dest=dest,
                           needed=needed, filled=filled)


def states(r: Rig) -> dict[str, str]:
    return {o.client_order_id: m.state for o, m in r.desk.protectors()}


def test_an_acknowledgement_logs_its_transition_and_asks_for_nothing() -> None:
    r = Rig()
    changes = r.status("e1-stop", "ACCEPTED")
    assert changes == Changes(transitions=(change("e1-stop", "accepted", PENDING, WORKING),))
    assert changes.transitions[0].payload() == {"order_id": "e1-stop", "strategy": "s1", "symbol": "MES",
                                                "trigger": "accepted", "from": PENDING, "to": WORKING}
    assert r.status("e1-target", "PARTIALLY_FILLED") == Changes(
        transitions=(change("e1-target", "accepted", PENDING, WORKING),))
    assert r.status("e1-stop", "ACCEPTED") == Changes()  # acknowledged again: nothing to log


@pytest.mark.parametrize("status", ["SUBMITTED", "FILLED"])
def test_a_status_that_neither_acknowledges_nor_ends_changes_no_protector(status: str) -> None:
    r = Rig()
    assert r.status("e1-stop", status, filled=0) == Changes()
    assert states(r) == {"e1-stop": PENDING, "e1-target": PENDING}


def test_a_report_of_an_order_that_is_no_protector_changes_nothing() -> None:
    r = Rig()
    assert r.fill("e1", 1) == Changes()
    assert r.status("e1", "CANCELLED", filled=1) == Changes()
    assert states(r) == {"e1-stop": PENDING, "e1-target": PENDING}


def test_the_stop_executing_logs_the_count_and_cancels_the_target_naming_the_stop() -> None:
    r = Rig(2).opened()
    changes = r.fill("e1-stop", -1)
    assert changes.transitions == (change("e1-stop", "executed", WORKING, TRIGGERED, filled=1),
                                   change("e1-target", "cancel_asked", WORKING, CANCELLING))
    assert changes.commands == (Command(kind=CANCEL, order_id="e1-target", reason="one-cancels-other: e1-stop executed"),)
    assert changes.transitions[0].payload() == {"order_id": "e1-stop", "strategy": "s1", "symbol": "MES",
                                                "trigger": "executed", "from": WORKING, "to": TRIGGERED, "filled": 1}
    assert r.desk.knows("e1-stop") and r.desk.knows("e1-target")  # the stop works on for its second contract
    changes = r.fill("e1-stop", -1)
    assert changes == Changes(transitions=(change("e1-stop", "executed", TRIGGERED, TRIGGERED, filled=2),))
    # the target's cancel confirmed: nothing is left to protect, and the whole bracket is forgotten
    changes = r.status("e1-target", "CANCELLED")
    assert changes == Changes(transitions=(change("e1-target", "ended", CANCELLING, CANCELLED, needed=False),))
    assert changes.transitions[0].payload()["needed"] is False
    assert r.desk.protectors() == () and not r.desk.knows("e1-stop") and not r.desk.knows("e1-target")


def test_a_bracket_stays_held_while_any_of_it_is_live() -> None:
    r = Rig().opened()
    r.status("e1-target", "CANCELLED")  # a target lost: the stop protects on
    assert r.desk.knows("e1-target") and r.desk.knows("e1-stop")
    assert states(r) == {"e1-stop": WORKING, "e1-target": CANCELLED}


def test_a_stop_lost_unasked_while_open_trips_naming_the_stop_and_its_position() -> None:
    r = Rig().opened()
    changes = r.status("e1-stop", "CANCELLED")
    assert changes == Changes(transitions=(change("e1-stop", "ended", WORKING, CANCELLED, needed=True),),
                              commands=(Command(kind=TRIP, reason="protective stop e1-stop of s1/MES lost"),))
    assert changes.transitions[0].payload()["needed"] is True and "filled" not in changes.transitions[0].payload()


def test_a_stop_refused_while_open_trips_as_well() -> None:
    r = Rig().opened()
    changes = r.status("e1-stop", "REJECTED", reason="no")
    assert changes == Changes(transitions=(change("e1-stop", "rejected", WORKING, REJECTED, needed=True),),
                              commands=(Command(kind=TRIP, reason="protective stop e1-stop of s1/MES lost"),))


def test_a_target_lost_while_open_is_logged_and_restores_nothing() -> None:
    r = Rig().opened()
    changes = r.status("e1-target", "REJECTED")
    assert changes == Changes(transitions=(change("e1-target", "rejected", WORKING, REJECTED, needed=True),))


def test_a_stop_refused_with_nothing_to_protect_asks_for_nothing() -> None:
    r = Rig()
    r.status("e1", "CANCELLED")  # the entry ended unfilled
    changes = r.status("e1-stop", "REJECTED")
    assert changes == Changes(transitions=(change("e1-stop", "rejected", PENDING, REJECTED, needed=False),))


def test_a_stop_lost_is_sent_again_for_what_is_held_in_the_same_oca_group() -> None:
    r = Rig(2, on_lost="resend").opened()
    changes = r.status("e1-stop", "CANCELLED")
    again = OrderRequest(client_order_id="again-1", strategy="s1", symbol="MES", qty=-2, kind=STOP, purpose=PROTECT,
                         stop_ticks=19990, tif=GTC, oca_group="oca-e1")
    assert changes == Changes(transitions=(change("e1-stop", "ended", WORKING, CANCELLED, needed=True),),
                              commands=(Command(kind=SEND, order=again,
                                                reason="protective stop e1-stop of s1/MES lost: sent again"),))
    assert r.desk.order("again-1") == again and r.book.machine("s1", "MES").order("again-1") == again
    assert dict(states(r)) == {"e1-stop": CANCELLED, "e1-target": WORKING, "again-1": PENDING}
    assert [d["resent"] for d in r.desk.to_dict()] == [True, True, True]
    # lost a second time: the bracket was sent again once, so it trips
    r.status("again-1", "ACCEPTED")
    changes = r.status("again-1", "CANCELLED")
    assert changes.commands == (Command(kind=TRIP, reason="protective stop again-1 of s1/MES lost"),)


def test_a_short_positions_stop_is_sent_again_as_a_buy() -> None:
    r = Rig(-3, on_lost="resend").opened()
    changes = r.status("e1-stop", "CANCELLED")
    (command,) = changes.commands
    assert command.kind == SEND and command.order is not None
    assert (command.order.qty, command.order.stop_ticks) == (3, 20010)


def test_a_stop_lost_with_only_part_of_the_entry_filled_is_sent_again_for_that_part() -> None:
    r = Rig(3, on_lost="resend")
    r.fill("e1", 1)
    r.status("e1", "CANCELLED", filled=1)
    changes = r.status("e1-stop", "CANCELLED")
    (command,) = changes.commands
    assert command.order is not None and command.order.qty == -1


def test_a_desk_that_cannot_name_a_new_order_trips_instead_of_resending() -> None:
    r = Rig(on_lost="resend", new_id=None).opened()
    assert r.status("e1-stop", "CANCELLED").commands == (
        Command(kind=TRIP, reason="protective stop e1-stop of s1/MES lost"),)


def test_a_stop_the_position_machine_refuses_to_send_again_trips_saying_why() -> None:
    r = Rig(on_lost="resend", new_id=lambda: "e1").opened()  # an id the position already used
    changes = r.status("e1-stop", "CANCELLED")
    assert changes.commands == (Command(kind=TRIP, reason="protective stop e1-stop of s1/MES lost; not sent again: "
                                                          "order id 'e1' was already used"),)
    # nothing was sent, and the bracket's one resend is spent: a later loss trips too
    assert not r.desk.knows("e1") and [d["resent"] for d in r.desk.to_dict()] == [True, True]


def test_a_stop_lost_before_its_entry_filled_cancels_the_entry_when_resending() -> None:
    r = Rig(on_lost="resend")
    r.status("e1-stop", "ACCEPTED")
    changes = r.status("e1-stop", "CANCELLED")
    assert changes == Changes(
        transitions=(change("e1-stop", "ended", WORKING, CANCELLED, needed=True),),
        commands=(Command(kind=CANCEL, order_id="e1",
                          reason="protective stop e1-stop of s1/MES lost: entry not sent unprotected"),))
    assert [d["resent"] for d in r.desk.to_dict()] == [False, False]


def test_a_sibling_reported_executed_before_its_fill_makes_the_other_unneeded() -> None:
    r = Rig().opened()
    assert not r.desk.fills_in_flight()
    assert r.status("e1-stop", "FILLED", filled=1) == Changes()  # the venue says executed; the fill comes later
    assert r.desk.fills_in_flight()
    changes = r.status("e1-target", "CANCELLED")  # the venue's one-cancels-other
    assert changes == Changes(transitions=(change("e1-target", "ended", WORKING, CANCELLED, needed=False),))
    r.fill("e1-stop", -1)
    assert not r.desk.fills_in_flight()


def test_a_statuss_filled_count_never_goes_down() -> None:
    r = Rig(2).opened()
    r.status("e1-stop", "PARTIALLY_FILLED", filled=1)
    r.status("e1-stop", "PARTIALLY_FILLED", filled=0)  # out of order: the higher count stands
    assert r.desk.fills_in_flight()
    r.fill("e1-stop", -1)
    assert not r.desk.fills_in_flight()


def test_a_cancel_sent_through_the_position_machine_is_logged_as_asked_before_it_ended() -> None:
    r = Rig().opened()
    r.book.machine("s1", "MES").request_cancel("e1-stop")
    changes = r.status("e1-stop", "CANCELLED")
    assert changes == Changes(transitions=(change("e1-stop", "cancel_asked", WORKING, CANCELLING),
                                           change("e1-stop", "ended", CANCELLING, CANCELLED, needed=True)))


def test_a_cancel_the_desk_asked_for_is_not_asked_again_when_it_ends() -> None:
    r = Rig().opened()
    r.desk.cancel("s1", "MES", "exit")
    r.book.machine("s1", "MES").request_cancel("e1-stop")
    changes = r.status("e1-stop", "CANCELLED")
    assert changes == Changes(transitions=(change("e1-stop", "ended", CANCELLING, CANCELLED, needed=True),))


def test_a_cancel_asked_elsewhere_of_a_protector_already_ended_logs_nothing() -> None:
    r = Rig().opened()
    r.status("e1-target", "CANCELLED")
    r.book.machine("s1", "MES").request_cancel("e1-target")
    assert r.status("e1-target", "CANCELLED") == Changes()


def test_a_protector_the_venue_no_longer_works_is_taken_as_cancelled() -> None:
    r = Rig().opened()
    changes = r.desk.missing("e1-stop", T0)
    assert changes == Changes(transitions=(change("e1-stop", "ended", WORKING, CANCELLED, needed=True),),
                              commands=(Command(kind=TRIP, reason="protective stop e1-stop of s1/MES lost"),))
    assert r.desk.missing("nobody", T0) == Changes()


def test_a_partly_executed_protector_missing_at_the_venue_keeps_its_count() -> None:
    r = Rig(2).opened()
    r.fill("e1-stop", -1)
    r.desk.missing("e1-stop", T0)
    assert not r.desk.fills_in_flight()
    assert [(d["order_id"], d["filled"]) for d in r.desk.to_dict()] == [("e1-stop", 1), ("e1-target", 0)]


def test_cancelling_a_positions_protectors_logs_and_asks_for_each_with_the_reason_given() -> None:
    r = Rig().opened()
    r.send("f1", 1, strategy="s2")
    r.send("g1", 1, symbol="MNQ")
    changes = r.desk.cancel("s1", "MES", "session flatten")
    assert changes == Changes(
        transitions=(change("e1-stop", "cancel_asked", WORKING, CANCELLING),
                     change("e1-target", "cancel_asked", WORKING, CANCELLING)),
        commands=(Command(kind=CANCEL, order_id="e1-stop", reason="session flatten"),
                  Command(kind=CANCEL, order_id="e1-target", reason="session flatten")))
    assert {o.client_order_id: m.state for o, m in r.desk.protectors("s2")} == {"f1-stop": PENDING, "f1-target": PENDING}
    assert {o.client_order_id: m.state for o, m in r.desk.protectors("s1", "MNQ")} == {"g1-stop": PENDING,
                                                                                       "g1-target": PENDING}


def test_strays_are_the_working_protectors_of_positions_that_hold_nothing_and_enter_nothing() -> None:
    r = Rig().opened()
    r.send("f1", 1, strategy="s2")  # its entry may still fill: not a stray
    m = r.book.machine("s1", "MES")
    for oid in m.live_protectors():
        m.venue_not_working(oid)
    m.write_off()
    changes = r.desk.strays()
    reason = "stray protector: its position is flat"
    assert changes == Changes(
        transitions=(change("e1-stop", "cancel_asked", WORKING, CANCELLING),
                     change("e1-target", "cancel_asked", WORKING, CANCELLING)),
        commands=(Command(kind=CANCEL, order_id="e1-stop", reason=reason),
                  Command(kind=CANCEL, order_id="e1-target", reason=reason)))
    assert r.desk.strays() == Changes()  # being cancelled: not asked twice


def test_a_desk_refuses_an_unknown_reaction_to_a_lost_stop() -> None:
    with pytest.raises(ValueError, match=r"^on_lost 'retry' must be one of trip, resend$"):
        ProtectionDesk(PositionBook(), on_lost="retry")
    desk = ProtectionDesk(PositionBook())
    assert (desk.on_lost, desk.new_id) == (TRIP, None)


def test_a_cancel_sent_through_the_position_machine_before_the_acknowledgement_is_logged_as_asked() -> None:
    r = Rig()
    r.book.machine("s1", "MES").request_cancel("e1-stop")
    changes = r.status("e1-stop", "CANCELLED")
    assert changes == Changes(transitions=(change("e1-stop", "cancel_asked", PENDING, CANCELLING),
                                           change("e1-stop", "ended", CANCELLING, CANCELLED, needed=True)))


def test_the_rest_of_a_partly_executed_stop_lost_while_contracts_remain_trips() -> None:
    r = Rig(2).opened()
    r.fill("e1-stop", -1)  # one contract closed; the stop's own fill does not make it unneeded
    changes = r.status("e1-stop", "CANCELLED", filled=1)
    assert changes == Changes(transitions=(change("e1-stop", "ended", TRIGGERED, CANCELLED, needed=True),),
                              commands=(Command(kind=TRIP, reason="protective stop e1-stop of s1/MES lost"),))


def test_a_protector_without_an_oca_group_cancels_no_other_when_it_executes() -> None:
    desk = ProtectionDesk(PositionBook())
    lone = [OrderRequest(client_order_id=oid, strategy="s1", symbol="MES", qty=-1, kind=STOP, purpose=PROTECT,
                         stop_ticks=19990, tif=GTC) for oid in ("p1", "p2")]
    desk.sent(lone)
    changes = desk.on_event(Fill(exec_id="x1", order_id="p1", strategy="s1", symbol="MES", qty=-1, price_ticks=19990,
                                 commission=Decimal("0.5"), at=T0))
    assert changes == Changes(transitions=(ProtectorChange(order_id="p1", strategy="s1", symbol="MES",
                                                           trigger="executed", source=PENDING, dest=TRIGGERED,
                                                           filled=1),))
    assert not desk.knows("p1") and desk.knows("p2")  # a protector without a group is a bracket of its own
    assert [m.state for _, m in desk.protectors()] == [PENDING]


def test_a_refusal_of_a_protector_that_already_ended_changes_nothing() -> None:
    r = Rig().opened()
    r.status("e1-target", "CANCELLED")  # its bracket is held on: the stop still works
    assert r.status("e1-target", "REJECTED") == Changes()
    assert states(r) == {"e1-stop": WORKING, "e1-target": CANCELLED}


def test_an_ended_bracket_leaves_nothing_behind_not_even_its_spent_resend() -> None:
    r = Rig(on_lost="resend").opened()
    r.status("e1-stop", "CANCELLED")  # sent again as again-1: the group's one resend is spent
    r.status("again-1", "ACCEPTED")
    r.fill("e1-target", -1)  # the target closes the position; again-1 is cancelled (one-cancels-other)
    r.status("again-1", "CANCELLED")
    assert r.desk.protectors() == ()
    # a later bracket under the same group name starts afresh: its lost stop is sent again, not tripped
    entry = OrderRequest(client_order_id="e2", strategy="s1", symbol="MES", qty=1)
    stop = OrderRequest(client_order_id="e2-stop", strategy="s1", symbol="MES", qty=-1, kind=STOP, purpose=PROTECT,
                        stop_ticks=19990, tif=GTC, parent_id="e2", oca_group="oca-e1")
    m = r.book.machine("s1", "MES")
    m.submit_entry(entry)
    m.submit_protectors((stop,))
    r.desk.sent((stop,))
    r.orders.update({"e2": entry, "e2-stop": stop})
    r.fill("e2", 1)
    r.status("e2-stop", "ACCEPTED")
    assert [c.kind for c in r.status("e2-stop", "CANCELLED").commands] == [SEND]
