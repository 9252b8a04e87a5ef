"""Assemble report content from the records: data only, no drawing (the renderer draws).

Each builder returns the ReportContent and the ledger keys of every fact it shows, so the
sealed manifest can carry an inclusion proof for each of them.


One module per report: `version` (the dossier), `decision` and `annex_iv` (the EU AI Act
technical documentation); `common` holds what they share.
"""

from governance.reports.builder.annex_iv import annex_iv_report
from governance.reports.builder.common import Built
from governance.reports.builder.decision import decision_report
from governance.reports.builder.version import version_dossier

__all__ = ["Built", "annex_iv_report", "decision_report", "version_dossier"]
