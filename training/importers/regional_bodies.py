"""Federal bodies that serve some states only, by name, with the states their statutes or
charters give them. A national importer (the Federal Register agency list) marks these with
`service_regions`, so place filters pass them for their states only: the Gulf Coast Ecosystem
Restoration Council is no partner for a need in Hawaii, nor the Denali Commission for Maine.

The areas are public law (the commissions' authorising acts and the power marketing
administrations' marketing areas, as the bodies publish them); a body that serves parts of a
state counts for the whole state. Names compare case-blind, spaces collapsed.
"""

from __future__ import annotations

_APPALACHIA = "AL GA KY MD MS NY NC OH PA SC TN VA WV"

SERVED_STATES: dict[str, str] = {
    "appalachian regional commission": _APPALACHIA,  # 40 U.S.C. 14102
    "appalachian states low-level radioactive waste commission": "DE MD PA WV",
    "delaware river basin commission": "DE NJ NY PA",
    "susquehanna river basin commission": "MD NY PA",
    "denali commission": "AK",
    "alaska power administration": "AK",
    "delta regional authority": "AL AR IL KY LA MO MS TN",
    "northern border regional commission": "ME NH NY VT",
    "gulf coast ecosystem restoration council": "AL FL LA MS TX",  # RESTORE Act
    "mississippi river commission": "AR IA IL KY LA MN MO MS TN WI",
    "tennessee valley authority": "AL GA KY MS NC TN VA",
    "pacific northwest electric power and conservation planning council": "ID MT OR WA",
    "bonneville power administration": "CA ID MT NV OR UT WA WY",
    "southeastern power administration": "AL FL GA IL KY MS NC SC TN VA WV",
    "southwestern power administration": "AR KS LA MO OK TX",
    "western area power administration": "AZ CA CO IA KS MN MT ND NE NM NV SD TX UT WY",
}


def served_states(name: str) -> list[str]:
    """The states a regional federal body serves; [] for a body that serves the whole country."""
    return SERVED_STATES.get(" ".join(name.split()).lower(), "").split()
