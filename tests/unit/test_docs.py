"""The rules and contracts the code cites live in the repository (docs/domain-rules.md, docs/contracts.md)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The team's brief and domain reference are not in the repository: citing them sends a reader nowhere.
OUTSIDE = re.compile(r"(?<![\w-])(design|domain)\.md\b")
REPLACEMENT = {"design": "docs/contracts.md", "domain": "docs/domain-rules.md (same section numbers)"}


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    paths = [ROOT / n.decode() for n in names if n]
    return [p for p in paths if p.suffix in {".py", ".sql", ".md", ".html", ".toml", ".yml", ".yaml", ".sh", ".txt"}
            or p.name in {"Makefile", "Dockerfile"}]


def test_code_and_docs_cite_only_rules_that_live_in_the_repository():
    found = []
    for path in _tracked_text_files():
        if not path.is_file():
            continue
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
