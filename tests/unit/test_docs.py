"""The rules and contracts the code cites live in the repository (docs/domain-rules.md, docs/contracts.md)."""
from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The team's brief and domain reference are not in the repository: citing them sends a reader nowhere.
OUTSIDE = re.compile(r"(?<![\w-])(design|domain)\.md\b")
REPLACEMENT = {"design": "docs/contracts.md", "domain": "docs/domain-rules.md (same section numbers)"}


SKIP = {".git", ".venv", ".run", "node_modules", "__pycache__", "dist", ".pytest_cache", ".hypothesis"}
SUFFIXES = {".py", ".sql", ".md", ".html", ".toml", ".yml", ".yaml", ".sh", ".txt", ".in", ".cfg"}


def _text_files() -> list[Path]:
    """The project's own source and documentation (not the virtualenv, installed packages or run data)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP]
        if Path(folder).name == "migrations":
            continue  # an applied migration is never edited (its checksum is checked), whatever it cites
        found += [Path(folder) / n for n in files if Path(n).suffix in SUFFIXES or n in {"Makefile", "Dockerfile"}]
    return found


def test_code_and_docs_cite_only_rules_that_live_in_the_repository():
    found = []
    for path in _text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for m in OUTSIDE.finditer(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: cites {m.group(0)}: cite {REPLACEMENT[m.group(1)]}")
    assert not found, "\n".join(found)


def test_the_cited_docs_exist_with_the_sections_the_code_cites():
    rules = (ROOT / "docs" / "domain-rules.md").read_text()
    for section in range(1, 7):
        assert re.search(rf"^## {section}\. ", rules, re.M), f"docs/domain-rules.md has no section {section}"
    routing = rules.split("## 5. ", 1)[1].split("## 6. ", 1)[0]
    for item in range(1, 10):  # "rule 5.1" .. "rule 5.9"
        assert re.search(rf"^{item}\. ", routing, re.M), f"docs/domain-rules.md section 5 has no rule {item}"
    assert (ROOT / "docs" / "contracts.md").is_file()
