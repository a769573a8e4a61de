"""Roles from config: managers and operators by id; everyone else is a member.

A permission is just set membership (nonebot2's "permissions only combine with OR"): a
command lists the roles allowed, and a manager is not implicitly an operator unless listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Role = Literal["manager", "operator", "member"]
MANAGER: Role = "manager"
OPERATOR: Role = "operator"
MEMBER: Role = "member"
STAFF: frozenset[Role] = frozenset({MANAGER, OPERATOR})
EVERYONE: frozenset[Role] = frozenset({MANAGER, OPERATOR, MEMBER})


@dataclass(frozen=True)
class Roles:
    managers: frozenset[str] = frozenset()
    operators: frozenset[str] = frozenset()

    @classmethod
    def of(cls, managers: Iterable[str] = (), operators: Iterable[str] = ()) -> Roles:
        return cls(frozenset(managers), frozenset(operators))

    def role_of(self, user_id: str) -> Role:
        if user_id in self.managers:
            return MANAGER
        if user_id in self.operators:
            return OPERATOR
        return MEMBER

    def operator_ids(self) -> list[str]:
        """Who receives suggestions: operators, or managers when no operator is configured."""
        return sorted(self.operators) or sorted(self.managers)
