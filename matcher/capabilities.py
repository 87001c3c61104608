"""The capability vocabulary: what partners offer and what needs require.

Free text ("cold-chain delivery vans", "pro bono legal advice") is mapped to canonical capability
keys with keyword stems, so coverage and reciprocity are explainable: each mapping keeps the phrase
that triggered it.

A stem matches as the start of a word ("transport" in "transportation"); a short word that starts
unrelated words is listed as a whole word instead ("van" but not "vanilla" or "vanguard", "bus"
but not "business"), which also matches with a plural or possessive "s"; phrases that start like
a stem or word but mean something else are listed apart ("drivers of poverty" is no driver).
A word of giving ("donation", "donated", "donor") names a capability only when what is given is
not named as something else: "food donations", "donated laptops", "in-kind donations of
furniture" give goods (food, technology, clothing and household goods), not
funding; "donations", "monetary donations", "donations to our fund" give money.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from matcher import gifts
from matcher.group_gives import given_by_group
from matcher.places.words import HELD_COMMA, hold_place_commas
from matcher.telling import asker_words, place_words, telling_clauses


@dataclass(frozen=True)
class Capability:
    key: str
    label: str
    stems: tuple[str, ...]
    # what it means, in plain words: needs and profiles are matched to it by meaning
    description: str
    # whole words: matched only when no letter follows (after an optional "s", "'s" or "s'")
    words: tuple[str, ...] = ()
    # phrases (whole words) that start with a stem or word but do not mean the capability
    not_phrases: tuple[str, ...] = ()
    # further senses, each in plain words: a text close to any description is about it
    senses: tuple[str, ...] = ()
    # stems of giving: they name the capability only when the gift is not of goods
    # (matcher.gifts): "donations" and "monetary donations" are funding, "food donations" not
    gifts: tuple[str, ...] = ()
    # whole words that name the capability whatever the text's meaning ("low-interest loans"
    # is funding though its clause is far from funding's description by meaning); they are
    # also `words`
    sure: tuple[str, ...] = ()
    # as `sure`, in a need's asks only: "funding" in a need asks money, while a mission that
    # "seeks funding" offers none
    sure_in_asks: tuple[str, ...] = ()
    # words that, just before a `sure` word, make it mean something else ("on loan")
    not_after: tuple[str, ...] = ()
    # words that, just before any of its stems or words, make it mean something else ("child
    # care" is no health care, "housing counseling" no counselling for health)
    not_preceded_by: tuple[str, ...] = ()
    # (stem, other capability): an ask read from a phrase with this stem is the other's when
    # the need asks the other too ("trained caregivers" in a need for child care are child
    # care workers, not health care)
    yields_to: tuple[tuple[str, str], ...] = ()
    # stems of phrases whose meaning comes near the capability without asking or offering it
    # ("a warming center" is a room to warm up in, not heating): a text that names one of them
    # and none of the capability's own stems or words is not read as it by meaning either
    mistaken_for: tuple[str, ...] = ()
    # (word, stem): the stem right after the word means something else ("hazardous materials"
    # are no materials to give, "gas storage" no space to use)
    stem_not_after: tuple[tuple[str, str], ...] = ()


# things for care, not care: equipment asked ("Our free clinic needs medical supplies" asked
# health services alone, or clothing and household goods by meaning)
_MEDICAL_THINGS = ("medical supplies", "medical supply", "medical equipment", "medical device")
# buying from diverse suppliers moves and gives nothing: Intel's focus "supplier diversity:
# buying from minority-owned and women-owned small businesses" made every card say "Does not
# cover: distribution and logistics" (real data walk), and read clothing and household goods
_DIVERSE_SUPPLIERS = ("supplier diversity", "diverse supplier", "minority-owned", "women-owned")
# things a need asks for that are equipment or materials, though no stem names them: "need
# water tanks, seeds and advice" after a drought asked only advice, "air purifiers" in a heat
# wave read as energy (real data walks); in asks only, where the group wants the thing
_THINGS_ASKED = (
    *("water tank", "water filter", "air purifier", "air filter", "generator", "seeds"),
    # "Seniors need fans during heat waves" asked nothing (real data walk); not sports fans
    *("fan", "box fan", "air conditioner", "ac unit", "a/c unit", "window unit"),
    # "We need wheelchairs" read transport for people; "first aid kits" asked nothing
    *("wheelchair", "mobility aid", "first aid kit", "first-aid kit"),
    # "Older residents need smoke detectors installed" asked nothing (helper walk, 2026-12-06)
    *("smoke detector", "smoke alarm", "carbon monoxide detector", "co detector"),
    *_MEDICAL_THINGS,
)
# water to drink is provisions ("our seniors in Phoenix need bottled water" asked nothing: real
# data walk); named in a need, asked however far by meaning
_WATER_TO_DRINK = ("bottled water", "drinking water", "water bottle")
# a field to play on is space ("a youth soccer league ... need coaches, equipment and a field to
# play on" asked nothing)
_FIELDS_TO_PLAY = ("playing field", "sports field", "ball field", "soccer field", "field to play")
# places to cool off or warm up: space to use ("air purifiers and a cooling center" for seniors
# in a heat wave asked no space; "a heating center" and "a cooling site" asked nothing: real
# data walks)
_PLACES_TO_COOL_OR_WARM = (
    *("cooling cent", "warming cent", "heating cent"),
    *("cooling site", "cooling station", "cooling room", "warming site", "warming station"),
)

CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        "funding",
        "funding",
        (
            "fund",
            "grant",
            "financ",
            "sponsor",
            "capital",
            "invest",
            "money",
            "philanthrop",
            "endow",
            "microloan",
            "microfinanc",
            "microcredit",
            "microgrant",
        ),
        "money for the work: grants, donations, sponsorship, investment",
        words=("credit", "lender", "lending"),
        not_phrases=(
            "credit hour",
            "credit recovery",
            "credit for",
            "lending library",
            "lending a hand",
            "lending hand",
            # money taught, not money given: "we want financial literacy programs" asked
            # funding, and grant-makers covered it (real data walk, 2026-12-06)
            *("financial literacy", "financial education", "financial coaching"),
            *("financial counseling", "financial counselling", "financial counselor"),
            *("financial capability", "financial skills"),
            *("financial wellness", "financial planning", "financial empowerment"),
        ),
        gifts=("donat", "donor"),
        sure=("loan", "microloan", "microcredit", "microfinance", "line of credit", "credit union"),
        # "funding to extend water lines or install cisterns" was closer to water than to
        # funding's description by meaning, and the Gallup need of T4 asked nothing at all
        # "We need a grant for a tenant union" asked nothing: a grant asked is money
        # (`_NOT_SURE_IN_ASKS`: not grant writing)
        # "Older residents need help paying heating bills" asked health services, no money
        # "emergency rent funds" asked housing and no money (a real-data walk, 2026-12-04);
        # "emergency rent money" too, and apartment companies "covered" it (helper's walk,
        # 2026-12-06), as "help with the first month's rent" and "deposits" asked no money
        sure_in_asks=(
            "funding",
            "fund",
            "grant",
            "help paying",
            "help to pay",
            "help pay",
            "rent assistance",
            "rental assistance",
            "rent relief",
            "rent money",
            "help with rent",
            "help with the rent",
            "month's rent",
            "months' rent",
            "back rent",
            "security deposit",
        ),
        not_after=("on", "library"),
    ),
    Capability(
        "volunteers",
        "volunteers",
        ("volunteer", "helpers", "mentor"),
        "volunteers, mentors and helpers who give their time",
    ),
    Capability(
        "expertise",
        "expertise and advice",
        ("expert", "advice", "advis", "consult", "pro bono", "technical assistance", "know-how"),
        "expertise and advice: consultants, pro bono specialists, technical help",
    ),
    Capability(
        "facilities",
        "facilities and space",
        (
            "facilit",
            "space",
            "venue",
            "premises",
            "building",
            "kitchen",
            "warehouse",
            "storage",
            "room",
            *_PLACES_TO_COOL_OR_WARM,
            *_FIELDS_TO_PLAY,
            *("ballfield", "athletic field", "gymnasium"),
        ),
        "space and buildings to use: venues, kitchens, warehouses, rooms, land, storage",
        # land as a whole word: "USGS Cooperative Landslide Hazard Mapping" made the Geological
        # Survey offer space, and it joined a cooling center's coalition (real data walk)
        words=("land",),
        # a building built, space in the sky or a park, and stored gas or energy are no space
        # to use: "National Geospatial Program: Building The National Map", "PHMSA Pipeline
        # Safety Underground Natural Gas Storage Grant", Trane's "environment and green spaces"
        not_phrases=(
            *("building the", "building a", "building an", "building our", "building their"),
            *("building capacity", "building skills", "building resilience", "building trust"),
            *("building community", "building communities", "building relationships"),
            *("building bridges", "building blocks", "building strong", "building healthy"),
            *("building material", "land remote", "land cover", "land surface", "land use"),
        ),
        stem_not_after=(
            *(("capacity", "building"), ("community", "building"), ("team", "building")),
            *(("nation", "building"), ("coalition", "building"), ("relationship", "building")),
            *(("green", "space"), ("outer", "space"), ("air", "space"), ("open", "space")),
            *(("gas", "storage"), ("energy", "storage"), ("carbon", "storage")),
            *(("battery", "storage"), ("data", "storage")),
        ),
        # named, asked however far by meaning: "a warming center for winter nights" read
        # energy by meaning alone
        sure_in_asks=(
            *("cooling center", "cooling centre", "warming center", "warming centre"),
            *("heating center", "heating centre", "cooling site", "cooling station"),
            *_FIELDS_TO_PLAY,
            # "Our homeless shelter needs beds and showers" asked nothing (real data walk)
            *("shower", "laundry"),
        ),
        not_after=("baby", "bridal", "rain", "meteor", "snow"),
    ),
    Capability(
        "data",
        "data and research",
        ("data", "research", "evaluat", "analytic", "survey", "mapping", "monitor", "evidence"),
        "data, research, evaluation and monitoring of results",
    ),
    Capability(
        "distribution",
        "distribution and logistics",
        (
            "distribut",
            "deliver",
            "logistic",
            "transport",
            "supply chain",
            "fleet",
            "cold chain",
            "cold-chain",
            "shuttl",
            "minibus",
            "minivan",
            "vanpool",
            "carpool",
            "rideshar",
            "paratransit",
        ),
        "delivery, transport and logistics: moving goods or people, supply chains",
        words=("van", "bus", "buses", "busses", "ride", "driver", "transit", "taxi", "truck"),
        not_phrases=(
            "driver of",
            "drivers of",
            "driver's license",
            "driver's licence",
            "drivers license",
            "drivers licence",
            "drivers' license",
            "drivers' licence",
            "driver license",
            "driver licence",
            "van buren",
            "van zandt",
            "van wert",
            "van ness",
            "van nuys",
        ),
        senses=("transport for people: rides, drivers, vans and buses",),
        # launches to orbit move no one in town: the Commercial Space Transportation Office was
        # named for "rides to medical appointments" (real data walk)
        stem_not_after=(("space", "transport"), ("aerospace", "transport")),
        # a wheelchair is equipment, not a ride ("We need wheelchairs" read as transport); a
        # cruise line's "travel services" are holidays (Carnival joined a coalition for "rides
        # to medical appointments", real data walk)
        mistaken_for=(
            *("wheelchair", "mobility aid", "travel services", "leisure travel"),
            *_DIVERSE_SUPPLIERS,
        ),
    ),
    Capability(
        "regulatory",
        "regulatory support and permits",
        ("regulat", "permit", "licens", "zoning", "complian", "policy", "planning approval"),
        "permits, licences, zoning, regulation and public policy",
    ),
    Capability(
        "community_reach",
        "community reach and trust",
        (
            "outreach",
            "community reach",
            "community trust",
            "network",
            "awareness",
            "engagement",
            "grassroots",
            "local trust",
            "hard-to-reach",
        ),
        "outreach into the community: trusted local networks, engagement",
    ),
    Capability(
        "jobs",
        "jobs and work placements",
        (
            "job",
            "hiring",
            "employment",
            "employer",
            "unemploy",
            "employab",
            "apprentic",
            "internship",
            "placement",
            "recruit",
            "career",
        ),
        "jobs, hiring, apprenticeships, internships and work placements",
    ),
    Capability(
        "training",
        "training and education",
        (
            "training",
            "skill",
            "educat",
            "workshop",
            "course",
            "curricul",
            "coaching",
            "tutor",
            "literacy",
        ),
        "education, skills training, tutoring, literacy and coaching",
        # asked however far the clause is by meaning: "simple classes on telehealth" (T4) and
        # "We have a room but no laptops and no teacher" asked no teaching
        sure_in_asks=(
            *("classes", "lessons", "teacher", "teachers", "tutor", "tutors"),
            *("workshop", "workshops", "courses"),
        ),
    ),
    Capability(
        "technology",
        "technology and digital",
        (
            "technolog",
            "software",
            "digital",
            "broadband",
            "connectivity",
            "laptop",
            "device",
            "platform",
        ),
        "technology and digital access: software, devices, broadband internet",
        # a laptop or a hotspot is technology whatever the clause's meaning ("need laptops"
        # alone was too short to confirm by meaning)
        sure=("laptop", "computer", "hotspot", "chromebook"),
    ),
    Capability(
        "healthcare",
        "health services",
        (
            "health",
            # "need telehealth visits with doctors" asked nothing (real data walk, Miles City)
            "telehealth",
            "telemedic",
            *("caregiv", "bathing", "in-home"),
            "doctor",
            "physician",
            "dentist",
            "dental",
            "clinic",
            "medical",
            "nurse",
            "screening",
            "care ",
            "therap",
            "counsel",
            "vaccin",
            # recovery from addiction: "We need recovery coaches, naloxone and housing" asked
            # housing only (helper-75's walk, 2026-12-06, Norwich)
            *("naloxone", "narcan", "recovery coach", "peer recovery", "addiction treatment"),
        ),
        "health care: clinics, doctors, nurses, medical treatment, counselling",
        senses=("home care and caregivers for older or disabled people",),
        # named, asked however far the clause is by meaning: "We want a mobile health van with
        # Spanish and Mixteco interpreters" and "Our rural clinic cannot recruit nurses" asked
        # no health care (real data walks, 2026-12-06)
        sure_in_asks=(
            *("mobile health", "mobile clinic", "mobile medical", "health van", "medical van"),
            *("nurse", "nurses", "nursing staff", "health clinic", "free clinic"),
            *("naloxone", "narcan", "recovery coach", "peer recovery"),
        ),
        # personal care products are toiletries (goods), not care
        not_phrases=(
            *("care product", "care item", "care supplies", "care kit", "care package"),
            *_MEDICAL_THINGS,  # things for care, not care
        ),
        # HUD's "Housing Counseling" and "Continuum of Care" programmes made it offer health
        # services; a need for child care asked them (child, infant, day and after-school care
        # are child care)
        yields_to=(("caregiv", "child_care"),),
        # who is helped, not care: "Older residents need help paying heating bills" asked
        # health services by the home care sense (real data walk); care named ("home care",
        # "caregivers") still asks it
        # a home repaired is no care at home: "I want to find a home repair volunteer program"
        # asked health services by the home care sense (real data walk, 2026-12-06)
        mistaken_for=(
            *("older resident", "older adult", "older people", "elderly", "senior"),
            *("home repair", "house repair", "roof repair", "home modification"),
        ),
        not_preceded_by=(
            "child",
            "childcare",
            "infant",
            "toddler",
            "day",
            "after-school",
            "afterschool",
            "after school",
            "foster",
            "continuum of",
            "housing",
            "credit",
            "debt",
            "financial",
            "budget",
            "tax",
            # a legal clinic, legal counsel: legal aid, not health care (a tenants' union's
            # "know-your-rights clinics" covered health screenings for seniors, real data walk)
            *("legal", "legal aid", "law", "rights", "know-your-rights", "know your rights"),
            *("expungement", "eviction", "immigration", "citizenship", "tenant", "tenants"),
        ),
    ),
    Capability(
        "food_supply",
        "food supply",
        (
            *("food", "produce", "meal", "grocer", "surplus", "nutrition", "fresh fruit"),
            *_WATER_TO_DRINK,
        ),
        "food: groceries, meals, fresh produce, food donations and nutrition",
        sure_in_asks=_WATER_TO_DRINK,
        # whole words: a food bank whose mission is "TO FEED THE HUNGRY IN THE COMMUNITY"
        # (Richland County, MT) offered no food; never "Hungerford" nor "feedback"
        words=("hunger", "hungry", "feed", "feeding"),
        # food stamps are a benefit to reach, not food: every food pantry "covered" "food
        # stamps sign-up" with its food (real data walk); a food truck is a business to start:
        # Bunge "covered food supply (asked: 'small business financing to start food trucks')"
        not_phrases=("food stamp", "food truck", "food cart"),
    ),
    Capability(
        "housing",
        "housing and shelter",
        (
            *("housing", "shelter", "homes", "accommodat", "tenanc", "rent"),
            *("place to stay", "places to stay", "somewhere to stay", "place to live"),
            # repairing homes keeps people housed: "a home repair volunteer program" asked
            # none (real data walk, 2026-12-06), and Habitat's repair programme offered none
            *("home repair", "home-repair", "house repair", "roof repair", "home modification"),
        ),
        "housing and shelter: homes, apartments, beds, rent and tenancy",
        # beds asked are a place to sleep; not flower or hospital beds; repairs asked keep a
        # home ("volunteers for home repairs" was near volunteering alone by meaning)
        # "Survivors need a safe place to stay" asked none (helper-75's walk, Laramie)
        sure_in_asks=(
            *("bed", "home repair", "house repair", "roof repair", "home modification"),
            *("place to stay", "places to stay", "somewhere to stay", "place to live"),
        ),
        # "emergency rent money" asks money for the rent, not a home: apartment companies
        # "covered housing" for it (helper's walk, 2026-12-06)
        yields_to=(("rent money", "funding"), ("rent funds", "funding")),
        not_after=("flower", "garden", "raised", "hospital", "river", "truck", "sea", "lake"),
        # renting out equipment or cars is no housing (United Rentals' industry, "Rental &
        # Leasing Services", made it cover a shelter's beds on the real T4 catalog)
        not_phrases=(
            "rental & leasing",
            "rental and leasing",
            "rental car",
            "rental vehicle",
            "rental equipment",
            "rental fleet",
            "rent-a-car",
        ),
    ),
    Capability(
        "legal_aid",
        "legal aid",
        # a court advocate walks a survivor or a tenant through court (T4's Dover need asked
        # "court advocates" and read no legal help)
        (
            *("legal", "lawyer", "attorney", "rights", "immigration advice", "court advoca"),
            # the legal work itself, not who it is for ("asylum seekers")
            *("asylum case", "asylum claim", "asylum application", "asylum hearing"),
            *("deportation", "naturaliz", "expunge"),
        ),
        "legal help: lawyers, legal representation, rights and immigration advice",
        # immigrants are who is helped, not legal help: "Immigrant families in Providence need
        # English classes" asked legal aid by meaning (real data walk)
        mistaken_for=("immigrant", "refugee", "asylum seeker"),
    ),
    Capability(
        "public_programmes",
        "public programmes and benefits",
        ("programme", "program", "public service", "benefit", "subsid"),
        "public programmes and benefits: government assistance, subsidies",
        # "help enrolling people in SNAP" asked nothing (real data walk, Albuquerque): a
        # benefit named in an ask is help to reach it; in asks only, so "Snap Inc." offers none
        sure_in_asks=(
            "snap",
            "food stamp",
            "ebt",
            "wic",
            "medicaid",
            "medicare",
            "tanf",
            "liheap",
        ),
        not_after=("cold",),  # "a cold snap"
        # "funding for stipends" read as public programmes by meaning beside funding, and every
        # agency "covered" it with its "public programme funding" (real data walk, Portland);
        # never a named benefit ("funding for SNAP outreach": `without_yielded`)
        yields_to=(("fund", "funding"), ("grant", "funding"), ("stipend", "funding")),
    ),
    Capability(
        "communications",
        "communications and media",
        ("media", "communicat", "campaign", "marketing", "promot", "publicity"),
        "communications, media, campaigns and marketing",
    ),
    Capability(
        "equipment",
        "equipment and materials",
        (
            "equipment",
            "tools",
            "material",
            "supplies",
            "hardware",
            "machinery",
        ),
        "equipment, tools, materials and supplies",
        sure=("forklift", "pallet jack"),
        # "our freezer broke and we need a new one" asked nothing (real data walk, Billings);
        # in asks only: a food bank's walk-in freezer is not equipment it offers
        sure_in_asks=("freezer", "fridge", "refrigerator", "refrigeration", *_THINGS_ASKED),
        not_after=("sports", "music", "football", "basketball", "baseball", "soccer", "hockey"),
        # the Pipeline and Hazardous Materials Safety Administration offered equipment by its
        # "Hazardous Materials" grants, and joined coalitions for air filters and a generator
        stem_not_after=(
            *(("hazardous", "material"), ("radioactive", "material"), ("nuclear", "material")),
            # the sector labels of a company list are no offer: "Basic Materials", and Super
            # Micro's "computer hardware" covered a cooling center's fans (real data walk)
            *(("basic", "material"), ("computer", "hardware")),
        ),
        # UPS and Expeditors covered water tanks with their sector, "Industrials"
        mistaken_for=("industrials",),
        # "We need hygiene supplies for the shelter" asked equipment beside clothing and
        # household goods, whose stems name hygiene and baby supplies
        not_preceded_by=("hygiene", "baby"),
    ),
    Capability(
        "goods",
        # no comma: cards list labels with commas ("Does not cover: clothing and household
        # goods, funding.")
        "clothing and household goods",
        (
            "clothing",
            "clothes",
            "apparel",
            "garment",
            "footwear",
            "furniture",
            "mattress",
            "diaper",
            "nappies",
            "toiletr",
            "hygiene product",
            "hygiene kit",
            "hygiene item",
            "hygiene supplies",
            "household goods",
            "household items",
            "household essentials",
            "baby items",
            "baby supplies",
            "school uniform",
        ),
        # not "donated goods": a donation of anything (groceries) would be near it by meaning
        "clothing, coats and shoes, furniture, bedding, household items, diapers and hygiene "
        "products",
        words=("coat", "shoe", "blanket", "bedding", "sock", "jacket"),
        not_phrases=("bedding plant", "shoe string", "shoestring"),
        # no "personal care products" sense: home care for older people read as goods by it
        senses=("clothing, shoes and apparel",),
        # "help with groceries" read as goods beside food supply (groceries are near household
        # goods by meaning): food words ask food when the need asks food
        yields_to=(
            *(("grocer", "food_supply"), ("food", "food_supply"), ("meal", "food_supply")),
            # "need coaches, equipment and a field" read goods from "equipment" by meaning
            ("equipment", "equipment"),
        ),
        # "medical supplies" read as goods by meaning (its description names hygiene products),
        # so Dollar General was named for a free clinic's supplies (real data walk)
        mistaken_for=(*_MEDICAL_THINGS, "medical suppl", "first aid", *_DIVERSE_SUPPLIERS),
    ),
    Capability(
        "energy",
        "energy and climate infrastructure",
        (
            *("energy", "solar", "retrofit", "insulat", "heat pump", "weatheriz", "emission"),
            # "families need help ... replacing furnaces" after a flood asked no energy; not
            # "heating" alone: "pre-apprenticeships in ... heating and cooling trades"
            *("furnace", "boiler", "heating assistance", "heating bill", "heating repair"),
            *("heating system", "heating cost", "home heating", "heating oil", "heating fuel"),
        ),
        "energy efficiency: insulation, heating, solar power, weatherisation",
        # "Our warming center needs blankets" asked energy by meaning, and Carrier joined a
        # shelter's coalition (real data walk)
        mistaken_for=_PLACES_TO_COOL_OR_WARM,
    ),
    Capability(
        "disaster",
        "disaster preparedness and recovery",
        (
            "flood",
            "resilien",
            "disaster",
            "wildfire",
            "emergency plan",
            "emergency prep",
            "preparedness",
            "early warning",
            "evacuat",
            "storm",
            "rebuild",
            "tornado",
            "hurricane",
            "earthquake",
            "debris removal",
        ),
        "disaster preparedness and recovery: flood and fire resilience, rebuilding",
        words=("fema",),
        senses=("recovery after a tornado, hurricane or earthquake: debris removal, aid claims",),
    ),
    Capability(
        "language",
        "language and translation",
        (
            *("translat", "interpret", "language", "multilingual"),
            # "Immigrant families in Providence need English classes" asked legal aid alone
            *("english class", "english lesson", "english as a second", "english course"),
        ),
        "translation, interpreting and language classes",
        words=("esl",),
        # "... with Spanish and Mixteco interpreters to reach farmworker families" asked no
        # language help: its clause was nearer transport by meaning (real data walk)
        sure_in_asks=(
            *("interpreter", "interpreters", "translator", "translators"),
            *("interpreting services", "translation services", "interpretation services"),
        ),
    ),
    Capability(
        "environment",
        "environment and green spaces",
        (
            "environment",
            "conservation",
            "green space",
            "green infrastructure",
            "tree plant",
            "trees",
            "urban forest",
            "watershed",
            "wetland",
            "riverbank",
            "habitat",
            "erosion",
            "stormwater",
            "rain garden",
            "recycl",
            "compost",
            "litter",
            "pollut",
            "air quality",
            "water quality",
            # "Families in Gallup haul water and need their wells tested for uranium" asked
            # nothing (real data walk)
            *("contaminat", "uranium", "well water", "water testing", "wells tested"),
        ),
        "the environment: conservation, trees and green spaces, watersheds, recycling, "
        "clean air and water",
        sure_in_asks=("uranium", "wells tested", "water testing", "contaminated water"),
    ),
    Capability(
        "child_care",
        "child care and early learning",
        (
            "child care",
            "childcare",
            "child-care",
            "day care",
            "daycare",
            "day-care",
            "preschool",
            "pre-school",
            "pre-kindergarten",
            "early childhood",
            "early learning",
            "early education",
            "infant care",
            "infant and toddler",
            "toddler care",
            "after-school care",
            "afterschool care",
            "after school care",
            "babysit",
            "nanny",
            "nannies",
        ),
        "child care and early learning: daycare, preschool, infant and toddler care, "
        "after-school care",
        words=("pre-k",),
        # "childcare-friendly training venues" (a workforce board's need) asks for venues
        not_phrases=("childcare-friendly", "child care-friendly", "child-care-friendly"),
        # adult day care is care for older or disabled adults, not for children
        not_preceded_by=("adult",),
    ),
)
CAPABILITY_KEYS: tuple[str, ...] = tuple(c.key for c in CAPABILITIES)
_BY_KEY = {c.key: c for c in CAPABILITIES}
_PLURAL_END = r"(?:'?s|s')?(?![a-z])"


def _phrase(text: str) -> str:
    """A phrase's words, any white space between them."""
    return r"\s+".join(re.escape(w) for w in text.split())


