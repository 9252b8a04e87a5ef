"""The witness's HTTP interface (tlog-witness): POST add-checkpoint, GET <origin hash>/checkpoint.

Plain Django views: the bodies are the spec's text formats, not JSON. There is no
authentication beyond the log's signature on the checkpoint, as the spec says.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from model_ledger_verify.tlog.witness import WitnessRefusal
from witness import services


@csrf_exempt
@require_POST
def add_checkpoint(request: HttpRequest) -> HttpResponse:
    try:
        line = services.checkpoint_add(body=request.body)
    except WitnessRefusal as refusal:
        body, content_type = refusal.body()
        return HttpResponse(body, status=refusal.status, content_type=content_type)
    return HttpResponse(line.encode("utf-8"), content_type="text/plain; charset=utf-8")


@require_safe
def checkpoint(request: HttpRequest, origin_hash: str) -> HttpResponse:
    note = services.witnessed_note(origin_hash)
    if note is None:
        return HttpResponse(
            b"no checkpoint cosigned for that origin\n", status=404, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(note.encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=5"
    return response
