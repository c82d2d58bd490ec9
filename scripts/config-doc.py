#!/usr/bin/env python3
"""Regenerates the key table of docs/configuration.md from the crates' tables of settings
(`settings_table!` in each crate's keys.rs; a unit test in each crate checks that its keys are
documented)."""
import re, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
# Each crate's table of the keys it reads, in this order.
TABLES = [
    "crates/core/src/config/keys.rs",
    "crates/server/src/keys.rs",
    "crates/storage/src/keys.rs",
    "crates/orchestrator/src/keys.rs",
]
rows = []
for path in TABLES:
    f = root / path
    if not f.exists():
        continue
    src = f.read_text()
    block = src[src.index("settings_table! {"):]
    rows += re.findall(r'"([A-Z_0-9]+)" = "((?:[^"\\]|\\.)*)" : "((?:[^"\\]|\\.)*)"', block)
table = ["| key | default | meaning |", "|---|---|---|"]
for key, default, meaning in rows:
    default = default.replace("\\\\", "\\")
    shown = "`" + default + "`" if default else "(empty)"
    table.append("| `" + key + "` | " + shown + " | " + meaning.replace("|", "\\|") + " |")
doc_path = root / "docs/configuration.md"
doc = doc_path.read_text()
start = doc.index("| key | default | meaning |")
end = doc.index("\n\n", start)
doc_path.write_text(doc[:start] + "\n".join(table) + doc[end:])
print(f"{len(rows)} keys")