def _pattern(cap: Capability, *, exceptions: bool = True) -> re.Pattern[str]:
    """Any stem (or gift stem) of `cap` at a word start, or any of its words as a whole word;
    never where one of its `not_phrases` starts, nor right after one of its `not_preceded_by`
    words (`exceptions=False`: anywhere, for `ruled_out`)."""
    alternatives = [
        (_not_right_after(_words_before(cap, stem)) if exceptions else "") + re.escape(stem.strip())
        for stem in (*cap.stems, *cap.gifts)
    ]
    if cap.words:
        alternatives.append("(?:" + "|".join(map(_phrase, cap.words)) + ")" + _PLURAL_END)
    if cap.sure:
        alternatives.append(_sure_words(cap))
    unless = ""
    if exceptions and cap.not_phrases:
        unless = "(?!(?:" + "|".join(map(_phrase, cap.not_phrases)) + ")" + _PLURAL_END + ")"
    if exceptions:
        unless += _not_right_after(cap.not_preceded_by)
    return re.compile(r"(?<![a-z])" + unless + "(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def _words_before(cap: Capability, stem: str) -> tuple[str, ...]:
    """The words right after which `stem` of `cap` means something else (`stem_not_after`)."""
    return tuple(word for word, st in cap.stem_not_after if st == stem)


def _not_right_after(words: tuple[str, ...]) -> str:
    """Fixed-width look-behinds: not right after any of `words` (each a word or a few, one
    space between them and before what follows)."""
    escaped = (r"\s".join(re.escape(w) for w in phrase.split()) for phrase in words)
    return "".join(rf"(?<!(?<![a-z]){e}\s)" for e in escaped)


def _sure_words(cap: Capability, words: tuple[str, ...] | None = None) -> str:
    """`cap`'s sure words (or these `words`) as whole words, never right after one of its
    `not_after` words."""
    return (
        _not_right_after(cap.not_after)
        + "(?:"
        + "|".join(map(_phrase, cap.sure if words is None else words))
        + ")"
        + _PLURAL_END
    )


_STEM_PATTERNS = [(c.key, _pattern(c)) for c in CAPABILITIES]
_BY_KEY_PATTERN = dict(_STEM_PATTERNS)
_SURE_PATTERNS = [
    (c.key, re.compile(r"(?<![a-z])" + _sure_words(c), re.IGNORECASE))
    for c in CAPABILITIES
    if c.sure
]
# what reads like a sure word of an ask but is not the thing: "plant the seeds of leadership",
# "help with grant writing", "the city funds half of our shelter" (a verb: who pays now)
_NOT_SURE_IN_ASKS = re.compile(
    r"(?<![a-z])(?:the\s+seeds\s+of|grants?[\s-]+(?:writ|applica|report|propos|manag|seek)"
    r"|funds?\s+(?:the|a|an|our|their|its|his|her|my|half|part|most|some|all|this|these|those"
    r"|every|each)(?![a-z])"
    r"|wheelchair[\s-]+(?:access|van|bus|transport|taxi|ride))",
    re.IGNORECASE,
)
_SURE_IN_ASKS_PATTERNS = [
    (c.key, re.compile(r"(?<![a-z])" + _sure_words(c, c.sure_in_asks), re.IGNORECASE))
    for c in CAPABILITIES
    if c.sure_in_asks
]


def _keys_by_prefix() -> tuple[dict[str, frozenset[int]], frozenset[int]]:
    """(first three letters of a stem or word -> the capabilities with such a stem or word, the
    capabilities with one that does not start with three lowercase ASCII letters)."""
    by_prefix: dict[str, set[int]] = {}
    always: set[int] = set()
    for i, cap in enumerate(CAPABILITIES):
        for stem in (*cap.stems, *cap.gifts, *cap.words, *cap.sure):
            prefix = stem.strip()[:3]
            if len(prefix) == 3 and prefix.isascii() and prefix.isalpha() and prefix.islower():
                by_prefix.setdefault(prefix, set()).add(i)
            else:
                always.add(i)
    return {p: frozenset(keys) for p, keys in by_prefix.items()}, frozenset(always)


# A stem or word matches where no letter precedes it, so in a lowercased ASCII text only
# capabilities with a stem or word whose first three letters start a word of the text can match.
_KEYS_BY_PREFIX, _ALWAYS_SEARCH = _keys_by_prefix()
_WORD_PREFIX = re.compile(r"(?<![a-z])[a-z]{3}")
_PHRASE_SPLIT = re.compile(r"[.;:!?\n]|,|\band\b|\bwith\b|\bbut\b", re.IGNORECASE)


def label(key: str) -> str:
    cap = _BY_KEY.get(key)
    return cap.label if cap else key


@lru_cache(maxsize=65536)
def _capabilities_in(text: str) -> frozenset[str]:
    t = " " + text.strip().lower().replace("_", " ") + " "
    norm = text.strip().lower().replace(" ", "_")
    found = {norm} if norm in _BY_KEY else set()
    if t.isascii():
        # the same searches, skipping the patterns that cannot match (most of them)
        candidates = set(_ALWAYS_SEARCH)
        for prefix in set(_WORD_PREFIX.findall(t)):
            candidates.update(_KEYS_BY_PREFIX.get(prefix, ()))
        patterns = [_STEM_PATTERNS[i] for i in sorted(candidates)]
    else:
        patterns = _STEM_PATTERNS
    for key, pat in patterns:
        if _reading(key, pat, t) == "named":
            found.add(key)
    return frozenset(found)


def _reading(key: str, pat: re.Pattern[str], t: str) -> str | None:
    """How `t` (lowercased, a space either side) mentions capability `key` (`pat`): "named";
    "goods" when its only mentions are gifts of goods (`_goods_of_gift`: "food donations" for
    funding); None when not at all."""
    gifts = _BY_KEY[key].gifts
    if not gifts:
        return "named" if pat.search(t) else None
    said = None
    for m in pat.finditer(t):
        if not (m.group().startswith(gifts) and _goods_of_gift(t, m.start())):
            return "named"
        said = "goods"
    return said


# Capabilities that are goods or given in kind: a gift of what one names is of goods
# ("donated laptops": technology; "donated space": facilities)
_GOODS_CAPABILITIES = frozenset(
    {"food_supply", "technology", "equipment", "facilities", "distribution", "energy"}
)


def _stem_keys(word: str) -> set[str]:
    return {k for k, pat in _STEM_PATTERNS if pat.search(f" {word} ")}


def _goods_of_gift(t: str, start: int) -> str | None:
    """The word naming the goods the gift at `start` gives ("food" in "food donations",
    "laptops" in "donated laptops", "supplies" in "donations of school supplies"), or None for
    a gift of money: one that says what it gives in words naming money ("monetary donations",
    "donated $500", "donations to our fund") or that does not say ("donations", "donors")."""
    for word, after in gifts.said_of(t, start):
        said = gifts.given(word, after=after)
        if said is None:
            keys = _stem_keys(word)
            said = "money" if "funding" in keys else "goods" if keys & _GOODS_CAPABILITIES else None
        if said is not None:
            return word if said == "goods" else None
    return None


@lru_cache(maxsize=65536)
def _gifts_of_goods(text: str) -> tuple[frozenset[str], frozenset[str]]:
    t = " " + text.strip().lower().replace("_", " ") + " "
    only: set[str] = set()
    goods: set[str] = set()
    for key, pat in _STEM_PATTERNS:
        cap = _BY_KEY[key]
        if not cap.gifts or not any(g in t for g in cap.gifts):
            continue
        if _reading(key, pat, t) == "goods":
            only.add(key)
        for m in pat.finditer(t):
            word = _goods_of_gift(t, m.start()) if m.group().startswith(cap.gifts) else None
            if word is not None:
                goods.update(_stem_keys(word) & _GOODS_CAPABILITIES)
    return frozenset(only), frozenset(goods)


def given_as_goods(text: str) -> set[str]:
    """The capabilities `text` mentions only by a gift of goods: "We need food donations" or
    "we distribute donated food" give food, not money, though their words (and so their
    embeddings) come close to funding's "donations"; a text that names funding otherwise
    ("donations of food and money", "grants") is not among them."""
    return set(_gifts_of_goods(text)[0])


def goods_given(text: str) -> set[str]:
    """The capabilities of the goods a gift in `text` names: technology for "donated laptops",
    equipment for "donations of school supplies", food for "food donations"."""
    return set(_gifts_of_goods(text)[1])


@lru_cache(maxsize=65536)
def _surely_named(text: str) -> frozenset[str]:
    t = " " + text.strip().lower().replace("_", " ") + " "
    return frozenset(key for key, pat in _SURE_PATTERNS if pat.search(t))


def surely_named(text: str) -> set[str]:
    """The capabilities `text` names by a sure word (`Capability.sure`): "low-interest loans"
    is funding however far its clause is from funding's description by meaning; "loaner
    laptops", "loaned equipment" and "books on loan" name none."""
    return set(_surely_named(text))


@lru_cache(maxsize=65536)
def _surely_asked(text: str) -> frozenset[str]:
    t = " " + _NOT_SURE_IN_ASKS.sub(" ", text.strip().lower().replace("_", " ")) + " "
    return _surely_named(text) | {key for key, pat in _SURE_IN_ASKS_PATTERNS if pat.search(t)}


def surely_asked(text: str) -> set[str]:
    """The capabilities a need's clause `text` asks by a sure word: `surely_named`, and the
    words sure in asks only (`Capability.sure_in_asks`: "funding")."""
    return set(_surely_asked(text))


# what each capability's stems and words would match but for its exceptions, and the phrases
# it is mistaken for
_UNEXCEPTED = {
    c.key: _pattern(c, exceptions=False)
    for c in CAPABILITIES
    if c.not_phrases or c.not_preceded_by or c.stem_not_after
}
_MISTAKEN = {
    c.key: re.compile(
        r"(?<![a-z])(?:" + "|".join(re.escape(m) for m in c.mistaken_for) + ")", re.IGNORECASE
    )
    for c in CAPABILITIES
    if c.mistaken_for
}


def ruled_out(key: str, text: str) -> bool:
    """Whether `text` names capability `key` only where the vocabulary says the words mean
    something else (`not_phrases`, `not_preceded_by`: "Rental & Leasing Services" is no
    housing, "child care" no health care), or names only what is mistaken for it
    (`mistaken_for`: "a warming center" is no heating), so no reading by meaning may give it
    either."""
    loose = _UNEXCEPTED.get(key)
    mistaken = _MISTAKEN.get(key)
    t = f" {text.strip().lower()} "
    said = bool(loose and loose.search(t)) or bool(mistaken and mistaken.search(t))
    return said and not _BY_KEY_PATTERN[key].search(t)


def capabilities_in(text: str) -> set[str]:
    """Canonical capability keys mentioned in a free-text phrase (or a key itself)."""
    return set(_capabilities_in(text))


def canonical(items: Iterable[str]) -> dict[str, str]:
    """Map each capability key to the first phrase in `items` that mentions it."""
    out: dict[str, str] = {}
    for item in items:
        for key in sorted(capabilities_in(item)):
            out.setdefault(key, item)
    return out


def phrases(text: str, *, places: bool = False) -> list[str]:
    """Split a text into short phrases, for explanations ("covers 'weekend meal deliveries'");
    with `places` (a need's text), a place and its state ("Portland, Oregon") stay in one."""
    if places:
        text = hold_place_commas(text)
    parts = _PHRASE_SPLIT.split(text)
    return [p.strip().replace(HELD_COMMA, ",") for p in parts if len(p.strip()) >= 3]


def snippet(phrase: str, key: str, width: int = 3) -> str:
    """The words around the first mention of capability `key` in `phrase` (for reasons)."""
    words = phrase.split()
    if len(words) <= 2 * width + 1:
        return phrase
    for i in range(len(words)):
        if key in capabilities_in(words[i]) or key in capabilities_in(" ".join(words[i : i + 2])):
            return " ".join(words[max(0, i - width) : i + width + 1])
    return " ".join(words[: 2 * width + 1])


@lru_cache(maxsize=4096)
def _infer_required(text: str) -> tuple[tuple[str, str], ...]:
    parts = phrases(text, places=True)
    asking = [p for p, told in zip(parts, telling_clauses(text, parts), strict=True) if not told]
    asking = [asker_words(p)[1] for p in asking]  # "Our food bank needs ...": not food
    asking = [place_words(p)[1] for p in asking]  # "... supplies for the shelter": no housing
    found: dict[str, str] = {}
    for phrase in asking:  # as `canonical`, without what the group gives ("we want to fund")
        for key in sorted(capabilities_in(phrase) - given_by_group(phrase)):
            found.setdefault(key, phrase)
    return tuple((key, snippet(phrase, key)) for key, phrase in found.items())


def infer_required(text: str) -> dict[str, str]:
    """Capabilities a need's text asks for, each with the few words that ask for it."""
    return without_yielded(dict(_infer_required(text)))


def without_yielded(asked: dict[str, str]) -> dict[str, str]:
    """`asked` without the asks read from a word that, beside another of its asks, means that
    other (`Capability.yields_to`: "trained caregivers" beside child care); an ask its phrase
    names by a word sure in asks never yields ("funding for SNAP outreach": public programmes
    beside funding)."""
    return {
        key: phrase
        for key, phrase in asked.items()
        if key in _surely_asked(phrase)
        or not any(
            other in asked and re.search(r"(?<![a-z])" + re.escape(stem), phrase.lower())
            for stem, other in _BY_KEY[key].yields_to
        )
    }
