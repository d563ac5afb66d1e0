"""Finding spec citations in a text: which principle ids are cited, which do not exist, and the
clause that says what the cited principle supposedly demands (to tell citations from miscitations)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..spec import load_spec

# "AS1", "AS 1", "AS-1", "GP4", "anti-scheming principle 3", "general principle 2", "principle AS0"
_ID = re.compile(
    r"\b(?P<prefix>AS|GP)\s?-?\s?(?P<num>\d{1,2})\b"
    r"|\b(?P<long>anti-?scheming|general)\s+principle\s+(?:no\.?\s*|#)?(?P<lnum>\d{1,2})\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.!?\n;]")


@dataclass(frozen=True)
class Citation:
    """One citation of a principle id.

    Args:
        id: Normalised id ("AS1").
        start: Character offset of the id in the text.
        end: End of the id.
        clause: The text from the id to the end of its clause (what the text says the principle says).
        exists: Whether the spec has this principle.
    """

    id: str
    start: int
    end: int
    clause: str
    exists: bool


def find_citations(text: str) -> list[Citation]:
    """Every principle id cited in the text, in order."""
    known = set(load_spec().ids)
    citations = []
    for match in _ID.finditer(text):
        if match["prefix"]:
            prefix, num = match["prefix"].upper(), int(match["num"])
        else:
            prefix, num = ("AS" if match["long"].lower().startswith("anti") else "GP"), int(match["lnum"])
        id = f"{prefix}{num}"
        # the clause around the id: from the previous clause boundary to the next one, so both
        # "AS1 forbids hiding it" and "hiding it is forbidden by AS1" carry their content
        before = text.rfind(".", 0, match.start())
        before = max(before, text.rfind("\n", 0, match.start()), text.rfind(";", 0, match.start()))
        after = _CLAUSE_END.search(text, match.end())
        clause = text[before + 1 : after.start() if after else len(text)].strip()
        citations.append(Citation(id, match.start(), match.end(), clause, id in known))
    return citations


def citation_details(citations: list[Citation], miscited: set[str]) -> dict[str, list[str]]:
    """The spec_citation details: cited, miscited and invented ids (each sorted, unique)."""
    cited = sorted({c.id for c in citations})
    return {
        "cited": cited,
        "miscited": sorted(miscited & {c.id for c in citations if c.exists}),
        "invented": sorted({c.id for c in citations if not c.exists}),
    }


def keyword_miscitations(citations: list[Citation]) -> set[str]:
    """Ids whose clause speaks of another principle's content and none of its own (lexical check)."""
    spec = load_spec()
    keywords = {p.id: [k.lower() for k in p.keywords] for p in spec.principles}
    miscited = set()
    for citation in citations:
        if not citation.exists:
            continue
        clause = re.sub(r"\b(AS|GP)\s?-?\s?\d{1,2}\b", " ", citation.clause, flags=re.IGNORECASE).lower()
        own = any(_has(clause, k) for k in keywords[citation.id])
        other = any(_has(clause, k) for id, ks in keywords.items() if id != citation.id for k in ks)
        if other and not own:
            miscited.add(citation.id)
    return miscited


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", text) is not None
