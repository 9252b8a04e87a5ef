"""Counts from a JUnit XML test report, read with defusedxml (no entity expansion, no DTDs).

JUnit XML has no single standard; the common shape (Ant, Maven Surefire, pytest, Jest, Go's
go-junit-report) is a `testsuite` element, or `testsuites` holding several (possibly nested),
each with `testcase` children that may hold `failure`, `error` or `skipped`. Suites carry totals
as attributes `tests`, `failures`, `errors`, `skipped` (or `disabled`). We take, per innermost
suite, the larger of the attribute and the count of test cases, so that neither a stale total nor
a missing one hides a failure; a root `testsuites` with no suites inside counts by its attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

OUTCOMES = ("failures", "errors", "skipped")


class JUnitError(ValueError):
    """The report is not JUnit XML we can count."""


@dataclass(frozen=True)
class JUnitCounts:
    tests: int
    failures: int
    errors: int
    skipped: int

    @property
    def passed(self) -> bool:
        """True when at least one test ran and none failed or errored."""
        return self.tests > 0 and self.failures == 0 and self.errors == 0


def _attribute(element: Element, name: str) -> int:
    raw = element.get(name)
    if name == "skipped" and raw is None:
        raw = element.get("disabled")
    if raw is None or raw.strip() == "":
        return 0
    try:
        value = int(raw.strip())
    except ValueError:
        raise JUnitError(f"<{element.tag}> has a non-integer {name}={raw!r}.") from None
    if value < 0:
        raise JUnitError(f"<{element.tag}> has a negative {name}={raw!r}.")
    return value


def _suite_counts(suite: Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    counted = {
        "tests": len(cases),
        "failures": sum(1 for case in cases if case.find("failure") is not None),
        "errors": sum(1 for case in cases if case.find("error") is not None),
        "skipped": sum(1 for case in cases if case.find("skipped") is not None),
    }
    return {name: max(_attribute(suite, name), counted[name]) for name in ("tests", *OUTCOMES)}


def _innermost_suites(element: Element) -> list[Element]:
    children = element.findall("testsuite")
    if not children:
        return [element]
    return [suite for child in children for suite in _innermost_suites(child)]


def junit_counts(report: bytes) -> JUnitCounts:
    """Return the tests, failures, errors and skips in a JUnit XML report; raise JUnitError."""
    try:
        root = fromstring(report, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise JUnitError(f"The report uses a forbidden XML feature ({type(exc).__name__}).") from None
    except ParseError as exc:
        raise JUnitError(f"The report is not well-formed XML ({exc}).") from None
    if root.tag not in ("testsuite", "testsuites"):
        raise JUnitError(f"The report's root is <{root.tag}>, not <testsuite> or <testsuites>.")
    totals = dict.fromkeys(("tests", *OUTCOMES), 0)
    for suite in _innermost_suites(root):
        for name, value in _suite_counts(suite).items():
            totals[name] += value
    return JUnitCounts(**totals)
