"""US IRS exempt-organisation files (Business Master File shape plus mission statements).

Columns: ein, name and state are required: a file without one of them is refused, naming it.
city, zip, ntee_code (or the BMF's NTEE_CD), mission and an address column (street, address,
address1 or street_address: the contact) may be missing: the import says once, per column,
what the profiles lose (a column missing was lost on every row
without a word); revenue is optional (checked, not stored). Each row becomes a
`nonprofit` organisation with id `ein-<9 digits>`, focus areas from the NTEE major group letter,
and a few offers read lightly from the mission.

Cells are checked as the generic ingest checks them (`matcher.loaders`): a cell a spreadsheet
would run as a formula (`=HYPERLINK(...)`, also in the mission) rejects the row; a mission's
leading bullet ("- Rescue, Inc. ...") is dropped, not the row (`base.free_text`). A row is kept,
with a warning naming its row and column, when its NTEE code is not one (ignored), its revenue
is not a number, or its ZIP code is not 5 or 9 digits (4 or 3 digits are read with the leading
zeros a spreadsheet drops; anything else is not stored, the city places it).
"""

from __future__ import annotations

import re
from pathlib import Path

from matcher import capabilities
from matcher.domain import Organisation
from matcher.loaders import RowError
from matcher.places import state_code, state_name
from training.importers.base import (
    ImportBatch,
    RowRejected,
    free_text,
    iter_rows,
    number,
    reject,
    required_text,
    safe_text,
    shorten,
    validated,
)

REQUIRED = ("ein", "name")
# expected in the header (see the module docstring): a file without one is refused
# where the organisation is: without it no place filter, no distance and no locality can hold
EXPECTED = ("state",)
# NTEE major groups (NCCS), by first letter of the code.
NTEE_MAJOR: dict[str, str] = {
    "A": "arts, culture and humanities",
    "B": "education",
    "C": "environment",
    "D": "animal-related",
    "E": "health care",
    "F": "mental health and crisis intervention",
    "G": "diseases, disorders and medical disciplines",
    "H": "medical research",
    "I": "crime and legal-related",
    "J": "employment",
    "K": "food, agriculture and nutrition",
    "L": "housing and shelter",
    "M": "public safety, disaster preparedness and relief",
    "N": "recreation and sports",
    "O": "youth development",
    "P": "human services",
    "Q": "international, foreign affairs and national security",
    "R": "civil rights, social action and advocacy",
    "S": "community improvement and capacity building",
    "T": "philanthropy, voluntarism and grantmaking",
    "U": "science and technology",
    "V": "social science",
    "W": "public and societal benefit",
    "X": "religion-related",
    "Y": "mutual and membership benefit",
    "Z": "unknown",
}
# Capabilities too generic to claim as an offer from a mission statement alone.
_NOT_OFFERS = frozenset({"public_programmes", "regulatory", "funding"})
_OFFER_VERBS = re.compile(r"\b(provid|offer|deliver|run|operat|support|serv|teach|train)")
MAX_OFFERS = 4
ADDRESS_COLUMNS = ("street", "address", "address1", "street_address")
# a column missing is said once, with what the profiles lose: the BMF's own extracts carry no
# mission, and a file of missions may carry no NTEE code
OPTIONAL = (
    (ADDRESS_COLUMNS, "the profiles get no street address (contact)"),
    (("city",), "the profiles are placed by ZIP code or state only"),
    (("zip",), "the profiles are placed by city or state only"),
    # the BMF's own extracts call it NTEE_CD (helper-82's walk: the file said "no ntee_code
    # column" beside the very column it ignored)
    (("ntee_code", "ntee_cd"), "no cause code or focus area is read"),
    (("mission",), "the profiles are described by their cause and place only"),
)
# an NTEE code: major group letter, a digit and one or two letters or digits ("K31", "A6B",
# "P20Z", "B112"), or the major group letter alone
_NTEE = re.compile(r"[A-Z](?:\d[0-9A-Z]{1,2})?")
_ZIP = re.compile(r"(\d{5})(?:[- ]?(\d{4}))?")
_ZIP_SHORT = re.compile(r"(\d{3,4})(?:-(\d{4}))?")  # leading zeros lost: '4101', '4101-1234'


