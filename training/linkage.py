"""Record linkage: the same body or organisation arriving from several files becomes one.

Candidates come from blocking keys (EIN, web address, name words for government bodies, exact
normalised name within a state for the rest); each candidate pair is scored with `rapidfuzz`:

  same EIN        the EIN in the id or sources is equal                        -> link
  agency name     government, names equal up to word order and "Department of"
                  ("Veterans Affairs Department" = "Department of Veterans Affairs"),
                  token-sort ratio >= GOV_THRESHOLD (92), and the same parent body (both none,
                  or equal): "Office of Inspector General" of two departments never link
  name + place    token-sort ratio >= NAME_THRESHOLD and the same city and state (or ZIP)
  website         the same address (host and path) and token-set ratio >= 60

Never linked: different sectors, two different EINs, two records of the same source file (a
registry lists each body once; its near-duplicates are distinct bodies or historical names).
The record kept is the one from the most authoritative source (SOURCE_PRIORITY), stored before
new; it keeps every source, and its empty fields are filled from the others.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlparse

from rapidfuzz import fuzz

from matcher.domain import PEOPLE_SOURCES, Organisation
from matcher.names import canonical

GOV_THRESHOLD = 92.0
NAME_THRESHOLD = 95.0
WEBSITE_NAME_FLOOR = 60.0
NEAR_MISS_MARGIN = 12.0
MAX_BLOCK = 300
SOURCE_PRIORITY = ("fedreg", "irs", "companies", "federal-programs", "fpi", "360giving")
_GENERIC_HOSTS = frozenset(
    [
        "facebook.com",
        "sites.google.com",
        "google.com",
        "wixsite.com",
        "linkedin.com",
        "twitter.com",
        "x.com",
        "instagram.com",
        "wordpress.com",
        "blogspot.com",
        "squarespace.com",
        "weebly.com",
    ]
)
_EIN = re.compile(r"\bein-?(\d{9})\b")
FILL_FIELDS = (
    "city",
    "region",
    "country",
    "postcode",
    "lat",
    "lon",
    "service_radius_km",
    "size",
    "service_level",
    "website",
    "contact",
)


def host_path(url: str | None) -> str | None:
    if not url:
        return None
    u = urlparse(url if "://" in url else f"http://{url}")
    host = (u.hostname or "").lower().removeprefix("www.")
    if not host or host in _GENERIC_HOSTS:
        return None
    path = re.sub(r"/(index|default)\.\w+$", "", u.path.rstrip("/")).lower()
    return host + path


@dataclass(frozen=True)
class Features:
    index: int
    id: str
    sector: str
    name: str  # canonical core name
    parent: str | None  # canonical parent body (government)
    ein: str | None
    url: str | None
    city: str
    region: str
    postcode: str
    source_kinds: frozenset[str]
    stored: bool
    sources: frozenset[str] = frozenset()  # full provenance entries ("fpi:agency-...")


def parent_and_core(org: Organisation) -> tuple[str, str | None]:
    """(core name, parent) of a government body: "Forest Service (Department of Agriculture)"
    from the programme inventory, "Inspector General Office, Agriculture Department" or a
    "part of ..." focus area from the Federal Register."""
    name, parent = org.name, None
    m = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", name)
    if m and org.id.startswith("agency-") and "--" in org.id:
        name, parent = m.group(1), m.group(2)
    m = re.fullmatch(r"(.+?),\s*(.+(?:Department|Executive Office of the President))", name)
    if m:
        name, parent = m.group(1), m.group(2)
    for area in org.focus_areas:
        if area.lower().startswith("part of "):
            parent = parent or area[8:]
    name = re.sub(r"\s*\([A-Z][A-Za-z&\-]{1,10}\)\s*$", "", name)
    if parent and canonical(parent) == canonical(name):  # "Department of State (Department of
        parent = None  # State)": the programme inventory's top agency as its own sub-agency
    return name, parent


def features(index: int, org: Organisation, *, stored: bool) -> Features:
    ein = None
    # provenance only: "registered" or "edited" say who keeps it, not where it came from
    sources = [s for s in org.sources if s not in PEOPLE_SOURCES]
    for text in (org.id, *sources):
        m = _EIN.search(text.lower())
        if m:
            ein = m.group(1)
            break
    if org.sector == "government":
        core, parent = parent_and_core(org)
        name, parent_key = canonical(core), canonical(parent) if parent else None
    else:
        name, parent_key = canonical(org.name, legal=True), None
    kinds = frozenset(s.split(":", 1)[0] for s in sources) or frozenset({org.id})
    return Features(
        index=index,
        id=org.id,
        sector=org.sector,
        name=name,
        parent=parent_key or None,
        ein=ein,
        url=host_path(org.website),
        city=(org.city or "").strip().lower(),
        region=(org.region or "").strip().lower(),
        postcode=(org.postcode or "")[:5],
        source_kinds=kinds,
        stored=stored,
        sources=frozenset(sources),
    )


@dataclass(frozen=True)
class Pair:
    a: int
    b: int
    score: float
    rule: str
    linked: bool


def blocking_keys(f: Features) -> set[str]:
    keys = {f"src:{s}" for s in f.sources}
    if f.ein:
        keys.add(f"ein:{f.ein}")
    if f.url:
        keys.add(f"url:{f.url}")
    if f.sector == "government":
        keys.update(f"gov:{w}" for w in f.name.split())
    elif f.name:
        keys.add(f"name:{f.name}|{f.region}")
        first = f.name.split()
        keys.add(f"near:{first[0]}|{len(first)}|{f.city}|{f.region}")
    return keys


def score_pair(a: Features, b: Features, shared_names: frozenset[str] = frozenset()) -> Pair:
    """`shared_names`: government names seen under two or more parents ("inspector general
    office"): those link only with the same parent; others also when one parent is unknown."""

    def pair(score: float, rule: str, linked: bool) -> Pair:
        return Pair(a.index, b.index, round(score, 1), rule, linked)

    if a.sector != b.sector:
        return pair(0, "different sectors", False)
    if a.sources & b.sources:  # one came from the other's merge: an import run again
        return pair(100, "merged before", True)
    if a.ein and b.ein:
        return pair(100, "same EIN", True) if a.ein == b.ein else pair(0, "two EINs", False)
    if a.source_kinds & b.source_kinds:
        return pair(0, "same source", False)
    if a.sector == "government":
        s = fuzz.token_sort_ratio(a.name, b.name)
        one_unknown = (a.parent is None) != (b.parent is None)
        if a.parent != b.parent and not (one_unknown and a.name not in shared_names):
            return pair(s, "agency name, different parent", False)
        return pair(s, "agency name", s >= GOV_THRESHOLD)
    s = fuzz.token_sort_ratio(a.name, b.name)
    if a.url and a.url == b.url:
        t = fuzz.token_set_ratio(a.name, b.name)
        return pair(t, "website", t >= WEBSITE_NAME_FLOOR)
    same_place = (a.city and a.city == b.city and a.region == b.region) or (
        len(a.postcode) == 5 and a.postcode == b.postcode
    )
    if not same_place:
        return pair(s, "name, different place", False)
    return pair(s, "name + place", s >= NAME_THRESHOLD)


def candidate_pairs(feats: Sequence[Features], *, only_new: bool) -> set[tuple[int, int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for f in feats:
        for key in blocking_keys(f):
            blocks[key].append(f.index)
    out: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for i, x in enumerate(members):
            for y in members[i + 1 :]:
                if only_new and feats[x].stored and feats[y].stored:
                    continue
                out.add((min(x, y), max(x, y)))
    return out


@dataclass
class Cluster:
    kept: Organisation
    merged: list[Organisation]  # the others, folded into `kept`
    pairs: list[Pair]


@dataclass
class LinkResult:
    clusters: list[Cluster] = field(default_factory=list)
    near_misses: list[tuple[Organisation, Organisation, Pair]] = field(default_factory=list)

    @property
    def retired(self) -> dict[str, str]:
        """Merged-away id -> id of the record kept."""
        return {o.id: c.kept.id for c in self.clusters for o in c.merged}

    def lines(self, max_near: int = 20) -> list[str]:
        out = [f"{len(self.clusters)} merges ({len(self.retired)} records folded into others)"]
        for c in self.clusters:
            rules = ", ".join(sorted({f"{p.rule} {p.score:g}" for p in c.pairs}))
            others = "; ".join(f"{o.id} '{o.name}'" for o in c.merged)
            out.append(f"  {c.kept.id} '{c.kept.name}' <- {others} [{rules}]")
        if self.near_misses:
            out.append(f"{len(self.near_misses)} near misses (not merged):")
            for a, b, p in self.near_misses[:max_near]:
                out.append(f"  {a.id} '{a.name}' ~ {b.id} '{b.name}' [{p.rule} {p.score:g}]")
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "merges": [
                {
                    "kept": c.kept.id,
                    "merged": [o.id for o in c.merged],
                    "names": [c.kept.name, *(o.name for o in c.merged)],
                    "rules": [{"rule": p.rule, "score": p.score} for p in c.pairs],
                    "sources": c.kept.sources,
                }
                for c in self.clusters
            ],
            "near_misses": [
                {"a": a.id, "b": b.id, "rule": p.rule, "score": p.score}
                for a, b, p in self.near_misses
            ],
        }


def priority(org: Organisation) -> int:
    kinds = [s.split(":", 1)[0] for s in org.sources]
    ranks = [SOURCE_PRIORITY.index(k) for k in kinds if k in SOURCE_PRIORITY]
    return min(ranks, default=len(SOURCE_PRIORITY))


def merge(members: Sequence[Organisation]) -> tuple[Organisation, list[Organisation]]:
    """Fold records of one body into the most authoritative one (the first on a tie)."""
    order = sorted(range(len(members)), key=lambda i: (priority(members[i]), i))
    kept, others = members[order[0]], [members[i] for i in order[1:]]
    data = kept.model_dump()
    for other in others:
        o = other.model_dump()
        for name in FILL_FIELDS:
            if data.get(name) is None and o.get(name) is not None:
                data[name] = o[name]
        for name in ("focus_areas", "offers", "needs"):
            data[name] = list(dict.fromkeys([*data[name], *o[name]]))
        if data["description"].strip() == data["name"].strip():
            data["description"] = o["description"]
        data["sources"] = list(dict.fromkeys([*data["sources"], *o["sources"]]))
    return Organisation.model_validate(data), others


def link(orgs: Sequence[Organisation], *, stored: int = 0, only_new: bool = True) -> LinkResult:
    """Link records; the first `stored` are already in the store (kept ahead of new ones on a
    tie). With `only_new`, pairs of two stored records are not examined (ingest)."""
    feats = [features(i, o, stored=i < stored) for i, o in enumerate(orgs)]
    parent = list(range(len(orgs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    parents: dict[str, set[str]] = defaultdict(set)
    for f in feats:
        if f.sector == "government" and f.parent:
            parents[f.name].add(f.parent)
    shared = frozenset(n for n, ps in parents.items() if len(ps) > 1)
    result = LinkResult()
    linked: list[Pair] = []
    for a, b in sorted(candidate_pairs(feats, only_new=only_new)):
        p = score_pair(feats[a], feats[b], shared)
        if p.linked:
            linked.append(p)
            parent[find(a)] = find(b)
        elif p.score >= _floor(p.rule) - NEAR_MISS_MARGIN and p.rule not in _NOT_NEAR:
            result.near_misses.append((orgs[a], orgs[b], p))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(orgs)):
        groups[find(i)].append(i)
    pairs_of: dict[int, list[Pair]] = defaultdict(list)
    for p in linked:
        pairs_of[find(p.a)].append(p)
    for root, members in groups.items():
        if len(members) > 1:
            kept, merged = merge([orgs[i] for i in sorted(members)])
            result.clusters.append(Cluster(kept, merged, pairs_of[root]))
    result.near_misses.sort(key=lambda t: -t[2].score)
    return result


_NOT_NEAR = frozenset({"different sectors", "two EINs", "same source"})


def _floor(rule: str) -> float:
    if rule.startswith("agency"):
        return GOV_THRESHOLD
    if rule == "website":
        return WEBSITE_NAME_FLOOR
    return NAME_THRESHOLD


def remap(ids: Iterable[str], retired: dict[str, str]) -> list[str]:
    return [retired.get(i, i) for i in ids]
