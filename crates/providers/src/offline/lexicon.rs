//! The word lists behind the heuristic: stopwords and sentence starters, honorifics and roles,
//! name connectors, abbreviations, type cue words, common first names and well-known places.
//!
//! Every list is lowercase and whitespace-separated; [`flags`] looks a lowercased word up once
//! and returns all the roles it plays, so the scanner does one hash lookup per token.

use std::collections::HashMap;
use std::sync::OnceLock;

/// English function words and common sentence starters: never a name on their own, and dropped
/// when they open a sentence.
pub const STOP: u32 = 1 << 0;
/// Months, weekdays and seasons: dates, not names (they also break a run of capitalised words).
pub const DATE: u32 = 1 << 1;
/// Titles in front of a person's name (dropped from the name, they mark a person).
pub const HONORIFIC: u32 = 1 << 2;
/// Lowercase name particles that may join two capitalised words ("Ludwig van Beethoven").
pub const PARTICLE: u32 = 1 << 3;
/// Abbreviations whose period never ends a sentence ("Dr.", "e.g.", "approx.").
pub const ABBREV: u32 = 1 << 4;
/// Abbreviations that may end a sentence ("Inc.", "Ltd.", "etc.").
pub const ABBREV_END: u32 = 1 << 5;
/// Cue words for an organization ("University", "Bank", "Inc").
pub const ORG: u32 = 1 << 6;
/// Cue words for a location ("River", "Lake", "Street").
pub const LOC: u32 = 1 << 7;
/// Cue words for an event ("War", "Summit", "Expedition").
pub const EVENT: u32 = 1 << 8;
/// Cue words for a method ("Method", "Algorithm", "Protocol").
pub const METHOD: u32 = 1 << 9;
/// Cue words for a concept ("Theory", "Act", "Principle").
pub const CONCEPT: u32 = 1 << 10;
/// Cue words for a piece of content ("Report", "Journal", "Atlas").
pub const CONTENT: u32 = 1 << 11;
/// Cue words for an artifact ("Telescope", "Satellite"; "RV", "HMS" ship prefixes).
pub const ARTIFACT: u32 = 1 << 12;
/// Cue words for data ("Dataset", "Database", "Census").
pub const DATA: u32 = 1 << 13;
/// Common first names: a capitalised two-word name starting with one is a person.
pub const FIRST_NAME: u32 = 1 << 14;
/// Continents, countries and large cities.
pub const PLACE: u32 = 1 << 15;
/// Prepositions that announce a place ("in X", "near X", "at X").
pub const PLACE_PREP: u32 = 1 << 16;
/// Words after which "of" continues a name ("Duke of", "Statue of"; every organization, event
/// and location cue word too).
pub const OF_HEAD: u32 = 1 << 17;
/// Roman numerals and similar all-capital words that are not names on their own.
pub const NOT_ACRONYM: u32 = 1 << 18;
/// Lowercase role nouns that introduce a person ("the geologist Tomas Berg").
pub const ROLE: u32 = 1 << 19;
/// Verbs that follow a person ("Berg said").
pub const PERSON_VERB: u32 = 1 << 20;

/// English function words, common sentence starters and generic heading words.
const STOPWORDS: &str = "\
    a an the this that these those it its it's i me my mine we us our ours you your yours he \
    him his she her hers they them their theirs one ones itself himself herself themselves \
    ourselves yourself who whom whose which what whatever whoever whichever each every either \
    neither some any all both few many much more most less least several such other others \
    another no none nor not own same everyone everything everybody someone something somebody \
    anyone anything anybody nobody nothing there here two three four five six seven eight nine \
    ten first second third fourth fifth last next half dozens hundreds thousands is are was \
    were be been being am has have had having do does did done will would shall should can \
    could may might must isn't aren't wasn't weren't don't doesn't didn't won't can't cannot \
    of to in on at by for from with within without into onto upon over under between among \
    amongst through throughout across around about above below against along alongside beyond \
    near nearby per via toward towards beside besides behind beneath inside outside past since \
    until till unlike like as and or but so yet if unless whether because although though \
    while whilst when whenever where wherever whereas why how than then once after before \
    during despite except following according including regarding concerning given instead \
    rather also still now today yesterday tomorrow tonight later earlier soon already always \
    never often sometimes usually rarely again ever only just even very too quite almost \
    nearly well however therefore thus hence meanwhile moreover furthermore nevertheless \
    nonetheless otherwise consequently accordingly additionally similarly likewise indeed \
    perhaps maybe probably possibly certainly clearly obviously finally eventually initially \
    originally recently currently previously subsequently ultimately overall generally \
    typically traditionally historically notably importantly specifically especially \
    particularly interestingly unfortunately fortunately today's together alone else ago yes \
    okay ok oh please thanks note see example examples summary introduction conclusion \
    overview background contents abstract appendix chapter section part table figure fig step \
    steps total new old early late key main based whereby let let's \
    eleven twelve twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
";

/// Months, weekdays and seasons.
const DATES: &str = "\
    january february march april may june july august september october november december jan \
    feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday \
    saturday sunday spring summer autumn winter
