//! Word material of the fictional world the benchmark corpora are written in: syllables for
//! invented names, cue words the offline extractor types entities by, and lowercase filler.

/// First names the offline extractor knows, so "Mara Vellin" is typed `person`.
pub const FIRST_NAMES: &[&str] = &[
    "Aaron", "Adam", "Agnes", "Alan", "Albert", "Alice", "Amelia", "Anders", "Anna", "Annika",
    "Anton", "Arne", "Arthur", "Astrid", "Axel", "Birgit", "Carl", "Carla", "Caroline", "Clara",
    "Daniel", "Diana", "Ebba", "Edvin", "Elena", "Elias", "Elin", "Elsa", "Emil", "Emma", "Erik",
    "Eva", "Felix", "Freya", "Frida", "Georg", "Greta", "Gunnar", "Hannah", "Hans", "Harald",
    "Helena", "Henrik", "Hilde", "Hugo", "Ida", "Ingrid", "Isaac", "Ivar", "Jonas", "Johan",
    "Karin", "Karl", "Kjell", "Knut", "Lars", "Laura", "Leif", "Lena", "Linnea", "Liv", "Lucas",
    "Magnus", "Maja", "Mara", "Marta", "Mats", "Nadia", "Nils", "Nora", "Olav", "Oskar", "Otto",
    "Petra", "Rolf", "Rosa", "Ruth", "Sigrid", "Simon", "Sofia", "Sven", "Tobias", "Tomas", "Tove",
    "Ulrich", "Ursula", "Viktor", "Yusuf",
];

/// Name syllables: onset, vowel, coda.
pub const ONSETS: &[&str] = &[
    "b", "br", "d", "dr", "f", "g", "gr", "h", "k", "kr", "l", "m", "n", "p", "r", "s", "st", "t",
    "th", "tr", "v", "w", "sk", "fj", "",
];
pub const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "a", "e", "o", "ei", "y", "ae"];
pub const CODAS: &[&str] = &[
    "", "", "", "n", "r", "l", "s", "th", "nd", "rk", "m", "v", "rn", "ll", "st",
];
/// Endings of invented surnames and place names.
pub const SURNAME_ENDS: &[&str] = &[
    "", "", "", "son", "sen", "holm", "berg", "wick", "strand", "ling", "gaard", "ström", "ley",
];
pub const PLACE_ENDS: &[&str] = &[
    "", "", "mark", "vik", "stad", "moor", "fell", "by", "havn", "dal", "ness", "wold",
];

/// Organisation forms: `{}` is an invented word.
pub const ORG_FORMS: &[&str] = &[
    "{} Institute",
    "{} Trading Company",
    "{} Shipping Company",
    "{} Council",
    "{} Observatory",
    "{} Society",
    "{} Museum",
    "{} Railway",
    "{} Academy",
    "{} Fisheries",
    "{} Brewery",
    "{} Press",
    "University of {}",
    "Bank of {}",
    "Guild of {} Weavers",
    "{} Salt Works",
];

/// Place forms.
pub const PLACE_FORMS: &[&str] = &[
    "{}",
    "{}",
    "{} River",
    "Lake {}",
    "{} Valley",
    "Port {}",
    "Mount {}",
    "{} Bay",
    "{} Island",
    "{} Pass",
    "{} Harbour",
    "Cape {}",
];

/// Event forms.
pub const EVENT_FORMS: &[&str] = &[
    "{} Expedition",
    "Treaty of {}",
    "Battle of {}",
    "{} Summit",
    "{} Conference",
    "{} Uprising",
    "{} Festival",
    "Siege of {}",
    "{} Flood",
    "{} Accord",
    "{} Regatta",
    "{} Famine",
];

/// Lowercase role nouns the extractor reads as "a person follows".
pub const ROLES: &[&str] = &[
    "geologist",
    "historian",
    "merchant",
    "surveyor",
    "engineer",
    "banker",
    "cartographer",
    "hydrologist",
    "journalist",
    "diplomat",
    "astronomer",
    "botanist",
    "sailor",
    "lawyer",
    "teacher",
    "physician",
    "architect",
    "printer",
    "brewer",
    "captain",
];

/// Subjects people argue and write about.
pub const TOPICS: &[&str] = &[
    "salt trade",
    "river tolls",
    "grain prices",
    "ferry licences",
    "tidal charts",
    "wool exports",
    "glass making",
    "copper mining",
    "harbour dredging",
    "weather records",
    "herring catches",
    "timber rights",
    "road building",
    "postal routes",
    "printing presses",
    "land surveys",
    "water mills",
    "lighthouse keeping",
    "bridge repairs",
    "peat cutting",
    "ice harvesting",
    "coin minting",
    "ship insurance",
    "orchard grafting",
    "school reform",
    "canal locks",
    "sheep breeding",
    "census taking",
    "tax collection",
    "star catalogues",
    "flood defences",
    "dye works",
    "rope making",
    "steam engines",
    "telegraph lines",
    "coal shipments",
    "wine imports",
    "forest management",
    "map printing",
    "public baths",
];

