"""The protectors' terms on the desk: which it holds and reports (by strategy and symbol, the working stop, the
ids still live), what it refuses to record, a protector refitted to a smaller position or moved to new prices,
a modification recorded on the desk and its position, and the payloads the runner logs for them."""

from __future__ import annotations

import attrs
import pytest

from statebot.core.engine.protection import ProtectionDesk, apply_modify, modify_payload, order_payload
from statebot.core.fsm.protector import CANCELLING, PENDING, WORKING
from statebot.core.orders import GTC, LIMIT, PROTECT, STOP, OrderRequest
from statebot.core.positions.book import PositionBook
from tests.core.engine.protection_helpers import Rig


def protector(oid: str, strategy: str = "s1", symbol: str = "MES", kind: str = STOP, qty: int = -1) -> OrderRequest:
    return OrderRequest(client_order_id=oid, strategy=strategy, symbol=symbol, qty=qty, kind=kind, purpose=PROTECT,
                        stop_ticks=19990 if kind == STOP else None, limit_ticks=20020 if kind == LIMIT else None,
                        tif=GTC)


def ids(pairs) -> list[str]:  # type: ignore[no-untyped-def]
    return [o.client_order_id for o, _ in pairs]


def test_the_protectors_of_one_strategy_or_symbol_oldest_first() -> None:
    desk = ProtectionDesk(PositionBook())
    desk.sent((protector("a", "s1", "MES"), protector("b", "s2", "MES"), protector("c", "s1", "MNQ"),
               protector("d", "s1", "MES", LIMIT)))
    assert ids(desk.protectors()) == ["a", "b", "c", "d"]
    assert ids(desk.protectors("s1")) == ["a", "c", "d"]
    assert ids(desk.protectors(symbol="MES")) == ["a", "b", "d"]
    assert ids(desk.protectors("s1", "MNQ")) == ["c"]
    assert ids(desk.protectors("s3")) == [] and ids(desk.protectors(symbol="M2K")) == []
    assert [m.state for _, m in desk.protectors()] == [PENDING] * 4
    assert desk.live_ids("s1", "MES") == ("a", "d") and desk.live_ids() == ("a", "b", "c", "d")
    assert desk.live_ids(symbol="MNQ") == ("c",)


def test_the_working_stop_is_the_newest_stop_of_that_position_the_venue_holds_and_no_cancel_was_asked_for() -> None:
    desk = ProtectionDesk(PositionBook())
    desk.sent((protector("t", kind=LIMIT),))
    assert desk.working_stop("s1", "MES") is None  # a target is no stop
    desk.sent((protector("a"), protector("b"), protector("x", "s2"), protector("y", "s1", "MNQ")))
    found = desk.working_stop("s1", "MES")
    assert found is not None and found.client_order_id == "b"
    desk.cancel("s1", "MES", "exit")
    assert desk.working_stop("s1", "MES") is None
    assert desk.live_ids("s1", "MES") == ("t", "a", "b")  # being cancelled, they may still execute
    other = desk.working_stop("s2", "MES")
    assert other is not None and other.client_order_id == "x"


def test_the_desk_records_only_protective_orders_each_id_once() -> None:
    desk = ProtectionDesk(PositionBook())
    entry = OrderRequest(client_order_id="e1", strategy="s1", symbol="MES", qty=1)
    with pytest.raises(ValueError, match=r"^order e1 has purpose 'entry', not protect$"):
        desk.sent((entry,))
    desk.sent((protector("a"),))
    with pytest.raises(ValueError, match=r"^protector id 'a' was already used$"):
        desk.sent((protector("a"),))
    assert desk.order("a") == protector("a") and desk.knows("a") and not desk.knows("e1")
    with pytest.raises(KeyError):
        desk.order("e1")


def test_a_modification_is_recorded_as_the_protectors_new_terms() -> None:
    r = Rig(3).opened()
    smaller = attrs.evolve(r.desk.order("e1-stop"), qty=-2)
    r.desk.modified(smaller)
    assert r.desk.order("e1-stop") == smaller
    assert [(d["order_id"], d["qty"]) for d in r.desk.to_dict()] == [("e1-stop", -2), ("e1-target", -3)]
    with pytest.raises(KeyError):
        r.desk.modified(protector("nobody"))


def refit_pairs(r: Rig, qty: int, stop: int | None = None, target: int | None = None) -> list[tuple[str, int, int | None]]:
    return [(o.client_order_id, o.qty, o.stop_ticks if o.kind == STOP else o.limit_ticks)
            for o in r.desk.refit("s1", "MES", qty, stop, target)]


def test_protectors_larger_than_the_position_are_shrunk_to_it_once_the_entry_ended() -> None:
    r = Rig(3).opened()
    assert refit_pairs(r, 3) == []  # they fit: nothing to change
    assert refit_pairs(r, 1) == [("e1-stop", -1, 19990), ("e1-target", -1, 20020)]
    assert refit_pairs(r, 5) == []  # a larger position keeps its protectors' size
    assert refit_pairs(r, 5, stop=19995) == [("e1-stop", -3, 19995)]
    assert refit_pairs(r, 3, target=20030) == [("e1-target", -3, 20030)]
    assert refit_pairs(r, 2, 19980, 20040) == [("e1-stop", -2, 19980), ("e1-target", -2, 20040)]
    assert [o.client_order_id for o, _ in r.desk.protectors()] == ["e1-stop", "e1-target"]
    assert r.desk.order("e1-stop").qty == -3  # refit changes nothing