";

/// Titles in front of a name.
const HONORIFICS: &str = "\
    dr mr mrs ms mx miss prof professor sir dame capt captain lt lieutenant col colonel sgt \
    sergeant cmdr commander adm admiral rev reverend sen senator gov governor mayor president \
    chancellor judge rabbi imam pastor bishop king queen prince princess lord lady dean \
    director chairman chairwoman ceo minister secretary ambassador commissioner superintendent \
    inspector
";

/// Lowercase name particles.
const PARTICLES: &str = "\
    van von de der den del della di da du des dos ter ten la le bin ibn
";

/// Abbreviations whose period does not end a sentence.
const ABBREVS: &str = "\
    dr mr mrs ms mx prof capt lt col sgt cmdr adm rev sen gov rep hon gen st mt ft no nos fig \
    figs vol vols pp p vs cf e.g i.e approx ca c ed eds al dept est jan feb mar apr jun jul \
    aug sep sept oct nov dec a.m p.m mins min max avg ref op ch sec art
";

/// Abbreviations whose period may end a sentence.
const ABBREVS_END: &str = "\
    inc ltd corp co llc plc jr sr etc bros
";

/// Organization cue words.
const ORGS: &str = "\
    inc corp corporation company co ltd llc plc gmbh ag university college institute \
    institution agency bank council committee foundation ministry department association \
    society group laboratory laboratories lab labs center centre academy authority commission \
    board bureau office service services trust union federation party press hospital school \
    museum library observatory organization organisation club team navy army court parliament \
    senate government industries holdings technologies systems partners consortium cooperative \
    co-operative network enterprises fund alliance guild studio studios airlines railway \
    railways faculty secretariat directorate archive archives trading shipping works mills \
    brewery fisheries
";

/// Location cue words.
const LOCS: &str = "\
    city town village river mountain mountains mount mt lake lakes island islands isle county \
    province street road avenue square bay valley sea ocean gulf coast peninsula desert forest \
    park glacier fjord canyon hill hills basin delta strait straits harbour harbor port \
    district region plateau falls creek cape highlands lowlands plain plains reef marsh \
    wetlands estuary archipelago territory republic kingdom municipality shire borough heights \
    springs lagoon pass ridge station dam bridge gorge sound moor heath vale lane quay pier \
    islet peak
";

/// Event cue words.
const EVENTS: &str = "\
    war wars battle siege revolution uprising rebellion conference symposium festival olympics \
    games championship championships cup tournament expedition voyage treaty accord accords \
    pact crisis flood floods earthquake eruption storm hurricane election elections fair expo \
    exhibition strike massacre mission campaign convention ceremony marathon regatta disaster \
    famine workshop forum congress meeting talks negotiations summit
";

/// Method cue words.
const METHODS: &str = "\
    method methods algorithm technique protocol procedure process framework approach
";

/// Concept cue words.
const CONCEPTS: &str = "\
    theory law act principle theorem hypothesis effect paradox doctrine policy strategy index \
    scale equation standard
";

/// Content cue words.
const CONTENTS: &str = "\
    report journal book review atlas chronicle chronicles gazette magazine newspaper bulletin \
    proceedings manual handbook encyclopedia dictionary declaration charter manifesto diary \
    diaries letters memoir paper papers notes survey
";

/// Artifact cue words (and ship prefixes).
const ARTIFACTS: &str = "\
    telescope satellite vessel engine rover probe aircraft reactor device instrument sensor \
    buoy rv hms uss ship boat locomotive
";

/// Data cue words.
const DATAS: &str = "\
    dataset database corpus census register record records
";

/// Common first names (English, Nordic, German, French, Spanish, ...).
const FIRST_NAMES: &str = "\
    aaron adam adrian agnes ahmed aisha alan albert alex alexander alexandra alice alicia \
    amelia amir amy ana anders andrea andrew angela anita ann anna anne annika anton arne \
    arthur astrid axel barbara ben benjamin bernard birgit bjorn björn brian carl carla carlos \
    caroline catherine charles charlotte chen chris christian christina claire clara daniel \
    david diana dmitri ebba edvin edward elena elias elin elisabeth elizabeth ella elsa emil \
    emily emma erik erika eva felix frank freya frida georg george grace greta gunnar gustav \
    hannah hans harald harry helen helena henrik henry hilde hugo ida ilse ingrid isaac isabel \
    ivan ivar jack jacob james jan jane javier jean jens joan johan johanna john jonas jose \
    josef joseph julia kari karin karl katarina kate kenji kjell knut kristin lars laura lea \
    leif lena leo lin linnea lisa liv louis lucas lucy luis magnus maja mara marco margaret \
    maria marie mark marta martin mary mats matteo maya michael mikael nadia nils nina noah \
    nora ola olaf olav ole oliver olivia omar oscar oskar otto paul pedro per peter petra \
    pierre priya rachel rafael ravi richard robert rolf rosa ruth sam samuel sara sarah \
    sebastian sigrid simon sofia sophie stefan steven susan sven thomas tobias tom tomas tove \
    ulrich ursula victor viktor wei william yuki yusuf
