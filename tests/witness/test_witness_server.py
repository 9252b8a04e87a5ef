"""Our tlog-witness: every status the spec assigns, the stored view, and the evidence it keeps."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from model_ledger_verify import checkpoints, merkle, notes
from model_ledger_verify.tlog.cosign import Cosigner, cosignatures, generate_cosigner_key
from model_ledger_verify.tlog.witness import encode_add_checkpoint
from witness.models import Refusal, WitnessedLog

ORIGIN = "other.example/log"


class Log:
    """Another firm's log, in memory: leaves, a signing key, signed checkpoints and proofs."""

    def __init__(self, origin: str = ORIGIN) -> None:
        self.signer = notes.Signer.from_string(notes.generate_signer_key(origin))
        self.origin = origin
        self.leaves = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(40)]

    def note(self, size: int, *, root: bytes | None = None) -> str:
        root = merkle.root(self.leaves[:size]) if root is None else root
        return checkpoints.sign_checkpoint(checkpoints.Checkpoint(self.origin, size, root), self.signer)

    def proof(self, size1: int, size2: int) -> list[bytes]:
        return merkle.consistency_proof(size1, self.leaves[:size2]) if size1 else []


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def cosigner(settings, tmp_path, log) -> Cosigner:
    path = tmp_path / "witness.key"
    path.write_text(generate_cosigner_key("witness.test/w1") + "\n")
    settings.WITNESS_SIGNING_KEY_FILE = path
    settings.WITNESS_LOGS = {log.origin: log.signer.verifier_key()}
    return Cosigner.from_string(path.read_text())


def _add(client: Client, old: int, proof: list[bytes], note: str):
    return client.post("/witness/add-checkpoint", encode_add_checkpoint(old, proof, note), content_type="text/plain")


def test_it_cosigns_a_first_checkpoint_and_then_each_consistent_extension(client, db, log, cosigner):
    response = _add(client, 0, [], log.note(10))
    assert response.status_code == 200
    line = response.content.decode()
    assert line.startswith("\u2014 witness.test/w1 ") and line.endswith("\n")
    [cosig] = cosignatures(log.note(10) + line, [cosigner.verifier()])
    assert cosig.timestamp > 0
    assert _add(client, 10, log.proof(10, 25), log.note(25)).status_code == 200
    assert _add(client, 25, [], log.note(25)).status_code == 200  # the same checkpoint again
    view = WitnessedLog.objects.get(origin=ORIGIN)
    assert view.size == 25 and bytes(view.root) == merkle.root(log.leaves[:25])


def test_it_answers_409_with_its_size_when_the_old_size_is_not_what_it_cosigned(client, db, log, cosigner):
    _add(client, 0, [], log.note(10))
    response = _add(client, 0, [], log.note(25))
    assert response.status_code == 409
    assert response["Content-Type"] == "text/x.tlog.size" and response.content == b"10\n"


def test_it_refuses_a_fork_and_keeps_it_as_evidence(client, db, log, cosigner):
    _add(client, 0, [], log.note(10))
    forked = [*log.leaves[:3], merkle.leaf_hash(b"rewritten"), *log.leaves[4:]]
    fork_note = log.note(25, root=merkle.root(forked[:25]))
    response = _add(client, 10, merkle.consistency_proof(10, forked[:25]), fork_note)
    assert response.status_code == 422
    assert WitnessedLog.objects.get(origin=ORIGIN).size == 10
    refusal = Refusal.objects.get()
    assert refusal.note == fork_note and refusal.witnessed_note.startswith(log.note(10).rstrip("\n"))


def test_it_refuses_a_second_root_for_the_size_it_cosigned(client, db, log, cosigner):
    _add(client, 0, [], log.note(10))
    assert _add(client, 10, [], log.note(10, root=b"\x01" * 32)).status_code == 422


@pytest.mark.parametrize(
    ("case", "status"),
    [("unknown origin", 404), ("wrong key", 403), ("old above size", 400), ("malformed", 400), ("proof from 0", 422)],
)
def test_it_answers_each_refusal_with_the_spec_status(client, db, log, cosigner, case, status):
    if case == "unknown origin":
        response = _add(client, 0, [], Log("stranger.example/log").note(3))
    elif case == "wrong key":
        impostor = Log()
        response = _add(client, 0, [], impostor.note(3))
    elif case == "old above size":
        response = _add(client, 9, [], log.note(3))
    elif case == "malformed":
        response = client.post(
            "/witness/add-checkpoint", b"old 01\n\n" + log.note(3).encode(), content_type="text/plain"
        )
    else:
        response = _add(client, 0, [b"\x00" * 32], log.note(3))
    assert response.status_code == status
    assert not WitnessedLog.objects.exists()


def test_a_service_that_is_no_witness_answers_404_unknown_origin_never_a_500(client, db, log, settings):
    settings.WITNESS_SIGNING_KEY_FILE = None
    settings.WITNESS_LOGS = {}
    response = _add(client, 0, [], log.note(3))
    assert (response.status_code, response.content) == (404, f"unknown log origin {ORIGIN!r}\n".encode())
    assert client.post("/witness/add-checkpoint", b"old 01\n\n", content_type="text/plain").status_code == 400
    assert not WitnessedLog.objects.exists()


def test_an_empty_tree_must_have_the_empty_root(client, db, log, cosigner):
    assert _add(client, 0, [], log.note(0, root=b"\x02" * 32)).status_code == 422
    assert _add(client, 0, [], log.note(0)).status_code == 200


def test_monitors_read_the_latest_cosigned_checkpoint_by_origin_hash(client, db, log, cosigner):
    origin_hex = hashlib.sha256(ORIGIN.encode()).hexdigest()
    assert client.get(f"/witness/{origin_hex}/checkpoint").status_code == 404
    line = _add(client, 0, [], log.note(7)).content.decode()
    response = client.get(f"/witness/{origin_hex}/checkpoint")
    assert response.status_code == 200 and response.content.decode() == log.note(7) + line
    checkpoints.open_checkpoint(response.content, [log.signer.verifier()], origin=ORIGIN)


def test_the_console_ledger_page_shows_each_witness_and_its_last_error(client, db, settings, cosigner):
    from django.contrib.auth.models import User

    from ledger import witnessing
    from ledger.models import WitnessStatus

    settings.LEDGER_WITNESSES = [f"http://127.0.0.1:9/witness {cosigner.verifier().verifier_key()}"]
    settings.LEDGER_WITNESS_POLICY = 1
    WitnessStatus.objects.create(
        name="witness.test/w1", url="http://127.0.0.1:9/witness", last_error="HTTP 422: fork", failures=3
    )
    assert witnessing.witness_statuses()[0]["failures"] == 3
    client.force_login(User.objects.create_user("auditor"))
    page = client.get("/ledger").content.decode()
    assert 'data-testid="witnesses"' in page and "witness.test/w1" in page and "HTTP 422: fork" in page
