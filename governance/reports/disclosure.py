"""What a report's attachments may disclose: no more than its pages.

evidence.json proves each fact by the exact bytes of the leaf that states it, and a leaf holds
more than the fact: its `actor` (who logged it) and every member of its `data`, names of staff
among them. The hash of a leaf cannot be checked without all of its bytes, so a leaf is either
carried whole or not at all. Per edition (docs/report-format.md, "Editions"; a version
dossier and an Annex IV report are authority editions):

- ``authority`` and ``internal`` name staff: every leaf is carried whole, and the pages list
  every person the carried leaves name that the sections do not already show;
- ``subject`` holds no third-party data: a leaf that names anyone is withheld: evidence.json
  carries its seq, hash and inclusion proof (the entry exists in the signed log, unchanged), not
  its bytes nor the facts it states, and the pages say so; those facts are proven in the
  authority edition, which carries the same leaf (same hash).

A person is anyone with an account (username or full name), a signer's printed name and a
reviewer named by a decision; a name counts as shown when the edition's report.json content
holds it, as a whole word.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from governance.models import Approval, Report
from governance.reports.content import Paragraph, ReportContent
from governance.reports.twin import twin_of

# The characters a username may hold (Django's validator) besides letters, digits and full stops:
# a name next to one of them is part of a longer name.
_WORD = r"\w@+\-"


@dataclass(frozen=True)
class Disclosure:
    """The seqs withheld from an edition's evidence, and the people its pages must name."""

    withheld: frozenset[int]
    named: tuple[str, ...]


def people(report: Report) -> set[str]:
    """Return every name of a person that a leaf cited by `report` may hold."""
    names: set[str] = set()
    for user in get_user_model().objects.all():
        names |= {user.get_username(), user.get_full_name().strip()}
    names |= set(Approval.objects.filter(version_id=report.version_id).values_list("signer_name", flat=True))
    if report.decision is not None:
        names.add(report.decision.reviewer)
    return {name for name in names if name and name.strip()}


def _holds(text: str, name: str) -> bool:
    # A full stop ends a sentence unless a name character follows it. The substring test first
    # spares the search for the many names a text does not hold.
    return name in text and re.search(rf"(?<![{_WORD}.]){re.escape(name)}(?![{_WORD}]|\.\w)", text) is not None


def named_in(text: str, names: Iterable[str]) -> set[str]:
    """Return the names of `names` that `text` (JSON) holds as whole words, as written or as a
    JSON string escapes them (a quote or a backslash in a name)."""
    return {name for name in names if _holds(text, name) or _holds(text, json.dumps(name, ensure_ascii=False)[1:-1])}


def shown_text(content: ReportContent) -> str:
    """Return everything the pages of `content` show, as one string (report.json's content)."""
    return json.dumps(twin_of(content), ensure_ascii=False)


def disclosure_plan(report: Report, content: ReportContent, leaves: dict[int, bytes]) -> Disclosure:
    """Return which of `leaves` (seq → exact leaf bytes) the edition withholds, and whom its
    pages must name so that its attachments disclose no more than its pages."""
    everyone = people(report)
    shown = named_in(shown_text(content), everyone)
    naming = {seq: named_in(leaf.decode("utf-8"), everyone) for seq, leaf in leaves.items()}
    if report.redaction == Report.Redaction.SUBJECT:
        withheld = frozenset(seq for seq, names in naming.items() if names - shown)
        return Disclosure(withheld, ())
    hidden = set().union(*naming.values()) - shown if naming else set()
    return Disclosure(frozenset(), tuple(sorted(hidden)))


def disclosed(content: ReportContent, plan: Disclosure) -> ReportContent:
    """Return `content` whose last section (the integrity appendix) says what `plan` withholds
    or names."""
    blocks = []
    if plan.named:
        blocks.append(
            Paragraph(
                "People named in the ledger entries embedded as evidence (evidence.json) besides those "
                f"shown above: {', '.join(plan.named)}."
            )
        )
    if plan.withheld:
        seqs = ", ".join(str(seq) for seq in sorted(plan.withheld))
        blocks.append(
            Paragraph(
                "Ledger entries withheld from this edition because they name staff or other people: "
                f"seq {seqs}. evidence.json carries the hash and inclusion proof of each, proving that the "
                "entry exists unchanged in the signed log, but not its content; what those entries state "
                "(the facts of sections 1 to 11 that they record) is proven in the authority edition, which "
                "carries the same entries whole (same seq, same leaf hash)."
            )
        )
    if not blocks:
        return content
    *before, appendix = content.sections
    appendix = dataclasses.replace(appendix, blocks=(*appendix.blocks, *blocks))
    return dataclasses.replace(content, sections=(*before, appendix))
