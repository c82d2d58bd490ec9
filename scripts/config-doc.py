#!/usr/bin/env python3
"""Regenerates the key table of docs/configuration.md from the KEYS table in
crates/core/src/config/keys.rs (a unit test checks that every key is documented)."""
import re, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "crates/core/src/config/keys.rs").read_text()
block = src[src.index("keys! {"):]
block = block[: block.index("\n}\n")]
rows = re.findall(r'"([A-Z_0-9]+)" = "((?:[^"\\]|\\.)*)" : "((?:[^"\\]|\\.)*)"', block)
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