def normalise_ein(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{8,9}", digits):  # 8: a leading zero lost to a spreadsheet
        raise RowRejected("ein", f"not an EIN (9 digits, e.g. 01-0017496): '{value[:20]}'")
    return digits.zfill(9)


def read_ntee(value: str) -> tuple[str, str | None]:
    """The NTEE code of a cell ('' when blank) and, when it is not one ('9ZZ', 'Q9`x'),
    '' and the warning: it is ignored, a wrong focus area being worse than none; one cut short
    ('S4') is read as its major group letter, with a warning."""
    code = value.strip().upper()
    if not code or _NTEE.fullmatch(code):
        return code, None
    if re.fullmatch(r"[A-Z]\d", code):  # cut short ('S4', 4 rows of the dev file): its group
        return code[0], (
            f"NTEE code '{code}' is cut short (a letter and two digits, e.g. S41); read as its "
            f"major group {code[0]} ({NTEE_MAJOR.get(code[0], 'unknown')}), with no cause code"
        )
    return "", (
        f"not an NTEE code: '{value[:20]}' (expected a letter, a digit and one or two letters "
        "or digits, e.g. K31, A6B, P20Z); ignored: no focus area or cause code from it"
    )


def read_zip(value: str) -> tuple[str | None, str | None]:
    """The ZIP code of a cell (None when blank or unusable) and a warning when it is not 5 or
    9 digits: 3 or 4 digits are read with the leading zeros a spreadsheet drops ('4101' ->
    '04101'); anything else is not stored (the city places the organisation)."""
    s = value.strip()
    if not s:
        return None, None
    m = _ZIP.fullmatch(s)
    if m:
        return (f"{m[1]}-{m[2]}" if m[2] else m[1]), None
    m = _ZIP_SHORT.fullmatch(s)
    if m:
        read = m[1].zfill(5) + (f"-{m[2]}" if m[2] else "")
        return read, (
            f"ZIP code '{s}' has {len(m[1])} digits, not 5: read as '{read}' "
            "(leading zeros lost to a spreadsheet?)"
        )
    return None, (
        f"not a ZIP code: '{s[:20]}' (expected 5 or 9 digits, e.g. 04101 or 04101-2345); "
        "not stored, the city places the organisation"
    )


def check_revenue(value: str) -> str | None:
    """A warning when the revenue cell is not a number (it is not stored; a bad one is often
    a sign of a shifted row)."""
    try:
        number({"revenue": value}, "revenue")
    except RowRejected as exc:
        return exc.reason
    return None


def cause_code(ntee_code: str) -> str | None:
    """The NTEE code's first three characters (letter and two digits: 'K31', 'P20'), the label
    `matcher train causes` learns from; None when there is none."""
    code = ntee_code.strip()[:3].upper()
    return code if re.fullmatch(r"[A-Z]\d\d", code) else None


def focus_areas(ntee_code: str) -> list[str]:
    letter = ntee_code.strip()[:1].upper()
    area = NTEE_MAJOR.get(letter)
    return [area] if area and letter != "Z" else []


def _offer_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation over every offer-like capability (a named group each): one pass a text."""
    groups: list[str] = []
    labels: dict[str, str] = {}
    for i, cap in enumerate(capabilities.CAPABILITIES):
        if cap.key in _NOT_OFFERS:
            continue
        # " it " would match "it is our mission"; so it is left out.
        stems = [re.escape(s.strip()) for s in cap.stems if s.strip() and s.strip() != "it"]
        groups.append(f"(?P<c{i}>" + "|".join(stems) + ")")
        labels[f"c{i}"] = cap.label
    return re.compile(r"\b(?:" + "|".join(groups) + ")"), labels


_OFFER_PATTERN, _OFFER_LABELS = _offer_pattern()


def infer_offers(mission: str) -> list[str]:
    """Capability labels a mission says the organisation provides, in order of first mention;
    none unless it says it provides, offers, runs or supports something."""
    low = mission.lower()
    if not low or not _OFFER_VERBS.search(low):
        return []
    found: list[str] = []
    for m in _OFFER_PATTERN.finditer(low):
        label = _OFFER_LABELS[m.lastgroup or ""]
        if label not in found:
            found.append(label)
            if len(found) == MAX_OFFERS:
                break
    return found


_STATEWIDE = re.compile(
    r"\bstate[\s-]?wide\b|\b(?:throughout|across) the state\b|\ball \d+ counties\b", re.I
)
# a state's name that names something smaller: "Kansas City", "Delaware Valley", "Iowa River"
_NOT_THE_STATE = r"(?!\s+(?:city|county|valley|river|street|avenue|ave|st|road|rd|park|bay)\b)"


def service_level(name: str, mission: str, state: str) -> str:
    """'state' when the name carries its state's name ("Oregon Food Bank", "Rhode Island
    Coalition Against Domestic Violence") or the name or mission says it works statewide;
    'local' otherwise."""
    if _STATEWIDE.search(name) or _STATEWIDE.search(mission):
        return "state"
    code = state_code(state)
    if code and code != "DC":
        pattern = r"\b" + re.escape(state_name(code)) + r"\b" + _NOT_THE_STATE
        if re.search(pattern, name, re.I):
            return "state"
    return "local"


# a mission that says the organisation no longer works (IRS files keep filers that stopped):
# "THE CORPORATION IS CURRENTLY INACTIVE", "(inactive as of May 1, 2014)", "has ceased
# operations", "we have dissolved", "no longer operating"; not "to activate inactive voters",
# teachers "no longer active in the teaching community", nor a foundation whose university
# "ceased operations" while it "continues the legacy"
_DEFUNCT = re.compile(
    r"\((?:currently\s+)?inactive\b[^)]*\)"
    r"|\b(?:corporation|organi[sz]ation|entity|foundation|fund|charity|company|trust)\s+"
    r"(?:is|was|has\s+been|became)\s+(?:currently\s+|now\s+)?(?:inactive|dissolved|defunct)\b"
    r"|\b(?:has|have|had)\s+(?:been\s+)?(?:ceased\s+(?:all\s+)?operations|dissolved"
    r"|closed\s+its\s+doors|closed\s+as\s+of\b)"
    # "Foodshare is no longer an operating organization", "The Lodge Ceased All Operations",
    # "CAHS merged with ACT ... Services previously provided by CAHS are now being provided by
    # ACT" (helper-75's walk, 2026-12-06: Foodshare came first for a Wallingford pantry)
    r"|\bceased\s+all\s+operations\b"
    r"|\bno\s+longer\s+(?:an?\s+)?(?:operating|in\s+operation|operates)\b"
    r"|\bservices\s+previously\s+provided\s+by\b",
    re.IGNORECASE,
)


def says_defunct(mission: str) -> bool:
    """Whether a mission statement says the organisation no longer operates: it is imported
    inactive (kept, never recommended). A real-data walk (2026-12-04) was pointed to "Fund for
    Mental Health" for emergency rent money; its mission ends "THE CORPORATION IS CURRENTLY
    INACTIVE"."""
    return bool(_DEFUNCT.search(mission))


def _title(value: str) -> str:
    return value.title() if value.isupper() else value


def read_irs(path: str | Path, *, limit: int | None = None, progress: bool = False) -> ImportBatch:
    p = Path(path)
    batch = ImportBatch(source=p.name)
    seen: dict[str, int] = {}
    for row, values in iter_rows(
        p,
        batch,
        required=REQUIRED + EXPECTED,
        optional=OPTIONAL,
        limit=limit,
        progress=progress,
        desc="irs",
    ):
        warnings: list[tuple[str, str]] = []
        try:
            ein = normalise_ein(required_text(values, "ein"))
            if ein in seen:
                raise RowRejected("ein", f"duplicate EIN {ein} (first at row {seen[ein]})")
            org = _organisation(ein, values, warnings)
        except RowRejected as exc:
            reject(batch, row, exc)
            continue
        seen[ein] = row
        batch.warnings.extend(RowError(row, column, why) for column, why in warnings)
        batch.add_organisation(org, row, "zip" if org.postcode else "city")
        if not free_text(values, "mission"):
            batch.made_up.add(org.id)
    return batch


def _organisation(
    ein: str, values: dict[str, object], warnings: list[tuple[str, str]]
) -> Organisation:
    """The row's organisation, adding (column, reason) to `warnings` for a cell kept or
    ignored with a problem; RowRejected for a row to reject."""
    v = dict(values)

    def warn(column: str, problem: str | None) -> None:
        if problem:
            warnings.append((column, problem))

    name = required_text(v, "name")
    city = _title(safe_text(v, "city"))
    state = safe_text(v, "state").upper()
    mission = free_text(v, "mission")
    column = "ntee_code" if "ntee_code" in v else "ntee_cd"
    ntee, problem = read_ntee(safe_text(v, column))
    warn(column, problem)
    postcode, problem = read_zip(safe_text(v, "zip"))
    warn("zip", problem)
    warn("revenue", check_revenue(safe_text(v, "revenue")))
    street = next((safe_text(v, c) for c in ADDRESS_COLUMNS if safe_text(v, c)), "")
    if mission:
        description = mission
    else:
        where = ", ".join(x for x in (city, state) if x)
        area = focus_areas(ntee)
        description = (
            f"{name} is a US tax-exempt organisation"
            + (f" in {where}" if where else "")
            + (f" working on {area[0]}" if area else "")
            + "."
        )
    data = {
        "id": f"ein-{ein}",
        "name": shorten(name, 300),
        "sector": "nonprofit",
        "description": shorten(description, 20_000),
        "focus_areas": focus_areas(ntee),
        "offers": infer_offers(mission),
        "city": city or None,
        "region": state or None,
        "country": "US",
        "postcode": postcode,
        "contact": street or None,
        "service_level": service_level(name, mission, state),
        "cause_code": cause_code(ntee),
        "active": not says_defunct(mission),
    }
    return validated(  # type: ignore[no-any-return]
        Organisation, data, {"name": "name", "description": "mission", "postcode": "zip"}
    )
