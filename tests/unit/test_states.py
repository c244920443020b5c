"""portal.states is the one table of allowed moves; the database's triggers (migrations 0004
and 0005) enforce the same moves, and both must agree."""

import importlib.util
import re
from pathlib import Path

import pytest

from portal import states

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "migrations" / "versions"


def _migration(name: str):
    spec = importlib.util.spec_from_file_location(name, VERSIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def database_machines() -> dict[str, tuple[set[str], set[tuple[str, str]]]]:
    """table.column → (initial states, moves) as the triggers are created."""
    found = {}
    for table, column, initial, moves in _migration("0004_state_machines").STATE_MACHINES:
        found[f"{table}.{column}"] = (
            set(initial.split(",")),
            {tuple(m.split(">")) for m in moves},
        )
    invoice_args = re.findall(r"'([^']*)'", _migration("0005_invoice_numbers").MOVES)
    _column, initial, *moves = invoice_args
    found["invoices.status"] = (set(initial.split(",")), {tuple(m.split(">")) for m in moves})
    return found


@pytest.mark.parametrize("machine", states.MACHINES, ids=lambda m: m.name)
def test_each_machine_matches_the_database_trigger(machine):
    initial, moves = database_machines()[machine.name]
    assert set(machine.initial) == initial
    assert machine.edges() == moves


def test_every_database_machine_has_its_table_here():
    assert set(database_machines()) == {m.name for m in states.MACHINES}


@pytest.mark.parametrize(
    ("goal", "steps"),
    [
        ("pending", []),
        ("approved", ["approved"]),
        ("active", ["approved", "active"]),
        ("suspended", ["approved", "suspended"]),
    ],
)
def test_reach_takes_the_shortest_allowed_path(goal, steps):
    assert states.ACCOUNT.reach(goal) == steps


def test_an_unreachable_state_is_an_error():
    with pytest.raises(ValueError, match="cannot be reached"):
        states.ACCESS_KEY.path("revoked", "active")


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        ("pending", ["approve"]),
        ("approved", ["activate", "suspend"]),
        ("active", ["suspend"]),
        ("suspended", ["reactivate"]),
    ],
)
def test_actions_from_a_state(status, actions):
    assert states.ACCOUNT.actions_from(status) == actions
    for action in states.ACCOUNT.moves:
        assert states.ACCOUNT.allows(action, status) is (action in actions)


@pytest.mark.parametrize(
    ("machine", "goal", "steps"),
    [
        (states.ACCOUNT, "suspended", [("approve", "approved"), ("suspend", "suspended")]),
        (states.ACCOUNT, "pending", []),
        (states.ORDER, "fulfilled", [("pay", "paid"), ("fulfil", "fulfilled")]),
        (states.ORDER, "cancelled", [("cancel", "cancelled")]),
        (states.INVOICE, "paid", [("open", "open"), ("pay", "paid")]),
        (states.VERSIONING, "suspended", [("enable", "enabled"), ("suspend", "suspended")]),
    ],
)
def test_steps_name_each_move_on_the_way(machine, goal, steps):
    assert machine.steps(goal) == steps
    state = machine.initial[0]
    for action, target in steps:  # each is a move the machine allows, in turn
        assert machine.allows(action, state) and machine.target(action) == target
        state = target


def test_steps_from_another_state():
    assert states.ACCOUNT.steps("active", start="suspended") == [("reactivate", "active")]
    assert states.ACCOUNT.action("approved", "active") == "activate"
    with pytest.raises(ValueError, match="no move from active to pending"):
        states.ACCOUNT.action("active", "pending")
