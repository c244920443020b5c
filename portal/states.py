"""Every state machine of DOMAIN.md, once: the allowed moves as tables that services, the
demo seed and the test factories all read. The database enforces the same moves with its
own triggers (migrations 0004 and 0005); a unit test checks that both tables agree.

A machine maps an *action* (a verb a person clicks: "approve", "suspend") to the states it
leaves from and the state it reaches. ``path(start, goal)`` lists the states to step
through from one state to another, which is how test data and the seed reach "suspended"
without ever making a move the database refuses.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Move:
    sources: tuple[str, ...]
    target: str


@dataclass(frozen=True)
class StateMachine:
    name: str
    initial: tuple[str, ...]  # the states a new row may start in
    moves: Mapping[str, Move] = field(default_factory=dict)

    @property
    def states(self) -> tuple[str, ...]:
        seen = list(self.initial)
        for move in self.moves.values():
            for state in (*move.sources, move.target):
                if state not in seen:
                    seen.append(state)
        return tuple(seen)

    def edges(self) -> set[tuple[str, str]]:
        """Every allowed (from, to) pair, as the database's trigger lists them."""
        return {(s, m.target) for m in self.moves.values() for s in m.sources}

    def actions_from(self, state: str) -> list[str]:
        """The actions offered to a row in ``state``, in the table's order."""
        return [action for action, move in self.moves.items() if state in move.sources]

    def allows(self, action: str, state: str) -> bool:
        move = self.moves.get(action)
        return move is not None and state in move.sources

    def target(self, action: str) -> str:
        return self.moves[action].target

    def path(self, start: str, goal: str) -> list[str]:
        """The states to step through from ``start`` to ``goal`` (``start`` excluded),
        shortest first; ValueError if ``goal`` cannot be reached."""
        previous: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            state = queue.popleft()
            if state == goal:
                steps = []
                while previous[state] is not None:
                    steps.append(state)
                    state = previous[state]
                return steps[::-1]
            for source, target in sorted(self.edges()):
                if source == state and target not in previous:
                    previous[target] = state
                    queue.append(target)
        raise ValueError(f"{self.name}: {goal} cannot be reached from {start}")

    def reach(self, goal: str) -> list[str]:
        """The steps from the first initial state to ``goal``."""
        return self.path(self.initial[0], goal)

    def action(self, source: str, target: str) -> str:
        """The action that moves a row from ``source`` to ``target``."""
        for name, move in self.moves.items():
            if source in move.sources and move.target == target:
                return name
        raise ValueError(f"{self.name}: no move from {source} to {target}")

    def steps(self, goal: str, start: str | None = None) -> list[tuple[str, str]]:
        """``(action, state)`` for each move from ``start`` (the first initial state) to
        ``goal``: what the seed and the test factories replay, one allowed move at a time."""
        state = start or self.initial[0]
        moves = []
        for target in self.path(state, goal):
            moves.append((self.action(state, target), target))
            state = target
        return moves


ACCOUNT = StateMachine(
    "accounts.status",
    initial=("pending",),
    moves={
        "approve": Move(("pending",), "approved"),
        "activate": Move(("approved",), "active"),
        "suspend": Move(("approved", "active"), "suspended"),
        "reactivate": Move(("suspended",), "active"),
    },
)

VERSIONING = StateMachine(
    "buckets.versioning",
    initial=("unversioned", "enabled"),
    moves={
        "enable": Move(("unversioned", "suspended"), "enabled"),
        "suspend": Move(("enabled",), "suspended"),
    },
)

ACCESS_KEY = StateMachine(
    "access_keys.status",
    initial=("active",),
    moves={
        "deactivate": Move(("active",), "inactive"),
        "reactivate": Move(("inactive",), "active"),
        "revoke": Move(("active", "inactive"), "revoked"),
    },
)

ORDER = StateMachine(
    "orders.status",
    initial=("pending",),
    moves={
        "pay": Move(("pending",), "paid"),
        "fulfil": Move(("paid",), "fulfilled"),
        "cancel": Move(("pending",), "cancelled"),
    },
)

SUBSCRIPTION = StateMachine(
    "subscriptions.status",
    initial=("active",),
    moves={"cancel": Move(("active",), "cancelled")},
)

QUOTA_REQUEST = StateMachine(
    "quota_requests.status",
    initial=("pending",),
    moves={
        "approve": Move(("pending",), "approved"),
        "reject": Move(("pending",), "rejected"),
    },
)

INVOICE = StateMachine(
    "invoices.status",
    initial=("draft",),
    moves={
        "open": Move(("draft",), "open"),
        "pay": Move(("open",), "paid"),
        "void": Move(("draft", "open"), "void"),
    },
)

MACHINES = (ACCOUNT, VERSIONING, ACCESS_KEY, ORDER, SUBSCRIPTION, QUOTA_REQUEST, INVOICE)
