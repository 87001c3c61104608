"""Places for the invented sample corpus: city centres (approximate), areas, postcodes.

Coordinates are approximate public city-centre points; everything else is invented.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    region: str
    country: str  # ISO 3166-1 alpha-2
    lat: float
    lon: float
    county: str  # US county or UK local-authority area, used in government names
    area: str  # how locals name the wider area, in a sentence
    areaname: str  # the wider area as part of an organisation's name
    postcodes: tuple[str, ...]  # US: 3-digit ZIP prefixes; UK: outward codes
    hoods: tuple[str, ...]
    weight: int  # relative share of the organisations


CITIES: tuple[City, ...] = (
    City("Portland", "Oregon", "US", 45.5152, -122.6784, "Multnomah",
         "the Portland metro area", "Portland Metro",
         ("972",),
         ("Lents", "St. Johns", "Cully", "Gateway", "Kenton", "Montavilla",
          "Brentwood-Darlington"), 11),
    City("Salem", "Oregon", "US", 44.9429, -123.0351, "Marion",
         "the Mid-Willamette Valley", "Mid-Willamette",
         ("973",),
         ("Northeast Salem", "West Salem", "Lancaster", "Highland", "Grant"), 5),
    City("Eugene", "Oregon", "US", 44.0521, -123.0868, "Lane",
         "Lane County", "Lane County",
         ("974",),
         ("Whiteaker", "Bethel", "Santa Clara", "River Road", "Friendly Street"), 5),
    City("Bend", "Oregon", "US", 44.0582, -121.3153, "Deschutes",
         "Central Oregon", "Central Oregon",
         ("977",),
         ("Orchard District", "Larkspur", "Old Bend", "Boyd Acres"), 4),
    City("Seattle", "Washington", "US", 47.6062, -122.3321, "King",
         "the Puget Sound region", "Puget Sound",
         ("981",),
         ("Rainier Valley", "Beacon Hill", "Georgetown", "Lake City", "Delridge", "Ballard"), 10),
    City("Tacoma", "Washington", "US", 47.2529, -122.4443, "Pierce",
         "Pierce County", "Pierce County",
         ("984",),
         ("Hilltop", "Eastside", "South End", "Lincoln District"), 5),
    City("Spokane", "Washington", "US", 47.6588, -117.426, "Spokane",
         "the Inland Northwest", "Inland Northwest",
         ("992",),
         ("West Central", "Hillyard", "East Central", "Logan"), 5),
    City("Oakland", "California", "US", 37.8044, -122.2712, "Alameda",
         "the East Bay", "East Bay",
         ("946",),
         ("Fruitvale", "West Oakland", "East Oakland", "Chinatown", "San Antonio"), 7),
    City("Sacramento", "California", "US", 38.5816, -121.4944, "Sacramento",
         "the Sacramento region", "Sacramento Valley",
         ("958",),
         ("Oak Park", "Del Paso Heights", "Meadowview", "North Sacramento"), 6),
    City("Fresno", "California", "US", 36.7378, -119.7871, "Fresno",
         "the Central Valley", "Central Valley",
         ("937",),
         ("Southeast Fresno", "Tower District", "West Fresno", "Calwa"), 5),
    City("Manchester", "Greater Manchester", "GB", 53.4808, -2.2426, "Manchester",
         "Greater Manchester", "Greater Manchester",
         ("M4", "M8", "M11", "M12", "M13", "M14", "M16", "M18", "M22", "M40"),
         ("Moss Side", "Longsight", "Wythenshawe", "Gorton", "Cheetham Hill", "Ancoats",
          "Harpurhey"), 10),
    City("Salford", "Greater Manchester", "GB", 53.4875, -2.2901, "Salford",
         "Salford and the wider city region", "Salford",
         ("M3", "M5", "M6", "M7", "M30", "M38"),
         ("Ordsall", "Eccles", "Broughton", "Little Hulton", "Pendleton"), 5),
    City("Bolton", "Greater Manchester", "GB", 53.5769, -2.4282, "Bolton",
         "the Bolton borough", "Bolton",
         ("BL1", "BL2", "BL3", "BL4", "BL6"),
         ("Farnworth", "Horwich", "Great Lever", "Breightmet", "Deane"), 4),
    City("Leeds", "West Yorkshire", "GB", 53.8008, -1.5491, "Leeds",
         "West Yorkshire", "West Yorkshire",
         ("LS6", "LS7", "LS8", "LS9", "LS11", "LS12", "LS14"),
         ("Harehills", "Chapeltown", "Beeston", "Seacroft", "Armley", "Burmantofts"), 8),
    City("Bradford", "West Yorkshire", "GB", 53.796, -1.7594, "Bradford",
         "the Bradford district", "Bradford District",
         ("BD3", "BD4", "BD5", "BD7", "BD8", "BD21"),
         ("Manningham", "Little Horton", "Holme Wood", "Keighley", "Barkerend"), 5),
    City("Bristol", "Bristol", "GB", 51.4545, -2.5879, "Bristol",
         "Bristol and the West", "Avon",
         ("BS2", "BS3", "BS5", "BS10", "BS13", "BS14"),
         ("Easton", "Lawrence Hill", "Hartcliffe", "Southmead", "Bedminster", "Knowle West"), 7),
    City("Glasgow", "Scotland", "GB", 55.8642, -4.2518, "Glasgow",
         "Greater Glasgow", "Greater Glasgow",
         ("G20", "G22", "G31", "G33", "G34", "G40", "G42", "G51"),
         ("Govan", "Easterhouse", "Possilpark", "Govanhill", "Drumchapel", "Calton"), 8),
)

_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in UK inward codes


def postcode(rng: random.Random, city: City) -> str:
    prefix = rng.choice(city.postcodes)
    if city.country == "US":
        return f"{prefix}{rng.randint(1, 99):02d}"
    letters = "".join(rng.choice(_INWARD_LETTERS) for _ in range(2))
    return f"{prefix} {rng.randint(1, 9)}{letters}"


def jitter(rng: random.Random, lat: float, lon: float, max_km: float) -> tuple[float, float]:
    """A point uniformly spread within `max_km` of (lat, lon)."""
    r = max_km * math.sqrt(rng.random())
    theta = rng.uniform(0, 2 * math.pi)
    dlat = r * math.cos(theta) / 111.32
    dlon = r * math.sin(theta) / (111.32 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


_US_SPELLING = (
    ("neighbourhood", "neighborhood"), ("Neighbourhood", "Neighborhood"),
    ("neighbour", "neighbor"), ("Neighbour", "Neighbor"),
    ("programme", "program"), ("Programme", "Program"),
    ("organisation", "organization"), ("Organisation", "Organization"),
    ("centre", "center"), ("Centre", "Center"), ("labour", "labor"), ("Labour", "Labor"),
    ("counselling", "counseling"), ("Counselling", "Counseling"), ("travelling", "traveling"),
    ("favour", "favor"), ("colour", "color"), ("behaviour", "behavior"), ("theatre", "theater"),
    ("licence", "license"), ("mobilise", "mobilize"), ("organise", "organize"),
    ("recognise", "recognize"), ("specialis", "specializ"), ("fibre", "fiber"),
)


def localise(text: str, country: str) -> str:
    """Our templates are written in British spelling; US records get US spelling."""
    if country != "US":
        return text
    for gb, us in _US_SPELLING:
        text = text.replace(gb, us)
    return text
