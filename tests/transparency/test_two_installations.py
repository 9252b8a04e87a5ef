"""Two installations (two databases, two servers) witnessing each other, end to end.

Installation A is this test's live server on the test database; installation B is a second
process of the same service on its own SQLite database and port. Each runs a witness for the
other's log. Nothing is mocked: the witnesses, tiles and verifiers talk real HTTP.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ledger import services, witnessing
from model_ledger_verify import checkpoints, merkle, notes
from model_ledger_verify.client.cli import main as ledgerctl
from model_ledger_verify.tlog.cosign import Cosigner, cosignatures, generate_cosigner_key
from model_ledger_verify.tlog.witness import encode_add_checkpoint
from tests.ledger.helpers import fill

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
B_ORIGIN = "b.example/ledger"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (local test server)
        return response.read()


class InstallationB:
    """The second installation: its own keys, database and server process."""

    def __init__(self, tmp: Path, a_url: str, a_log_key: str, a_witness_key: str) -> None:
        log_key, witness_key = notes.generate_signer_key(B_ORIGIN), generate_cosigner_key("b.example/witness")
        self.log_signer = notes.Signer.from_string(log_key)
        self.witness = Cosigner.from_string(witness_key)
        (tmp / "log.key").write_text(log_key, encoding="utf-8")
        (tmp / "witness.key").write_text(witness_key, encoding="utf-8")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": "b-installation-secret-key-for-this-test-only",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"sqlite:///{tmp / 'b.sqlite3'}",
            "VAR_DIR": str(tmp / "var"),
            "LEDGER_ORIGIN": B_ORIGIN,
            "LEDGER_SIGNING_KEY_FILE": str(tmp / "log.key"),
            "LEDGER_PUBLIC_ENTRIES": "1",
            "LEDGER_WITNESSES": f"{a_url}/witness {a_witness_key}",
            "LEDGER_WITNESS_POLICY": "1",
            "WITNESS_SIGNING_KEY_FILE": str(tmp / "witness.key"),
            "WITNESS_LOGS": f"test.example/ledger={a_log_key}",
        }
        self.env.pop("CELERY_BROKER_URL", None)
        self.manage("migrate", "--no-input")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                _get(f"{self.url}/health")
                break
            except OSError:
                time.sleep(0.1)

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def grow_and_checkpoint(self, count: int, start: int = 0) -> str:
        code = (
            "from ledger import services\n"
            f"for n in range({start}, {start + count}):\n"
            "    services.submit(type='model.registered', actor='user:b', subject=f'model:b{n}',"
            " idempotency_key=f'b-{n}', data={'n': n})\n"
            "services.tree_integrate_all()\n"
        )
        self.manage("shell", "-c", code)
        return self.manage("ledger_checkpoint")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture
def a_witness(settings, tmp_path) -> Cosigner:
    key = generate_cosigner_key("test.example/witness")
    path = tmp_path / "a-witness.key"
    path.write_text(key, encoding="utf-8")
    settings.WITNESS_SIGNING_KEY_FILE = path
    return Cosigner.from_string(key)


@pytest.fixture
def a_log(signing_key_file) -> notes.Signer:
    return notes.Signer.from_string(signing_key_file.read_text())


@pytest.fixture
def b(live_server, tmp_path, settings, a_log, a_witness):
    installation = InstallationB(tmp_path, live_server.url, a_log.verifier_key(), a_witness.verifier().verifier_key())
    # A witnesses B's log, and asks B's witness to cosign its own.
    settings.WITNESS_LOGS = {B_ORIGIN: installation.log_signer.verifier_key()}
    settings.LEDGER_WITNESSES = [f"{installation.url}/witness {installation.witness.verifier().verifier_key()}"]
    settings.LEDGER_WITNESS_POLICY = 1
    settings.LEDGER_PUBLIC_ENTRIES = True
    yield installation
    installation.stop()


def test_two_installations_witness_each_other(live_server, b, a_log, a_witness, settings, capsys):
    a_tiles, b_tiles = f"{live_server.url}/tlog", f"{b.url}/tlog"
    b_wkey, a_wkey = b.witness.verifier().verifier_key(), a_witness.verifier().verifier_key()

    # A signs a checkpoint and B's witness cosigns it (the checkpoint task asks on its own too).
    fill(300, prefix="a")
    first = services.checkpoint_sign()
    assert witnessing.checkpoint_witness(first) in ({"b.example/witness": None}, {})
    published = _get(f"{a_tiles}/checkpoint").decode()
    [cosig] = cosignatures(published, [b.witness.verifier()])
    assert checkpoints.open_checkpoint(published, [a_log.verifier()]).size == first.size and cosig.timestamp > 0

    # B signs one and A's witness cosigns it.
    out = b.grow_and_checkpoint(40)
    assert "Witness test.example/witness: cosigned" in out
    assert cosignatures(_get(f"{b_tiles}/checkpoint").decode(), [a_witness.verifier()])

    # Each side audits the other from its tiles alone, with the witness policy.
    args = ["verify", "--tiles", a_tiles, "--key", a_log.verifier_key(), "--witness", b_wkey, "--min-witnesses", "1"]
    assert ledgerctl(args) == 0
    assert ledgerctl(["verify", "--tiles", b_tiles, "--key", b.log_signer.verifier_key(), "--witness", a_wkey]) == 0

    # Below the policy, verification fails: two witnesses required, one cosigned.
    stranger = Cosigner.from_string(generate_cosigner_key("stranger.example/w")).verifier().verifier_key()
    capsys.readouterr()
    below = ["verify", "--tiles", a_tiles, "--key", a_log.verifier_key(), "--witness", b_wkey, "--witness", stranger]
    assert ledgerctl([*below, "--min-witnesses", "2"]) == 1
    assert "the policy needs 2" in capsys.readouterr().err

    # B's witness is unreachable: A signs on, but keeps publishing the last witnessed checkpoint,
    # and the failure is visible.
    good = settings.LEDGER_WITNESSES
    settings.LEDGER_WITNESSES = [f"http://127.0.0.1:{_free_port()}/witness {b_wkey}"]
    fill(50, start=300, prefix="a")
    grown = services.checkpoint_sign()
    assert witnessing.checkpoint_witness(grown)["b.example/witness"].startswith("unreachable")
    assert checkpoints.open_checkpoint(_get(f"{a_tiles}/checkpoint"), [a_log.verifier()]).size == first.size
    [status] = witnessing.witness_statuses()
    assert status["behind"] == grown.size - first.size and status["last_error"].startswith("unreachable")
    listed = json.loads(_get(f"{live_server.url}/api/v1/ledger/witnesses"))
    assert listed["policy"] == 1 and listed["witnesses"][0]["failures"] >= 1
    settings.LEDGER_WITNESSES = good
    assert witnessing.checkpoint_witness(grown) == {"b.example/witness": None}
    assert checkpoints.open_checkpoint(_get(f"{a_tiles}/checkpoint"), [a_log.verifier()]).size == grown.size

    # B's witness refuses a fork signed with A's key, and keeps its view.
    forked = merkle.root([merkle.leaf_hash(b"rewritten history")] * 400)
    fork_note = checkpoints.sign_checkpoint(checkpoints.Checkpoint("test.example/ledger", 400, forked), a_log)
    body = encode_add_checkpoint(grown.size, [b"\x00" * 32] * 3, fork_note)
    request = urllib.request.Request(f"{b.url}/witness/add-checkpoint", data=body, method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 (local test server)
    assert refused.value.code == 422
    origin_hex = hashlib.sha256(b"test.example/ledger").hexdigest()
    view = _get(f"{b.url}/witness/{origin_hex}/checkpoint").decode()
    assert checkpoints.open_checkpoint(view, [a_log.verifier()]).size == grown.size


def test_a_monitor_follows_the_log_and_reports_a_split_view_with_both_notes(live_server, b, a_log, tmp_path, capsys):
    a_tiles = f"{live_server.url}/tlog"
    state = tmp_path / "monitor.json"
    b_wkey = b.witness.verifier().verifier_key()
    monitor = [
        "monitor-log",
        "--tiles",
        a_tiles,
        "--key",
        a_log.verifier_key(),
        "--state",
        str(state),
        "--witness",
        b_wkey,
    ]
    fill(260, prefix="a")
    first = services.checkpoint_sign()
    witnessing.checkpoint_witness(first)
    assert ledgerctl(monitor) == 0
    fill(30, start=260, prefix="a")
    second = services.checkpoint_sign()
    witnessing.checkpoint_witness(second)
    capsys.readouterr()
    assert ledgerctl([*monitor, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["size"] == second.size and report["previous_size"] == first.size
    assert report["entries_read"] == second.size - first.size

    # Someone was shown another log at that size, signed with the same key: a split view.
    other = checkpoints.sign_checkpoint(
        checkpoints.Checkpoint("test.example/ledger", second.size, b"\x07" * 32), a_log
    )
    seen = json.loads(state.read_text())
    seen["origins"]["test.example/ledger"]["checkpoints"][-1]["note"] = other
    seen["origins"]["test.example/ledger"]["checkpoints"][-1]["root"] = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
    state.write_text(json.dumps(seen))
    assert ledgerctl([*monitor, "--json"]) == 1
    evidence = json.loads(capsys.readouterr().out)["equivocation"]
    assert f"two different roots signed for size {second.size}" in evidence["reason"]
    assert evidence["seen"] == other and evidence["new"].startswith(f"test.example/ledger\n{second.size}\n")
