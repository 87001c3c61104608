"""Invented community problem statements, written the way an organiser would put them.

Each template: (title, text, required capability keys, wanted sectors). {hood}, {city}, {n}
and {day} are filled in by the generator.
"""

from __future__ import annotations

NeedTemplate = tuple[str, str, tuple[str, ...], tuple[str, ...]]

FIXED_FIRST: NeedTemplate = (
    "End-of-month fresh food for east side families",
    "Families on the east side are skipping meals at the end of the month; we need a weekly fresh "
    "food distribution and volunteers to run it.",
    ("food_supply", "volunteers", "distribution"),
    ("nonprofit", "business"),
)

TEMPLATES: tuple[NeedTemplate, ...] = (
    ("Weekly fresh food in {hood}",
     "The nearest supermarket to {hood} closed last year and a lot of families now rely on the "
     "corner shop. We want to set up a weekly fresh produce stall and need a regular supply of "
     "surplus fruit and veg plus a van to move it.",
     ("food_supply", "distribution"), ("business", "nonprofit")),
    ("Holiday hunger in {hood}",
     "When school is out, around {n} kids in {hood} lose their free lunch. We'd like to run a "
     "summer lunch club but have no kitchen and no food budget.",
     ("food_supply", "facilities", "funding"), ()),
    ("Cold storage for a pantry",
     "Our pantry keeps turning down donations of milk and meat because we only have one domestic "
     "fridge. A walk-in cooler or shared cold storage nearby would change everything.",
     ("facilities", "food_supply", "equipment"), ()),
    ("Drivers for food deliveries",
     "We pack about {n} food boxes every {day} but half our drivers have dropped out. We need "
     "volunteer drivers or a business that can lend a van and a driver one day a week.",
     ("volunteers", "distribution"), ("business", "community")),
    ("Jobs for young people leaving care",
     "Young people leaving care in {city} struggle to get a first job. We are looking for "
     "employers who will offer paid placements and mentors who will stick with them.",
     ("jobs", "volunteers"), ("business",)),
    ("Job search help for older workers",
     "Since the warehouse in {hood} closed, dozens of people over fifty are out of work and have "
     "never written a CV. They need job search coaching and introductions to employers who are "
     "hiring.",
     ("training", "jobs"), ("government", "business")),
    ("Digital skills for job seekers",
     "Many people at our drop-in can't apply for jobs because everything is online and they have "
     "no laptop. We need donated devices and someone to teach basic digital skills.",
     ("technology", "training"), ()),
    ("Apprenticeships in green trades",
     "Local young people want to get into solar and retrofit work but there are no "
     "apprenticeships nearby. We want to connect them with employers and a college course.",
     ("jobs", "training", "energy"), ("business", "academic")),
    ("Health checks for people who never see a doctor",
     "A lot of men in {hood} haven't seen a doctor in years. We want to run health screening "
     "days in the barber shops and the mosque, with nurses who can do blood pressure and diabetes "
     "checks.",
     ("healthcare", "community_reach"), ("government", "nonprofit")),
    ("Interpreters at the clinic",
     "Families who speak Dari and Tigrinya are missing appointments because nobody can "
     "interpret. We need interpreters and translated health information.",
     ("language", "healthcare"), ()),
    ("Transport to hospital appointments",
     "Older people in {hood} are missing hospital appointments because the bus route was cut. "
     "Could someone help with transport on clinic days?",
     ("distribution", "volunteers"), ()),
    ("Mental health support for teenagers",
     "Teachers tell us more and more teenagers are anxious and self-harming, and the waiting list "
     "for help is months long. We want a weekly drop-in with a trained counsellor at the youth "
     "centre.",
     ("healthcare", "facilities"), ("nonprofit", "government")),
    ("Peer support for new mums",
     "New mums in {hood} are isolated, and some are clearly struggling with their mental health. "
     "We'd like to start a peer support group but need a warm room and someone trained to lead "
     "it.",
     ("facilities", "healthcare", "training"), ()),
    ("Cooling centre for heatwaves",
     "Last summer two older neighbours were taken to hospital during the heatwave. We want a "
     "cooling centre that opens on hot days and volunteers to check on people who live alone.",
     ("facilities", "volunteers", "energy"), ("government",)),
    ("Flooding on our street",
     "Our street has flooded three times in five years. We need someone who understands flood "
     "resilience to help us make a plan, and money for flood doors for the worst-hit houses.",
     ("energy", "expertise", "funding"), ("government",)),
    ("Insulating draughty homes",
     "Most of the houses in {hood} are old and cold, and people can't afford to heat them. We "
     "want free energy checks and help with insulation for the families who need it most.",
     ("energy", "expertise", "funding"), ("business", "government")),
    ("Families facing eviction",
     "Rents have gone up and we know of {n} families in our building who have had eviction "
     "notices. They need legal advice quickly and someone to explain their rights.",
     ("legal_aid", "expertise"), ("nonprofit",)),
    ("Winter shelter beds",
     "People are sleeping in the car park behind the shops on {day} nights. We want to open a "
     "winter night shelter in the church hall but need funding, beds and trained volunteers.",
     ("housing", "funding", "volunteers"), ()),
    ("Repairs tenants have been waiting for",
     "Damp and mould are making children ill on our estate and repairs take months. We need "
     "help documenting the problem and pressing the landlord, plus someone to survey the flats.",
     ("data", "legal_aid", "housing"), ()),
    ("Homework club needs tutors",
     "Our homework club has {n} children on the list and only two adults. We need volunteer "
     "tutors, especially for maths, two afternoons a week.",
     ("volunteers", "training"), ()),
    ("Somewhere for teenagers to go",
     "There is nothing for teenagers to do in {hood} after the youth club closed. We want to "
     "reopen it on Friday nights and need a building, youth workers and some funding.",
     ("facilities", "funding"), ("government",)),
    ("Mentors for Year 10s",
     "The school has asked us to find mentors from local businesses for Year 10 students who "
     "have no one at home in work. An hour a fortnight would do.",
     ("volunteers", "jobs"), ("business",)),
    ("Getting older people online",
     "Older residents can't book GP appointments or see their grandchildren on video calls. "
     "We want regular digital skills sessions in the library and some loan tablets.",
     ("technology", "training"), ()),
    ("Broadband for families in temporary housing",
     "Children in the temporary housing block have no internet to do homework. We need a "
     "connectivity solution for the building and some laptops.",
     ("technology",), ("business", "government")),
    ("Lonely older neighbours",
     "Many older neighbours live alone and some go days without speaking to anyone. We want a "
     "befriending scheme with regular phone calls and a weekly lunch club.",
     ("volunteers", "food_supply", "facilities"), ()),
    ("Meals for housebound residents",
     "Since the council cut meals on wheels, housebound residents in {hood} have been living on "
     "toast. We want to cook and deliver hot meals three times a week.",
     ("food_supply", "distribution", "facilities"), ()),
    ("Welcome for refugee families",
     "Around {n} refugee families have been housed in {hood} this year. They need English "
     "classes, help with school places and someone to show them around.",
     ("training", "language", "volunteers"), ()),
    ("Immigration advice nearby",
     "People in our community have questions about their immigration status but the nearest "
     "advice is two buses away. Could a legal advice clinic come to our centre once a month?",
     ("legal_aid", "facilities"), ("nonprofit",)),
    ("Jobs for newly arrived refugees",
     "Many refugees here were nurses, engineers and drivers back home but can't get work. We need "
     "employers willing to hire them and help getting qualifications recognised.",
     ("jobs", "training", "regulatory"), ("business",)),
    ("Cleaning up the canal",
     "The canal path in {hood} is full of fly-tipping and nobody feels safe using it. We want "
     "regular clean-ups, equipment, and someone from the council to deal with permits.",
     ("volunteers", "equipment", "regulatory"), ("government",)),
    ("Trees for a treeless estate",
     "Our estate has almost no trees and gets very hot. We'd like to plant street trees and need "
     "land permission, saplings and volunteers on planting day.",
     ("regulatory", "equipment", "volunteers"), ("government",)),
    ("Air quality near the school",
     "Parents are worried about traffic fumes outside the primary school. We want to measure air "
     "quality properly and use the evidence to campaign for a school street.",
     ("data", "communications"), ("academic",)),
    ("A space for local artists",
     "There are talented young artists in {hood} with nowhere to work or show. We're looking for "
     "an empty shop or unit we can use as a studio and gallery.",
     ("facilities",), ()),
    ("Telling our neighbourhood's story",
     "We want to record oral histories from older residents before they're lost, and need "
     "recording equipment and help putting on an exhibition.",
     ("equipment", "communications"), ()),
    ("Accessible transport for disabled residents",
     "Wheelchair users in {hood} can't get to the day centre since the accessible minibus broke "
     "down. We need a replacement vehicle or a transport partner.",
     ("distribution", "equipment"), ()),
    ("Work placements for disabled young adults",
     "Young adults with learning disabilities leave college with nowhere to go. We need "
     "employers who will offer supported work placements.",
     ("jobs",), ("business",)),
    ("Understanding who we are missing",
     "We run a food pantry but think many eligible families never come. We'd like help with a "
     "survey and mapping of need in {hood}.",
     ("data",), ("academic",)),
    ("Spreading the word about benefits",
     "Lots of families here don't claim benefits they are entitled to. We need help getting the "
     "message out in different languages through people they trust.",
     ("community_reach", "language", "communications"), ()),
    ("Funding to keep the pantry open",
     "Our small pantry has run on donations for {n} years but the grant that paid the rent ends "
     "in March. We need funding or a rent-free space to keep going.",
     ("funding", "facilities"), ()),
    ("Kitchen for a community café",
     "We want to start a pay-as-you-feel community café and train local people in catering. We "
     "need a commercial kitchen we can use a few days a week.",
     ("facilities", "training", "food_supply"), ()),
    ("Volunteers for the {day} food market",
     "Our {day} food market serves about {n} families but we are exhausted. We need a team of "
     "regular volunteers, and a local business's staff volunteering day would be brilliant.",
     ("volunteers", "food_supply"), ("business",)),
    ("Childcare so parents can train",
     "Parents want to do training courses but can't because there is no childcare. We want to "
     "pair a college course with a creche on site.",
     ("training", "facilities"), ("academic",)),
)

CLOSERS: tuple[str, ...] = (
    "We are all volunteers and can bring residents to the table.",
    "We'd love to hear from anyone who has done something like this before.",
    "We can offer a room to meet in and a lot of goodwill.",
    "Ideally this would start before winter.",
    "Our group meets on {day} evenings at the community centre.",
    "Residents are keen to help however they can.",
)

DAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
