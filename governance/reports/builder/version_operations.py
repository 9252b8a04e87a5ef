"""The dossier's post-market monitoring (§3(a) 9) and usage (§3(a) 10) sections, from its facts."""

from __future__ import annotations

from typing import Any

from governance.reports.builder.common import _number
from governance.reports.content import Callout, KeyValues, LineChart, Section, Table

NONE = ("—",)


def _rows(rows: list[tuple[str, ...]], width: int) -> tuple[tuple[str, ...], ...]:
    return tuple(rows) or (NONE * width,)


def monitoring_section(f: dict[str, Any]) -> Section:
    m = f["monitoring"]
    p, r = m["policy"], m["retraining_policy"]
    blocks: list = []
    if p["expected_interval_minutes"] is None:
        blocks.append(Callout("No monitoring policy is declared for the model.", tone="error"))
    else:
        blocks.append(
            KeyValues(
                (
                    ("Observation interval", f"every {p['expected_interval_minutes']} minutes"),
                    ("Drift thresholds", f"PSI > {p['psi_threshold']} or KS > {p['ks_threshold']}"),
                    ("Minimum volume", str(p["min_volume"] or "—")),
                    ("Policy set", p["set"]),
                    (
                        "Retraining rules",
                        f"{r['drift_windows']} drifted windows; {r['accuracy']}; max age {r['max_age_days']} days; "
                        f"new data under {r['new_data_uri_prefix']}"
                        if r
                        else "none declared",
                    ),
                )
            )
        )
    blocks.append(
        Table(
            ("Series", "Name", "Windows", "Breaches", "Judged against", "Period"),
            _rows(
                [
                    (s["kind"], s["name"], str(s["windows"]), str(s["breaches"]), s["judged_against"], s["period"])
                    for s in m["series"]
                ],
                6,
            ),
            column_widths=(0.14, 0.14, 0.09, 0.09, 0.2, 0.34),
        )
    )
    limits = {"psi": _number(p["psi_threshold"] or "") if p["psi_threshold"] else None}
    floor = _number(r["accuracy"].split("≥")[-1]) if r and "≥" in r["accuracy"] else None
    for kind, chart in m["charts"].items():
        threshold = floor if chart["measure"] == "value" else limits["psi"]
        blocks.append(
            LineChart(
                f"{kind.replace('_', ' ')}: {chart['name']} ({chart['measure'].upper()}) per window",
                tuple(x for x, _ in chart["points"]),
                ((chart["name"], tuple(_number(y) or 0.0 for _, y in chart["points"])),),
                chart["measure"],
                (("threshold", threshold),) if threshold is not None else (),
            )
        )
    blocks.append(
        Table(
            ("Alert", "Kind", "State", "Opened (UTC)", "Summary", "Handling"),
            _rows(
                [
                    (str(a["id"]), a["kind"], a["state"], a["opened_at"], a["summary"], a["handling"])
                    for a in m["alerts"]
                ],
                6,
            ),
            column_widths=(0.06, 0.08, 0.11, 0.14, 0.26, 0.35),
        )
    )
    blocks.append(
        Table(
            ("Retraining request", "State", "Opened (UTC)", "Serving then", "Answered by", "Windows"),
            _rows(
                [
                    (q["rule"], q["state"], q["opened_at"], q["serving"], q["answered_by"], str(q["windows"]))
                    for q in m["retraining_requests"]
                ],
                6,
            ),
        )
    )
    return Section("9. Post-market monitoring", tuple(blocks))


def usage_section(f: dict[str, Any]) -> Section:
    u = f["usage"]
    if not u["decisions"]:
        return Section("10. Usage", (Callout("No decisions were logged with this version.", tone="warning"),))
    blocks: list = [
        KeyValues(
            (
                ("Decisions", f"{u['decisions']:,}"),
                ("Period", f"{u['first']} to {u['last']}"),
                ("Human reviewed", f"{u['human_reviewed']:,} ({u['human_reviewed_rate']})"),
                ("Override rate", f"{u['overridden']:,} overridden ({u['override_rate']})"),
            )
        ),
        Table(
            ("Outcome", "Model", "Model rate", "Final", "Final rate", "Overridden from"),
            tuple(
                (
                    o["outcome"],
                    str(o["model"]),
                    o["model_rate"],
                    str(o["final"]),
                    o["final_rate"],
                    str(o["overridden_from"]),
                )
                for o in u["outcomes"]
            ),
        ),
    ]
    if len(u["weekly"]) > 1:
        blocks.append(
            LineChart(
                "Decisions per week",
                tuple(w for w, _ in u["weekly"]),
                (("decisions", tuple(float(n) for _, n in u["weekly"])),),
                "decisions",
            )
        )
    return Section("10. Usage", tuple(blocks))
