//! Prompts of the LLM steps, in our own words, asking for LightRAG's output formats exactly.
//! Fixed instructions and examples come first and the variable text last, so servers with
//! prefix caching reuse the common part across chunks.

/// Entity types LightRAG suggests by default (the model may also answer `Other`).
pub const DEFAULT_ENTITY_TYPES: &str =
    "Person, Creature, Organization, Location, Event, Concept, Method, Content, Data, Artifact, NaturalObject";

/// System prompt of extraction in text mode. Placeholders: `{tuple_delimiter}`,
/// `{completion_delimiter}`, `{entity_types_guidance}`, `{examples}`, `{language}`,
/// `{max_total_records}`, `{max_entity_records}`.
pub const EXTRACTION_SYSTEM: &str = "---Role---
You build a knowledge graph from text: you find the entities a passage names and the relationships between them.

---Output format---
Write one record per line and nothing else.
- Entity records have four fields: entity{tuple_delimiter}NAME{tuple_delimiter}TYPE{tuple_delimiter}DESCRIPTION
- Relationship records have five fields: relation{tuple_delimiter}SOURCE{tuple_delimiter}TARGET{tuple_delimiter}KEYWORDS{tuple_delimiter}DESCRIPTION
Write all entity records first, then all relationship records, then a last line holding only {completion_delimiter}.

---Rules---
1. Names: write a name the way the text writes it; where case does not matter, use title case, and always name the same entity the same way.
2. Types: pick one type from this list, or Other when none fits: {entity_types_guidance}.
3. Descriptions: describe each entity and relationship in the third person, from the text alone, with full names instead of pronouns.
4. Relationships are undirected; list each pair once, the most important first. Split a relationship among three or more entities into pairs. KEYWORDS are a few comma-separated words that say what kind of link it is.
5. Do not extract the headings or layout of the passage itself.
6. Write at most {max_total_records} records, at most {max_entity_records} of them entities.
7. Write descriptions in {language}; keep proper nouns in their original language.

---Examples---
{examples}";

/// The worked example of the text format (invented data).
pub const EXTRACTION_EXAMPLES: &str = "Text:
```
Harbor Lights, a shipping firm in Valmont, hired Teodor Brandt as its chief pilot in 2019. Brandt had trained at the Valmont Maritime School.
```
Output:
entity{tuple_delimiter}Harbor Lights{tuple_delimiter}Organization{tuple_delimiter}Harbor Lights is a shipping firm based in Valmont.
entity{tuple_delimiter}Valmont{tuple_delimiter}Location{tuple_delimiter}Valmont is the town where Harbor Lights and the Valmont Maritime School are.
entity{tuple_delimiter}Teodor Brandt{tuple_delimiter}Person{tuple_delimiter}Teodor Brandt became the chief pilot of Harbor Lights in 2019 after training at the Valmont Maritime School.
entity{tuple_delimiter}Valmont Maritime School{tuple_delimiter}Organization{tuple_delimiter}The Valmont Maritime School trained Teodor Brandt.
relation{tuple_delimiter}Harbor Lights{tuple_delimiter}Teodor Brandt{tuple_delimiter}employment, piloting{tuple_delimiter}Harbor Lights hired Teodor Brandt as its chief pilot in 2019.
relation{tuple_delimiter}Teodor Brandt{tuple_delimiter}Valmont Maritime School{tuple_delimiter}education, training{tuple_delimiter}Teodor Brandt trained at the Valmont Maritime School.
relation{tuple_delimiter}Harbor Lights{tuple_delimiter}Valmont{tuple_delimiter}location, headquarters{tuple_delimiter}Harbor Lights is based in Valmont.
{completion_delimiter}";

/// User prompt of extraction: `{language}`, `{max_total_records}`, `{input_text}` (last).
pub const EXTRACTION_USER: &str = "Extract the entities and relationships of the passage below, in the format above, with descriptions in {language} and at most {max_total_records} records. End with the completion line.

Passage:
```
{input_text}
```";

/// The gleaning turn: asks only for what the first answer missed or got malformed.
pub const EXTRACTION_CONTINUE: &str = "Some entities or relationships of the passage may be missing from your answer, or some lines may not follow the format. Write only the missing or corrected records, in the same format, then the completion line. Do not repeat records that were already correct.";

/// System prompt of extraction in JSON mode: `{entity_types_guidance}`, `{language}`,
/// `{max_total_records}`, `{max_entity_records}`.
pub const EXTRACTION_SYSTEM_JSON: &str = "---Role---
You build a knowledge graph from text: you find the entities a passage names and the relationships between them.

---Output format---
Reply with one JSON object and nothing else:
{\"entities\": [{\"name\": \"...\", \"type\": \"...\", \"description\": \"...\"}], \"relationships\": [{\"source\": \"...\", \"target\": \"...\", \"keywords\": \"...\", \"description\": \"...\"}]}

---Rules---
1. Names: write a name the way the text writes it; where case does not matter, use title case, and always name the same entity the same way.
2. Types: pick one type from this list, or Other when none fits: {entity_types_guidance}.
3. Descriptions: third person, from the text alone, full names instead of pronouns.
4. Relationships are undirected; list each pair once. keywords are a few comma-separated words.
5. At most {max_total_records} records in all, at most {max_entity_records} entities.
6. Write descriptions in {language}; keep proper nouns in their original language.";

/// User prompt of extraction in JSON mode: `{input_text}` last.
pub const EXTRACTION_USER_JSON: &str =
    "Extract the entities and relationships of this passage as the JSON object described above.

Passage:
```
{input_text}
```";

/// Summary of description fragments: `{description_type}`, `{description_name}`,
/// `{summary_length}`, `{language}`, `{description_list}` (last).
pub const SUMMARIZE_DESCRIPTIONS: &str = "---Task---
Merge the descriptions below of one {description_type}, {description_name}, into a single description.

---Rules---
- Write plain text in the third person, starting with the name of the subject.
- Keep every fact from the descriptions; drop repetitions; do not add anything.
- If the descriptions plainly concern different subjects that share the name, describe each one separately.
- Use at most {summary_length} tokens, in {language}.

---Descriptions---
{description_list}";

/// Keyword extraction for a query: `{language}`, `{query}` (last). Reply: LightRAG's JSON.
pub const KEYWORDS_EXTRACTION: &str = "---Role---
You pick search keywords out of a question for a retrieval system over a knowledge graph.

---Goal---
Give two lists:
- high_level_keywords: the broad themes or concepts the question is about;
- low_level_keywords: the specific entities, names, terms or details it mentions.

---Rules---
- Reply with one JSON object and nothing else, with exactly the keys \"high_level_keywords\" and \"low_level_keywords\", each a list of strings. No code fences.
- Take keywords from the question; prefer short phrases of a few words.
- A greeting or a meaningless question gets two empty lists.
- No duplicates. Write keywords in {language}.

Example:
Question: How did the opening of the Tessel Dam change salmon runs on the Vell River?
Answer: {\"high_level_keywords\": [\"dam impact\", \"fish migration\"], \"low_level_keywords\": [\"Tessel Dam\", \"salmon runs\", \"Vell River\"]}

---Question---
{query}";
