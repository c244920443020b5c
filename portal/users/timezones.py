"""The time zones a person can choose: every IANA zone of the system's database (Brazil's
first), as the profile page offers them and the service accepts them."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

# Brazil's zones, the most populous first (São Paulo is the default of every new person).
BRAZIL = (
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Fortaleza",
    "America/Recife",
    "America/Bahia",
    "America/Belem",
    "America/Cuiaba",
    "America/Campo_Grande",
    "America/Porto_Velho",
    "America/Boa_Vista",
    "America/Rio_Branco",
    "America/Maceio",
    "America/Araguaina",
    "America/Santarem",
    "America/Eirunepe",
    "America/Noronha",
)


@cache
def all_zones() -> frozenset[str]:
    """Region/City zones and UTC (not the legacy aliases such as "Etc/GMT+3" or "EST")."""
    return frozenset(
        z
        for z in available_timezones()
        if ("/" in z and not z.startswith(("Etc/", "SystemV/", "posix", "right/"))) or z == "UTC"
    )


@cache
def others() -> tuple[str, ...]:
    return tuple(sorted(all_zones() - set(BRAZIL)))


def is_known(zone: str | None) -> bool:
    return bool(zone) and zone in all_zones()