";

/// Continents, countries and large cities.
const PLACES: &str = "\
    africa america amsterdam antarctica arctic argentina asia athens australia austria beijing \
    belgium bergen berlin boston brazil britain brussels cairo canada chicago chile china \
    colombia copenhagen croatia cuba delhi denmark dublin edinburgh egypt england estonia \
    ethiopia europe finland france geneva germany ghana greece greenland hamburg helsinki \
    hungary iceland india indonesia iran iraq ireland israel istanbul italy japan kenya korea \
    latvia lisbon lithuania london madrid mexico morocco moscow mumbai munich nairobi nepal \
    netherlands nigeria norway oceania oslo pakistan paris peru poland portugal prague \
    reykjavik romania rome russia scotland seoul shanghai spain stockholm sweden switzerland \
    sydney thailand tokyo toronto trondheim turkey ukraine uruguay vienna vietnam wales warsaw \
    washington zurich
";

/// Prepositions in front of a place.
const PLACE_PREPS: &str = "\
    in near at across outside around throughout
";

/// Words after which "of" continues a name (besides the cue words).
const OF_HEADS: &str = "\
    duke duchess earl count house statue order church cathedral book isle cape bay gulf sea \
    strait straits republic kingdom state states city port faculty school museum bank \
    university college institute ministry department council board battle siege treaty \
    declaration federation union academy society association commission committee office \
    bureau secretary minister prince queen king lord lady lake mount valley river province \
    county district band temple palace tower castle gate garden gardens hall library archive \
    archives chamber
";

/// All-caps words that are not acronyms on their own.
const NOT_ACRONYMS: &str = "\
    ii iii iv vi vii viii ix xi xii xiii xiv xv xvi xx ok am pm a.m. p.m. vs etc tbd faq eg ie
";

/// Role nouns in front of a person.
const ROLES: &str = "\
    activist actor actress ambassador architect artist assistant astronomer author banker \
    biologist botanist brother businessman businesswoman captain ceo chair chairman chairwoman \
    chemist climatologist coach colleague composer curator daughter deputy diplomat director \
    doctor ecologist economist editor engineer entrepreneur executive explorer farmer father \
    ferryman fisherman founder geographer geologist governor guide historian husband \
    hydrologist inventor journalist judge lawyer librarian manager mathematician mayor \
    merchant meteorologist minister mother nephew niece novelist nurse officer painter \
    philosopher photographer physicist pilot poet politician predecessor president priest \
    professor reporter researcher sailor schoolteacher scientist secretary senator shepherd \
    singer sister soldier son spokesman spokesperson spokeswoman student successor surgeon \
    surveyor teacher wife writer
";

/// Verbs after a person.
const PERSON_VERBS: &str = "\
    said says told wrote argued explained recalled noted insisted died recalls believes \
    believed remembered married resigned
";

fn table() -> &'static HashMap<&'static str, u32> {
    static TABLE: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let lists: [(&str, u32); 21] = [
            (STOPWORDS, STOP),
            (DATES, DATE),
            (HONORIFICS, HONORIFIC),
            (PARTICLES, PARTICLE),
            (ABBREVS, ABBREV),
            (ABBREVS_END, ABBREV_END),
            (ORGS, ORG),
            (LOCS, LOC),
            (EVENTS, EVENT),
            (METHODS, METHOD),
            (CONCEPTS, CONCEPT),
            (CONTENTS, CONTENT),
            (ARTIFACTS, ARTIFACT),
            (DATAS, DATA),
            (FIRST_NAMES, FIRST_NAME),
            (PLACES, PLACE),
            (PLACE_PREPS, PLACE_PREP),
            (OF_HEADS, OF_HEAD),
            (NOT_ACRONYMS, NOT_ACRONYM),
            (ROLES, ROLE),
            (PERSON_VERBS, PERSON_VERB),
        ];
        let mut map: HashMap<&'static str, u32> = HashMap::with_capacity(1500);
        for (words, flag) in lists {
            for w in words.split_whitespace() {
                *map.entry(w).or_insert(0) |= flag;
            }
        }
        for f in map.values_mut() {
            if *f & (ORG | EVENT | LOC) != 0 {
                *f |= OF_HEAD;
            }
        }
        map
    })
}

/// The roles of a word (pass it lowercased); 0 for an unknown word.
pub fn flags(lower: &str) -> u32 {
    table().get(lower).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lowercase() {
        for w in table().keys() {
            assert_eq!(*w, w.to_lowercase(), "{w}");
            assert!(!w.is_empty());
        }
    }

    #[test]
    fn lookups() {
        assert_ne!(flags("the") & STOP, 0);
        assert_ne!(flags("university") & ORG, 0);
        assert_ne!(flags("university") & OF_HEAD, 0);
        assert_ne!(flags("dr") & HONORIFIC, 0);
        assert_ne!(flags("dr") & ABBREV, 0);
        assert_ne!(flags("geologist") & ROLE, 0);
        assert_ne!(flags("mara") & FIRST_NAME, 0);
        assert_eq!(flags("zanzibarquux"), 0);
    }
}