pub const ADJECTIVES: &[&str] = &[
    "harsh",
    "quiet",
    "prosperous",
    "uncertain",
    "bitter",
    "generous",
    "crowded",
    "remote",
    "stubborn",
    "careful",
    "ambitious",
    "forgotten",
    "long",
    "dry",
    "wet",
    "costly",
    "modest",
    "sudden",
    "patient",
    "fragile",
    "steady",
    "restless",
    "narrow",
    "open",
    "cold",
    "mild",
];

/// Things that can be bought, built, mapped or kept open.
pub const NOUNS: &[&str] = &[
    "warehouse",
    "ledger",
    "bridge",
    "ferry",
    "tollhouse",
    "granary",
    "lighthouse",
    "mill",
    "printing house",
    "harbour wall",
    "archive",
    "market hall",
    "brewery",
    "customs house",
    "boathouse",
    "chapel",
    "schoolhouse",
    "rope walk",
    "salt store",
    "signal tower",
];

/// Things that happen to a town.
pub const HAPPENINGS: &[&str] = &[
    "harvest",
    "winter",
    "storm",
    "shortage",
    "quarrel",
    "drought",
    "flood",
    "fire",
    "strike",
    "epidemic",
    "price collapse",
    "boundary dispute",
    "bank run",
    "census",
    "land sale",
];

pub const VERBS_PAST: &[&str] = &[
    "financed",
    "opposed",
    "described",
    "praised",
    "challenged",
    "funded",
    "supported",
    "criticised",
    "negotiated over",
    "wrote about",
    "investigated",
    "defended",
];

/// Sentence templates. Slots: {P} {P2} person, {O} {O2} organisation, {L} {L2} place,
/// {E} event, {Y} {Y2} year, {N} number, {R} role, {T} {T2} topic, {A} {A2} adjective,
/// {X} {X2} thing, {H} happening, {V} past verb.
pub const TEMPLATES: &[&str] = &[
    "In {Y}, {P} joined the {O} as a junior {R}, working mostly on {T}.",
    "{P} and {P2} first met at the {E}, where they argued for hours about {T}.",
    "The {O} opened a small office in {L} after the {E} had disrupted {T} along the coast.",
    "According to {P}, the {O} had underestimated how {A} the winters in {L} could be.",
    "The records kept by the {O} show that {N} families left {L} between {Y} and {Y2}.",
    "{P} later wrote that the {E} changed the way people in {L} thought about {T}.",
    "Few people in {L} trusted the {O}, whose agents had quietly bought up the {X}.",
    "During the {E}, the {R} {P} kept a diary that describes a {A} {H} and the {A2} {X2}.",
    "The road from {L} to {L2} was rebuilt by the {O} in {Y}.",
    "{P} was born in {L} and studied {T} at the {O}.",
    "The {O} {V} the {E}, although {P} warned that it would ruin the {X}.",
    "When the {H} came in {Y}, {P} borrowed money from the {O} to keep the {X} open.",
    "{P} {V} the {O} for years, and the quarrel is still remembered in {L}.",
    "A letter from {P} to {P2} mentions the {E} and the cost of {T} in {L}.",
    "The {R} {P} mapped the coast between {L} and {L2} for the {O}.",
    "After the {E}, the {O} and the {O2} agreed to share their records on {T}.",
    "To this day, visitors to {L} ask about the {E} and about {P}, who led it.",
    "{P} argued before the {O} that {T} mattered more than {T2}.",
    "The {O2} bought the old {X} in {L} in {Y} and turned it into a {X2}.",
    "Nobody in {L} agreed on what had caused the {H} of {Y}.",
    "{P} spent the {A} summer of {Y} in {L}, writing about {T}.",
    "The {E} ended with a {A} compromise that {P} never accepted.",
    "It was {P2} who persuaded the {O} to invest in {T} at {L}.",
    "The old maps of the {O} place the {X} of {L} much closer to {L2}.",
];

/// Sentences that name nobody, to give the prose some air.
pub const FILLERS: &[&str] = &[
    "The {H} was {A} that year, and the cost of {T} rose by {N} percent.",
    "Most of the {X} records from that time are lost.",
    "Some of the letters are {A}, others are little more than lists of {T}.",
    "It took {N} days to reach the {X} by cart, longer in a {A} spring.",
    "What followed was a {A} decade for {T}.",
    "The surviving accounts disagree about the {H}, but all of them mention {T}.",
];
