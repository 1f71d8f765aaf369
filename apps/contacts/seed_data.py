"""The tables behind generated contacts (`seeding.py`): places, markets, tags, persona odds."""

from __future__ import annotations

# Country: (Faker locale, language, postal format). Postal formats: "num5"/"num4" (a number in the
# city's range), "nl" (4 digits, 2 letters), "gb"/"ca" (the city's outward codes plus an inward code).
COUNTRIES: dict[str, tuple[str, str, str]] = {
    "DE": ("de_DE", "de", "num5"),
    "AT": ("de_AT", "de", "num4"),
    "CH": ("de_CH", "de", "num4"),
    "FR": ("fr_FR", "fr", "num5"),
    "NL": ("nl_NL", "nl", "nl"),
    "GB": ("en_GB", "en", "gb"),
    "US": ("en_US", "en", "num5"),
    "CA": ("en_CA", "en", "ca"),
}
# City, region, postal range or outward codes, weight (about its population), time zone.
CITIES: dict[str, tuple[tuple[str, str, str, int, str], ...]] = {
    "DE": (
        ("Berlin", "Berlin", "10115-14199", 37, "Europe/Berlin"),
        ("Hamburg", "Hamburg", "20095-22769", 19, "Europe/Berlin"),
        ("München", "Bayern", "80331-81929", 15, "Europe/Berlin"),
        ("Köln", "Nordrhein-Westfalen", "50667-51149", 11, "Europe/Berlin"),
        ("Frankfurt am Main", "Hessen", "60306-60599", 8, "Europe/Berlin"),
        ("Stuttgart", "Baden-Württemberg", "70173-70629", 6, "Europe/Berlin"),
        ("Düsseldorf", "Nordrhein-Westfalen", "40210-40629", 6, "Europe/Berlin"),
        ("Leipzig", "Sachsen", "04103-04357", 6, "Europe/Berlin"),
        ("Dresden", "Sachsen", "01067-01328", 6, "Europe/Berlin"),
        ("Hannover", "Niedersachsen", "30159-30669", 5, "Europe/Berlin"),
        ("Nürnberg", "Bayern", "90402-90491", 5, "Europe/Berlin"),
        ("Bremen", "Bremen", "28195-28779", 6, "Europe/Berlin"),
        ("Freiburg im Breisgau", "Baden-Württemberg", "79098-79117", 2, "Europe/Berlin"),
        ("Garmisch-Partenkirchen", "Bayern", "82467-82467", 1, "Europe/Berlin"),
        ("Rostock", "Mecklenburg-Vorpommern", "18055-18147", 2, "Europe/Berlin"),
    ),
    "AT": (
        ("Wien", "Wien", "1010-1230", 19, "Europe/Vienna"),
        ("Graz", "Steiermark", "8010-8063", 3, "Europe/Vienna"),
        ("Linz", "Oberösterreich", "4020-4040", 2, "Europe/Vienna"),
        ("Salzburg", "Salzburg", "5020-5026", 2, "Europe/Vienna"),
        ("Innsbruck", "Tirol", "6020-6080", 2, "Europe/Vienna"),
    ),
    "CH": (
        ("Zürich", "Zürich", "8001-8099", 4, "Europe/Zurich"),
        ("Bern", "Bern", "3000-3030", 2, "Europe/Zurich"),
        ("Basel", "Basel-Stadt", "4001-4059", 2, "Europe/Zurich"),
        ("Luzern", "Luzern", "6003-6015", 1, "Europe/Zurich"),
        ("St. Gallen", "St. Gallen", "9000-9016", 1, "Europe/Zurich"),
    ),
    "FR": (
        ("Paris", "Île-de-France", "75001-75020", 21, "Europe/Paris"),
        ("Lyon", "Auvergne-Rhône-Alpes", "69001-69009", 5, "Europe/Paris"),
        ("Marseille", "Provence-Alpes-Côte d'Azur", "13001-13016", 8, "Europe/Paris"),
        ("Toulouse", "Occitanie", "31000-31500", 5, "Europe/Paris"),
        ("Bordeaux", "Nouvelle-Aquitaine", "33000-33800", 3, "Europe/Paris"),
        ("Grenoble", "Auvergne-Rhône-Alpes", "38000-38100", 2, "Europe/Paris"),
        ("Chamonix-Mont-Blanc", "Auvergne-Rhône-Alpes", "74400-74400", 1, "Europe/Paris"),
    ),
    "NL": (
        ("Amsterdam", "Noord-Holland", "1011-1109", 9, "Europe/Amsterdam"),
        ("Rotterdam", "Zuid-Holland", "3011-3089", 6, "Europe/Amsterdam"),
        ("Den Haag", "Zuid-Holland", "2491-2597", 5, "Europe/Amsterdam"),
        ("Utrecht", "Utrecht", "3511-3585", 4, "Europe/Amsterdam"),
        ("Eindhoven", "Noord-Brabant", "5611-5658", 2, "Europe/Amsterdam"),
    ),
    "GB": (
        ("London", "England", "E1 N1 NW3 SE1 SW1A SW11 W1 W12", 40, "Europe/London"),
        ("Manchester", "England", "M1 M4 M13 M14 M20", 6, "Europe/London"),
        ("Birmingham", "England", "B1 B5 B15 B29", 5, "Europe/London"),
        ("Leeds", "England", "LS1 LS6 LS11", 4, "Europe/London"),
        ("Bristol", "England", "BS1 BS6 BS8", 3, "Europe/London"),
        ("Edinburgh", "Scotland", "EH1 EH3 EH9 EH10", 3, "Europe/London"),
        ("Glasgow", "Scotland", "G1 G3 G12", 3, "Europe/London"),
        ("Cardiff", "Wales", "CF10 CF11 CF24", 2, "Europe/London"),
    ),
    "US": (
        ("New York", "NY", "10001-10282", 40, "America/New_York"),
        ("Los Angeles", "CA", "90001-90089", 19, "America/Los_Angeles"),
        ("Chicago", "IL", "60601-60661", 13, "America/Chicago"),
        ("Houston", "TX", "77001-77099", 11, "America/Chicago"),
        ("Phoenix", "AZ", "85001-85055", 8, "America/Phoenix"),
        ("Philadelphia", "PA", "19102-19154", 8, "America/New_York"),
        ("Denver", "CO", "80202-80239", 4, "America/Denver"),
        ("Boulder", "CO", "80301-80310", 1, "America/Denver"),
        ("Seattle", "WA", "98101-98199", 4, "America/Los_Angeles"),
        ("Portland", "OR", "97201-97299", 3, "America/Los_Angeles"),
        ("Boston", "MA", "02108-02137", 3, "America/New_York"),
        ("Salt Lake City", "UT", "84101-84152", 1, "America/Denver"),
        ("Atlanta", "GA", "30303-30350", 3, "America/New_York"),
        ("Minneapolis", "MN", "55401-55488", 2, "America/Chicago"),
    ),
    "CA": (
        ("Toronto", "ON", "M4C M5H M5V M6G", 28, "America/Toronto"),
        ("Montréal", "QC", "H2X H3A H3B", 18, "America/Toronto"),
        ("Vancouver", "BC", "V5K V6B V6E", 7, "America/Vancouver"),
        ("Calgary", "AB", "T2P T2R T3A", 13, "America/Edmonton"),
        ("Ottawa", "ON", "K1P K1N K2P", 10, "America/Toronto"),
    ),
}
# Where a workspace's customers live: mostly at home, some next door.
MARKETS: dict[str, tuple[tuple[str, float], ...]] = {
    "DE": (("DE", 0.86), ("AT", 0.06), ("CH", 0.05), ("NL", 0.03)),
    "AT": (("AT", 0.85), ("DE", 0.12), ("CH", 0.03)),
    "CH": (("CH", 0.85), ("DE", 0.10), ("AT", 0.03), ("FR", 0.02)),
    "FR": (("FR", 0.90), ("CH", 0.04), ("DE", 0.03), ("GB", 0.03)),
    "NL": (("NL", 0.88), ("DE", 0.10), ("GB", 0.02)),
    "GB": (("GB", 0.92), ("US", 0.04), ("FR", 0.02), ("NL", 0.02)),
    "US": (("US", 0.94), ("CA", 0.06)),
    "CA": (("CA", 0.85), ("US", 0.15)),
}
# Reserved for documentation (RFC 2606): seeded mail can never reach a real person.
DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "inbox.example", "post.example")
TAG_NAMES = (  # most popular first: the generator picks earlier tags more often
    "Newsletter", "Hiking", "Camping", "Repeat buyer", "Spring sale 2026", "Loyalty club", "First purchase",
    "Trail running", "Cycling", "Family outdoors", "Black Friday 2025", "Abandoned cart", "Skiing",
    "Climbing", "Footwear buyer", "Outerwear buyer", "Backpack buyer", "Discount hunter", "Summer sale 2026",
    "Winter sale 2025", "Christmas 2025", "Kids gear", "Lapsed customer", "Tent owner", "Snowboarding",
    "Kayaking", "VIP", "Survey respondent", "Reviewer", "Gift card buyer", "Sustainability fan",
    "Webinar attendee", "Store event Munich", "Store event Berlin", "Catalogue request", "Fishing",
    "Second-hand gear", "Referred a friend", "Win-back 2026", "Rental customer", "Repair service",
    "High value", "App beta", "Product tester", "Alpine club member", "Trade fair 2026", "B2B lead",
    "Wholesale", "Influencer", "Press contact",
)  # fmt: skip
TAG_COLOURS = ("#1f6f5c", "#2563eb", "#b45309", "#7c3aed", "#be123c", "#0f766e", "#4d7c0f", "#475569")
FALLBACK_NAMES = (  # used only where Faker is not installed (it ships with the dev extras)
    ("Anna", "Marie", "Sofia", "Emma", "Laura", "Julia", "Sarah", "Lena", "Olivia", "Grace"),
    ("Lukas", "Felix", "Jonas", "Paul", "David", "Max", "Leon", "Noah", "James", "Thomas"),
    ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Smith", "Brown", "Taylor"),
)
MARITAL = ("single", "partnered", "married", "divorced", "widowed")
# Cumulative odds of MARITAL by age band (18-24, 25-34, 35-49, 50-64, 65+).
MARITAL_ODDS: tuple[tuple[float, ...], ...] = (
    (0.80, 0.97, 0.995, 1, 1),
    (0.45, 0.72, 0.96, 0.995, 1),
    (0.22, 0.35, 0.83, 0.98, 1),
    (0.15, 0.24, 0.78, 0.95, 1),
    (0.08, 0.13, 0.67, 0.80, 1),
)
EDUCATION = ("primary", "secondary", "vocational", "bachelor", "master", "doctorate")
EDUCATION_ODDS = (0.03, 0.33, 0.63, 0.85, 0.98, 1)
INCOME = ("under_25k", "25k_50k", "50k_75k", "75k_100k", "100k_150k", "over_150k")
CONSENT_SOURCES = ("Checkout opt-in", "Newsletter form", "Store sign-up", "Competition entry")
# Street addresses, by country: how the street line is written ("{street} {number}" or
# "{number} {street}"), street names used only where Faker is not installed, and second lines.
STREET_FORMATS: dict[str, str] = {
    **dict.fromkeys(("DE", "AT", "CH", "NL"), "{street} {number}"),
    **dict.fromkeys(("FR", "GB", "US", "CA"), "{number} {street}"),
}
FALLBACK_STREETS: dict[str, tuple[str, ...]] = {
    "de": ("Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Lindenweg", "Bergstraße"),
    "fr": ("rue de la Paix", "avenue Victor Hugo", "rue des Lilas", "boulevard Voltaire", "rue Pasteur"),
    "nl": ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Julianalaan"),
    "en": ("High Street", "Station Road", "Church Lane", "Main Street", "Park Avenue", "Oak Drive"),
}
# A second line for about one address in eight; {n} is a small number, {letter} a letter.
SECOND_LINES: dict[str, tuple[str, ...]] = {
    "DE": ("Hinterhaus", "Seitenflügel", "{n}. OG", "Wohnung {n}", "Gartenhaus"),
    "AT": ("Top {n}", "Stiege {n}", "{n}. Stock"),
    "CH": ("{n}. Stock", "Wohnung {n}", "Postfach"),
    "NL": ("{n}e verdieping",),
    "FR": ("Appartement {n}", "Bâtiment {letter}", "Escalier {letter}", "Résidence les Tilleuls"),
    "GB": ("Flat {n}", "Flat {letter}", "Apartment {n}"),
    "US": ("Apt {n}", "Suite {n}0", "Unit {letter}"),
    "CA": ("Apt {n}", "Unit {n}", "Suite {n}0"),
}
