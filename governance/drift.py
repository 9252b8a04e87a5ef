"""Drift statistics from binned distributions: PSI and the two-sample KS statistic.

Pure functions (no Django, no floats): counts in, decimal strings out, computed with `decimal`
so the same bins give the same digits on every machine and the results can enter ledger leaves.

Given reference counts r_1..r_n and live counts l_1..l_n over the same n bins, with
p_i = r_i / Σr and q_i = l_i / Σl:

- Population Stability Index: PSI = Σ_i (q_i - p_i) · ln(q_i / p_i).
  An empty bin would make ln undefined, so a proportion of 0 is replaced by EPSILON = 0.0001
  (a floor of one in ten thousand, the usual choice; the other proportions are not rescaled).
  Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift.
- Kolmogorov-Smirnov: D = max_k |P_k - Q_k|, where P_k = p_1 + … + p_k and Q_k likewise, the
  two empirical CDFs at the bin edges. Computed exactly with fractions. On binned data this is
  the KS statistic of the binned samples, a lower bound of the statistic on the raw values.

Results are rounded half-even to PLACES decimal places.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

EPSILON = Decimal("0.0001")
PLACES = 6
MAX_BINS = 1_000
# Ample precision for sums of up to MAX_BINS terms rounded to six places.
_CONTEXT = Context(prec=40)
_QUANTUM = Decimal(1).scaleb(-PLACES)


class BinsError(ValueError):
    """The bins cannot be compared; the message says why."""


def _check(reference: Sequence[int], live: Sequence[int]) -> None:
    for name, counts in (("reference", reference), ("live", live)):
        if not isinstance(counts, list | tuple) or not 2 <= len(counts) <= MAX_BINS:
            raise BinsError(f"{name} must be a list of 2 to {MAX_BINS} counts.")
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise BinsError(f"{name} counts must be non-negative integers.")
        if sum(counts) == 0:
            raise BinsError(f"{name} counts are all zero.")
    if len(reference) != len(live):
        raise BinsError("reference and live must have the same number of bins.")


def _rounded(value: Decimal) -> str:
    result = value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN, context=_CONTEXT)
    if result.is_zero():
        result = abs(result)  # never "-0.000000"
    return str(result)


def psi(reference: Sequence[int], live: Sequence[int]) -> str:
    """Return the Population Stability Index of `live` against `reference` as a decimal string.

    Raise BinsError when the bins are malformed.
    """
    _check(reference, live)
    ref_total, live_total = Decimal(sum(reference)), Decimal(sum(live))
    total = Decimal(0)
    for r, q_count in zip(reference, live, strict=True):
        p = _CONTEXT.divide(Decimal(r), ref_total) or EPSILON
        q = _CONTEXT.divide(Decimal(q_count), live_total) or EPSILON
        total = _CONTEXT.add(total, _CONTEXT.multiply(q - p, _CONTEXT.ln(_CONTEXT.divide(q, p))))
    return _rounded(total)


def ks(reference: Sequence[int], live: Sequence[int]) -> str:
    """Return the two-sample Kolmogorov-Smirnov statistic of the binned samples.

    Raise BinsError when the bins are malformed.
    """
    _check(reference, live)
    ref_total, live_total = sum(reference), sum(live)
    ref_cdf = live_cdf = Fraction(0)
    largest = Fraction(0)
    for r, q_count in zip(reference, live, strict=True):
        ref_cdf += Fraction(r, ref_total)
        live_cdf += Fraction(q_count, live_total)
        largest = max(largest, abs(ref_cdf - live_cdf))
    return _rounded(_CONTEXT.divide(Decimal(largest.numerator), Decimal(largest.denominator)))
