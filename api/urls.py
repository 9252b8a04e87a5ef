from django.urls import path

from api import ledger

app_name = "api"

urlpatterns = [
    path("ledger/checkpoint", ledger.CheckpointLatestView.as_view(), name="checkpoint-latest"),
    path("ledger/checkpoints", ledger.CheckpointListView.as_view(), name="checkpoint-list"),
    path("ledger/keys", ledger.KeyListView.as_view(), name="key-list"),
    path("ledger/entries", ledger.EntryRangeView.as_view(), name="entry-range"),
    path("ledger/entries/<int:seq>", ledger.EntryDetailView.as_view(), name="entry-detail"),
    path("ledger/proofs/inclusion", ledger.InclusionProofView.as_view(), name="proof-inclusion"),
    path(
        "ledger/proofs/consistency", ledger.ConsistencyProofView.as_view(), name="proof-consistency"
    ),
]
