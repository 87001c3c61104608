"""Sentence fragments that make invented organisation descriptions read differently."""

from __future__ import annotations

BRANDS: tuple[str, ...] = (
    "Cedar", "Harbor", "Summit", "Evergreen", "Bluebell", "Redwood", "Northstar", "Lantern",
    "Meridian", "Kestrel", "Copperleaf", "Fieldstone", "Ironbridge", "Brightwater", "Greenway",
    "Larkfield", "Millbrook", "Riverbend", "Oakline", "Hollybank", "Sunridge", "Wildflower",
    "Thistle", "Heron", "Marigold", "Granite", "Willow", "Beacon", "Keystone", "Silverline",
    "Foxglove", "Alder", "Bramble", "Clearwater", "Driftwood", "Elmstead", "Goldcrest",
    "Hawthorn", "Juniper", "Lakeside", "Moorland", "Nettlebed", "Orchard", "Pinecrest",
    "Quarry Hill", "Rowan", "Stonebridge", "Tidewater", "Upland", "Westgate", "Yarrow",
)
SURNAMES: tuple[str, ...] = (
    "Alvarez", "Okafor", "Nguyen", "Patel", "Murphy", "Hughes", "Kowalski", "Haddad", "Campbell",
    "Singh", "O'Neill", "Brennan", "Tanaka", "Mensah", "Dlamini", "Reyes", "Ahmed", "MacLeod",
    "Fraser", "Walsh", "Thornton", "Baxter", "Greenberg", "Lindqvist", "Ortega", "Chowdhury",
    "Bello", "Fischer", "Rossi", "Hussain", "Kaur", "Jensen", "Petrova", "Castillo", "Adeyemi",
)
SAINTS: tuple[str, ...] = (
    "Mary", "John", "Aidan", "Columba", "Peter", "Mark", "Anne", "Luke", "Michael", "Bride",
    "Margaret", "Paul", "Andrew", "Hilda", "Cuthbert", "Francis",
)

OPENINGS_COMMON: tuple[str, ...] = (
    "Founded in {year}, {name} is a {kind} based in {hood}, {city}.",
    "{name} has been a {kind} in {city} since {year}.",
    "Since {year}, {name} has worked out of {hood} as a {sizew} {kind}.",
    "{name} is a {kind} in {city}'s {hood} area, started in {year} by {founders}.",
    "Started by {founders} in {year}, {name} is now a {sizew} {kind} covering {area}.",
    "Based in {hood}, {name} is a {kind} with roots going back to {year}.",
    "{name} is a {sizew} {kind} working across {area}.",
    "A {kind} rooted in {hood}, {name} opened its doors in {year}.",
    "{name} began in {year} as {origin} and has grown into a {kind} serving {area}.",
    "From its base in {hood}, {name} has served {city} as a {kind} for more than {age} years.",
)
OPENINGS_GOVERNMENT: tuple[str, ...] = (
    "{name} is the {kind} responsible for {area}.",
    "As a {kind} serving {area}, {name} works with partners across {city}.",
    "{name} is a {kind} covering {city} and nearby communities.",
    "Set up in {year}, {name} is the {kind} for {city}.",
    "{name}, a {kind}, serves residents across {area} from offices in {hood}.",
    "Created in {year}, {name} now acts as the {kind} for much of {area}.",
)

FOUNDERS: dict[str, tuple[str, ...]] = {
    "nonprofit": ("a group of neighbours", "local parents", "two retired teachers",
                  "members of a local congregation", "former service users",
                  "a handful of volunteers", "nurses from the local hospital",
                  "a social worker and a lawyer"),
    "community": ("a group of neighbours", "local parents", "residents of the estate",
                  "members of the congregation", "a few friends", "young people themselves"),
    "business": ("a local family", "two former engineers", "a husband-and-wife team",
                 "a group of growers", "a former teacher", "three college friends"),
    "academic": ("local industrialists", "a coalition of employers", "the city",
                 "public-health reformers", "a group of local teachers"),
    "government": ("the city",),
}
ORIGINS: dict[str, tuple[str, ...]] = {
    "nonprofit": ("a kitchen-table project", "a single weekly drop-in", "a church project",
                  "a volunteer rota", "a campaign by local residents"),
    "community": ("a WhatsApp group", "a street party", "a campaign to save the library",
                  "a Sunday clean-up", "a coffee morning"),
    "business": ("a single shop", "a two-person start-up", "a market stall",
                 "a family business", "a spin-out from a local firm"),
    "academic": ("a night school", "a teacher training college", "a technical institute",
                 "a mechanics' institute"),
    "government": ("a pilot scheme",),
}
SIZE_WORDS: dict[str, tuple[str, ...]] = {
    "micro": ("tiny", "volunteer-led", "small"),
    "small": ("small", "close-knit", "community-based"),
    "medium": ("mid-sized", "growing", "established"),
    "large": ("large", "major", "well-established"),
}

PROGRAMMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "food insecurity": (("Full Plate Fridays", "Fresh Start Pantry", "Good Food Box",
                         "Backpack Meals", "Harvest Share", "Holiday Hunger"),
                        ("households", "families", "children", "residents")),
    "workforce": (("Pathways to Work", "Next Step", "Skills Ladder", "Second Chance Hiring",
                   "Jobs Within Reach"),
                  ("job seekers", "adults looking for work", "young adults", "apprentices")),
    "health access": (("Healthy Neighbours", "Clinic on Wheels", "Check-Up Days",
                       "Health Navigators"),
                      ("patients", "residents", "uninsured adults", "families")),
    "mental health": (("Talk It Through", "Open Minds", "Calm Space", "Wellbeing Walks"),
                      ("people", "young people", "adults", "carers")),
    "climate resilience": (("Cool Streets", "Flood Ready", "Heat Safe Homes", "Warm Homes"),
                           ("households", "homes", "residents", "streets")),
    "housing": (("Home First", "Safe at Home", "Keys to Home", "Tenancy Ready"),
                ("households", "tenants", "families", "people sleeping rough")),
    "education and youth": (("Bright Futures", "Homework Club", "Summer Bridge",
                             "Future Leaders"),
                            ("young people", "pupils", "students", "children")),
    "digital inclusion": (("Get Connected", "Device Bank", "Digital Buddies",
                           "Online Together"),
                          ("people", "older residents", "families", "learners")),
    "seniors": (("Golden Hour", "Good Neighbour Calls", "Stay Well at Home", "Lunch Club"),
                ("older residents", "older people", "carers", "pensioners")),
    "refugees and immigrants": (("Welcome Home", "New Roots", "First Steps",
                                 "Conversation Club"),
                                ("newcomers", "refugee families", "asylum seekers",
                                 "new arrivals")),
    "environment": (("Green Streets", "River Care", "Trees for All", "Wild Corners"),
                    ("volunteers", "residents", "schoolchildren", "households")),
    "arts and culture": (("Creative Neighbourhoods", "Open Stage", "Story Lab",
                          "Arts on Prescription"),
                         ("participants", "young people", "artists", "residents")),
    "disability": (("Access All Areas", "Work Ready Together", "Independent Futures"),
                   ("disabled people", "families", "young disabled adults", "carers")),
}
PROGRAMME_SENTENCES: tuple[str, ...] = (
    "Its {prog} programme reaches around {people} {who} a year.",
    "Last year the {prog} programme supported {people} {who}.",
    "Through {prog}, it works with about {people} {who} each year.",
    "The {prog} scheme, launched in {launch}, now serves {people} {who}.",
    "Flagship work includes {prog}, which helped {people} {who} in {lastyear}.",
    "Around {people} {who} took part in {prog} in the past twelve months.",
)
PEOPLE_RANGE: dict[str, tuple[int, int]] = {
    "micro": (15, 200), "small": (60, 900), "medium": (250, 4000), "large": (1200, 15000),
}

CLOSINGS: dict[str, tuple[str, ...]] = {
    "nonprofit": ("It is looking for partners who can help with {need}.",
                  "Right now the biggest gap is {need}.",
                  "The team would welcome conversations about {need}.",
                  "It is happy to share {offer} with other groups working on the same issues."),
    "business": ("Its local priorities include {need}.",
                 "It wants to turn {offer} into longer-term local partnerships.",
                 "Its community team is open to approaches from local groups.",
                 "Managers are particularly interested in {need}."),
    "government": ("The team wants {need} to reach residents it currently misses.",
                   "It can offer {offer} to groups delivering in the area.",
                   "Officers are actively seeking {need}."),
    "community": ("Members would love help with {need}.",
                  "Everything is run by volunteers, so help with {need} would make a big "
                  "difference.",
                  "The group is glad to offer {offer} to partners it trusts."),
    "academic": ("Staff are looking for {need}.",
                 "It offers {offer} to community organisations at no cost.",
                 "Its civic team is keen to hear from groups interested in {need}."),
}