def test_a_short_positions_protectors_are_shrunk_to_it() -> None:
    r = Rig(-3).opened()
    assert refit_pairs(r, -2) == [("e1-stop", 2, 20010), ("e1-target", 2, 19980)]


def test_nothing_is_refitted_for_a_flat_or_reversed_position() -> None:
    r = Rig(2).opened()
    assert refit_pairs(r, 0, 19995, 20030) == []
    assert refit_pairs(r, -1, 19995, 20030) == []


def test_a_protector_being_cancelled_or_partly_executed_is_not_refitted() -> None:
    r = Rig(3).opened()
    r.fill("e1-stop", -1)  # the target is being cancelled (OCA), the stop executed part
    assert [m.state for _, m in r.desk.protectors()] == ["TRIGGERED", CANCELLING]
    assert refit_pairs(r, 1, 19980, 20040) == []


def test_a_protector_that_no_longer_works_is_passed_over_and_the_next_refitted() -> None:
    r = Rig(3).opened()
    r.status("e1-stop", "CANCELLED")  # lost (the desk trips): the target still works
    assert refit_pairs(r, 1) == [("e1-target", -1, 20020)]


def test_only_the_named_positions_protectors_are_refitted() -> None:
    r = Rig(2).opened()
    r.send("f1", 2, symbol="MNQ")  # the same strategy in another symbol
    r.send("g1", 2, strategy="s2")  # another strategy in the same symbol
    assert [o.client_order_id for o in r.desk.refit("s1", "MES", 1)] == ["e1-stop", "e1-target"]
    assert [o.client_order_id for o in r.desk.refit("s2", "MES", 1)] == ["g1-stop", "g1-target"]


def test_a_logged_modification_changes_the_desk_and_the_position_machine() -> None:
    r = Rig(3).opened()
    new = apply_modify(r.book, r.desk, "e1-stop", -2, 19985)
    assert (new.client_order_id, new.kind, new.qty, new.stop_ticks, new.limit_ticks) == ("e1-stop", STOP, -2, 19985, None)
    assert r.desk.order("e1-stop") == new and r.book.machine("s1", "MES").order("e1-stop") == new
    target = apply_modify(r.book, r.desk, "e1-target", -1, 20030, positions=False)
    assert (target.kind, target.qty, target.limit_ticks, target.stop_ticks) == (LIMIT, -1, 20030, None)
    assert r.desk.order("e1-target") == target
    assert r.book.machine("s1", "MES").order("e1-target").qty == -3  # the machine was left alone
    with pytest.raises(KeyError):
        apply_modify(r.book, r.desk, "nobody", -1, 1)


def test_a_modification_that_does_not_fit_the_position_is_refused_before_the_desk_records_it() -> None:
    r = Rig(1).opened()
    with pytest.raises(ValueError, match="does not fit position 1"):
        apply_modify(r.book, r.desk, "e1-stop", -2, 19985)
    assert r.desk.order("e1-stop").qty == -1 and r.desk.order("e1-stop").stop_ticks == 19990


def test_the_logged_payload_of_a_protectors_new_terms() -> None:
    stop = protector("e1-stop", qty=-2)
    assert modify_payload(stop, lambda t: f"<{t}>", "entry ended") == {
        "order_id": "e1-stop", "strategy": "s1", "symbol": "MES", "qty": -2, "kind": STOP, "price_ticks": 19990,
        "price": "<19990>", "reason": "entry ended"}
    target = protector("e1-target", kind=LIMIT)
    assert modify_payload(target, lambda t: t * 2, "moved")["price_ticks"] == 20020
    assert modify_payload(target, lambda t: t * 2, "moved")["price"] == "40040"


def test_the_logged_extras_of_a_protective_order() -> None:
    r = Rig(1)
    stop, target = r.bracket.protectors
    assert order_payload(stop, lambda t: f"<{t}>") == {"kind": STOP, "price_ticks": 19990, "price": "<19990>",
                                                        "tif": GTC, "parent_id": "e1", "oca_group": "oca-e1"}
    assert order_payload(target, lambda t: t) == {"kind": LIMIT, "price_ticks": 20020, "price": "20020", "tif": GTC,
                                                   "parent_id": "e1", "oca_group": "oca-e1"}


def test_a_target_already_at_its_terms_does_not_end_the_refit_of_a_stop_sent_again_after_it() -> None:
    r = Rig(3, on_lost="resend").opened()
    r.status("e1-stop", "CANCELLED")  # lost: sent again as again-1, after the target in the desk's order
    r.status("again-1", "ACCEPTED")
    assert [o.client_order_id for o, _ in r.desk.protectors("s1", "MES")] == ["e1-stop", "e1-target", "again-1"]
    # the target keeps its terms; the stop sent again moves
    assert refit_pairs(r, 3, stop=19995) == [("again-1", -3, 19995)]
    assert refit_pairs(r, 1) == [("e1-target", -1, 20020), ("again-1", -1, 19990)]
