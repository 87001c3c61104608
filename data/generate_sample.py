"""Generate the invented sample corpus: data/organisations.jsonl and data/needs.jsonl.

Deterministic (fixed seed, fixed reference date, stdlib `random` only), so re-running it gives
byte-identical files:

    python data/generate_sample.py            # writes into data/
    python data/generate_sample.py --out DIR  # writes into DIR
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from sample_archetypes import BUSINESS, GOVERNMENT, Archetype  # noqa: E402
from sample_archetypes_civic import ACADEMIC, COMMUNITY, NONPROFIT  # noqa: E402
from sample_needs import CLOSERS, DAYS, FIXED_FIRST, TEMPLATES  # noqa: E402
from sample_places import CITIES, City, jitter, localise, postcode  # noqa: E402
from sample_text import (  # noqa: E402
    BRANDS,
    CLOSINGS,
    FOUNDERS,
    OPENINGS_COMMON,
    OPENINGS_GOVERNMENT,
    ORIGINS,
    PEOPLE_RANGE,
    PROGRAMME_SENTENCES,
    PROGRAMMES,
    SAINTS,
    SIZE_WORDS,
    SURNAMES,
)

from matcher.capabilities import capabilities_in  # noqa: E402

log = logging.getLogger(__name__)

SEED = 20261101
REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)
N_ORGS = 1260
N_NEEDS = 100
SECTOR_SHARES = {"nonprofit": 0.30, "business": 0.25, "government": 0.15, "community": 0.20,
                 "academic": 0.10}
ARCHETYPES: dict[str, tuple[Archetype, ...]] = {
    "business": BUSINESS, "government": GOVERNMENT, "nonprofit": NONPROFIT,
    "community": COMMUNITY, "academic": ACADEMIC,
}
_BY_KEY = {a.key: a for group in ARCHETYPES.values() for a in group}
RADIUS_KM = {"community": (3, 15), "nonprofit": (8, 40), "government": (15, 80),
             "business": (10, 120), "academic": (20, 150)}
TLD = {"business": "example.com"}
MAILBOX = {"business": ("partnerships", "community", "csr", "hello"),
           "government": ("partnerships", "enquiries", "info"),
           "nonprofit": ("info", "hello", "volunteer", "partnerships"),
           "community": ("hello", "contact", "info"),
           "academic": ("engagement", "partnerships", "research")}


_A_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])(?!(?:[Uu]ni|[Uu]s[eu]|[Ee]u|[Oo]ne)\w)")


def fix_articles(text: str) -> str:
    """'a established firm' -> 'an established firm'."""
    return _A_BEFORE_VOWEL.sub(lambda m: m.group(1) + "n ", text)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.names: set[str] = set()
        self.domains: set[str] = set()

    # ---------------------------------------------------------------- organisations
    def pick_city(self) -> City:
        return self.rng.choices(CITIES, weights=[c.weight for c in CITIES])[0]

    def pick_archetype(self, sector: str, city: City) -> Archetype:
        pool = [a for a in ARCHETYPES[sector] if a.country in (None, city.country)]
        return self.rng.choices(pool, weights=[a.weight for a in pool])[0]

    def context(self, city: City) -> dict[str, Any]:
        rng = self.rng
        brand, brand2 = rng.sample(BRANDS, 2)
        surname, surname2 = rng.sample(SURNAMES, 2)
        return {"city": city.name, "hood": rng.choice(city.hoods), "county": city.county,
                "region": city.region, "area": city.area, "areaname": city.areaname,
                "brand": brand, "brand2": brand2,
                "surname": surname, "surname2": surname2, "surname_saint": rng.choice(SAINTS),
                "n": rng.randint(6, 90)}

    def make_name(self, arch: Archetype, city: City, ctx: dict[str, Any]) -> str:
        name = ""
        for attempt in range(30):
            if attempt:
                ctx.update(self.context(city))
            name = localise(self.rng.choice(arch.names).format(**ctx), city.country)
            if name not in self.names:
                self.names.add(name)
                return name
        name = f"{name} ({ctx['hood']})"
        n = 2
        while name in self.names:
            name = f"{name.rsplit(' #', 1)[0]} #{n}"
            n += 1
        self.names.add(name)
        return name

    def describe(self, arch: Archetype, name: str, city: City, ctx: dict[str, Any], size: str,
                 year: int, focus: list[str], offers: list[str], needs: list[str]) -> str:
        rng = self.rng
        sector = arch.sector
        fill = dict(ctx, name=name, kind=rng.choice(arch.kinds), year=year,
                    sizew=rng.choice(SIZE_WORDS[size]), founders=rng.choice(FOUNDERS[sector]),
                    origin=rng.choice(ORIGINS[sector]), age=max(2, REFERENCE.year - year - 1))
        openings = OPENINGS_GOVERNMENT if sector == "government" else OPENINGS_COMMON
        sentences = [rng.choice(openings).format(**fill)]
        activities = rng.sample(arch.activities, min(2, len(arch.activities)))
        sentences.append(activities[0].format(**fill))
        if rng.random() < 0.75:
            progs, who = PROGRAMMES[focus[0]]
            lo, hi = PEOPLE_RANGE[size]
            people = rng.randint(lo, hi)
            people = people if people < 1000 else round(people, -2)
            sentences.append(rng.choice(PROGRAMME_SENTENCES).format(
                prog=rng.choice(progs), people=f"{people:,}", who=rng.choice(who),
                launch=rng.randint(max(year, 2000), 2025), lastyear=REFERENCE.year - 1))
        elif len(activities) > 1:
            sentences.append(activities[1].format(**fill))
        if len(sentences) < 4 and rng.random() < 0.55:
            sentences.append(rng.choice(CLOSINGS[sector]).format(
                need=rng.choice(needs), offer=rng.choice(offers)))
        return fix_articles(localise(" ".join(sentences), city.country))

    def organisation(self, arch: Archetype, city: City, *, focus_first: str | None = None,
                     must_offer: Sequence[str] = ()) -> dict[str, Any]:
        rng = self.rng
        ctx = self.context(city)
        name = self.make_name(arch, city, ctx)
        size = rng.choice(arch.sizes)
        year = rng.randint(*arch.years)
        focus = rng.sample(arch.causes, rng.randint(1, min(3, len(arch.causes))))
        if focus_first:
            focus = [focus_first] + [f for f in focus if f != focus_first]
        offers = list(must_offer) + [o for o in rng.sample(arch.offers, len(arch.offers))
                                     if o not in must_offer]
        offers = offers[: max(len(must_offer), rng.randint(2, min(5, len(arch.offers))))]
        needs = rng.sample(arch.needs, rng.randint(1, min(4, len(arch.needs))))
        offers = [localise(o, city.country) for o in offers]
        needs = [localise(n, city.country) for n in needs]
        for phrase in offers + needs:
            if not capabilities_in(phrase):
                raise SystemExit(f"phrase maps to no capability: {phrase!r} ({arch.key})")
        lat, lon = jitter(rng, city.lat, city.lon, 15.0)
        domain = self.domain(name, city, arch.sector)
        lo, hi = RADIUS_KM[arch.sector]
        updated = REFERENCE - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        return {
            "id": "", "name": name, "sector": arch.sector,
            "description": self.describe(arch, name, city, ctx, size, year, focus, offers, needs),
            "focus_areas": focus, "offers": offers, "needs": needs,
            "city": city.name, "region": city.region, "country": city.country,
            "postcode": postcode(rng, city), "lat": lat, "lon": lon,
            "service_radius_km": float(rng.randint(lo, hi)) if rng.random() < 0.85 else None,
            "size": size, "website": f"https://www.{domain}",
            "contact": f"{rng.choice(MAILBOX[arch.sector])}@{domain}",
            "updated_at": updated.isoformat(),
        }

    def domain(self, name: str, city: City, sector: str) -> str:
        base = slug(name)
        if slug(city.name) not in base:
            base = f"{base}-{slug(city.name)}"
        base = base[:48].strip("-")
        candidate, n = base, 2
        while candidate in self.domains:
            candidate, n = f"{base}-{n}", n + 1
        self.domains.add(candidate)
        return f"{candidate}.{TLD.get(sector, 'example.org')}"

    def organisations(self, total: int = N_ORGS) -> list[dict[str, Any]]:
        quotas = {s: round(total * share) for s, share in SECTOR_SHARES.items()}
        quotas["nonprofit"] += total - sum(quotas.values())
        orgs: list[dict[str, Any]] = []
        for city in CITIES:  # the known answers: every city has these three
            orgs.append(self.organisation(_BY_KEY["food_bank"], city, focus_first="food insecurity",
                                          must_offer=("emergency food parcels",
                                                      "surplus food redistribution")))
            orgs.append(self.organisation(_BY_KEY["grocery"], city, focus_first="food insecurity",
                                          must_offer=("surplus fresh produce",)))
            key = "workforce_us" if city.country == "US" else "workforce_gb"
            orgs.append(self.organisation(_BY_KEY[key], city, focus_first="workforce"))
        for sector in ("nonprofit", "business", "government"):
            quotas[sector] -= len(CITIES)
        for sector, quota in quotas.items():
            for _ in range(quota):
                city = self.pick_city()
                orgs.append(self.organisation(self.pick_archetype(sector, city), city))
        self.rng.shuffle(orgs)
        for i, org in enumerate(orgs, start=1):
            org["id"] = f"org-{i:05d}"
        return orgs

    # ---------------------------------------------------------------- needs
    def need(self, number: int, template: tuple[str, str, tuple[str, ...], tuple[str, ...]],
             city: City, requesters: list[dict[str, Any]], *, fixed: bool = False
             ) -> dict[str, Any]:
        rng = self.rng
        title, text, caps, sectors = template
        fill = {"hood": rng.choice(city.hoods), "city": city.name, "n": rng.randint(12, 140),
                "day": rng.choice(DAYS)}
        text = text.format(**fill)
        if not fixed and text.count(". ") < 2 and rng.random() < 0.35:
            text = f"{text} {rng.choice(CLOSERS).format(**fill)}"
        lat, lon = jitter(rng, city.lat, city.lon, 6.0)
        rec: dict[str, Any] = {
            "id": f"need-{number:04d}", "title": localise(title.format(**fill), city.country),
            "text": localise(text, city.country), "city": city.name, "region": city.region,
            "country": city.country, "lat": lat, "lon": lon,
        }
        if fixed or rng.random() < 0.85:
            rec["radius_km"] = float(rng.choice((10, 15, 20, 25, 30, 40, 50)))
        if fixed or rng.random() < 0.85:
            rec["required_capabilities"] = list(caps)
        if sectors and (fixed or rng.random() < 0.45):
            rec["wanted_sectors"] = list(sectors)
        local = [o for o in requesters if o["city"] == city.name]
        if local and not fixed and rng.random() < 0.5:
            rec["requester_id"] = rng.choice(local)["id"]
        rec["status"] = "closed" if not fixed and rng.random() < 0.06 else "open"
        created = REFERENCE - timedelta(seconds=rng.randint(0, 365 * 86400))
        rec["created_at"] = created.isoformat()
        return rec

    def needs(self, orgs: list[dict[str, Any]], total: int = N_NEEDS) -> list[dict[str, Any]]:
        requesters = [o for o in orgs if o["sector"] in ("community", "nonprofit")]
        portland = next(c for c in CITIES if c.name == "Portland")
        out = [self.need(1, FIXED_FIRST, portland, requesters, fixed=True)]
        order: list[int] = []
        while len(order) < total - 1:
            order.extend(self.rng.sample(range(len(TEMPLATES)), len(TEMPLATES)))
        for number, t in enumerate(order[: total - 1], start=2):
            out.append(self.need(number, TEMPLATES[t], self.pick_city(), requesters))
        return out


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    lines = [json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False)
             for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def generate(out_dir: Path, seed: int = SEED) -> tuple[int, int]:
    gen = Generator(seed)
    orgs = gen.organisations()
    needs = gen.needs(orgs)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / "organisations.jsonl", orgs)
    write_jsonl(out_dir / "needs.jsonl", needs)
    return len(orgs), len(needs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    n_orgs, n_needs = generate(args.out)
    log.info("wrote %d organisations and %d needs to %s", n_orgs, n_needs, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
