"""A small typed client for the ledger's REST API (standard library only).

    from model_ledger_verify.client.api import LedgerClient
    ledger = LedgerClient.from_environment()          # LEDGER_URL, LEDGER_TOKEN
    ledger.register_dataset(name="train", uri="s3://…", sha256=root, size_bytes=n)
    ledger.gates("credit-risk", "2.1.0")

Every method returns the decoded JSON response. Errors raise ApiError (the server answered
with an error: `status`, `code`, `message`, per-field `errors`) or Unreachable (no answer).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TIMEOUT = 120.0


class ClientError(Exception):
    """Base of the client's errors."""


class Unreachable(ClientError):
    """The server could not be reached (wrong URL, down, network)."""


class NotConfigured(ClientError):
    """LEDGER_URL or LEDGER_TOKEN is missing."""


@dataclass
class ApiError(ClientError):
    """The server refused the request; `errors` lists the problems per field."""

    status: int
    code: str
    message: str
    errors: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self, item_ids: Sequence[Any] = ()) -> list[str]:
        """One line per failing gate, field, or kind of item error (`item_ids` names batch items)."""
        from model_ledger_verify.client.refusals import refusal_lines

        return refusal_lines(self.status, self.code, self.message, self.errors, item_ids)

    def as_json(self) -> str:
        return json.dumps({"status": self.status, "code": self.code, "message": self.message, "errors": self.errors})


class LedgerClient:
    """The ledger API for pipelines and auditors, authenticated with a Bearer token."""

    def __init__(self, url: str, token: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not url:
            raise NotConfigured("No server URL: set LEDGER_URL or pass --url.")
        if not token:
            raise NotConfigured("No API token: set LEDGER_TOKEN or pass --token (manage.py issue_token USER).")
        if not url.startswith(("http://", "https://")):
            raise NotConfigured(f"LEDGER_URL must be an http:// or https:// URL, not {url!r}.")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_environment(cls, url: str | None = None, token: str | None = None) -> LedgerClient:
        return cls(url or os.environ.get("LEDGER_URL", ""), token or os.environ.get("LEDGER_TOKEN", ""))

    # --- transport ---------------------------------------------------------------------------
    def request(
        self, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None, raw: bool = False
    ) -> Any:
        url = f"{self.url}/api/v1/{path.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 — only http(s) URLs are accepted above
            url,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if data is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 — http(s) URL from the user
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise _api_error(exc) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unreachable(f"Cannot reach {self.url}: {reason}") from None
        if raw:
            return payload
        return json.loads(payload) if payload else {}

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.request("POST", path, body=body if body is not None else {}, query=query)

    # --- registry ------------------------------------------------------------------------------
    def register_dataset(self, **fields: Any) -> dict:
        return self.post("datasets", fields)

    def register_version(self, model: str, **fields: Any) -> dict:
        return self.post(f"models/{model}/versions", fields)

    def submit_card(self, model: str, version: str, content: dict[str, str]) -> dict:
        return self.post(f"models/{model}/versions/{version}/cards", {"content": content})

    def post_ci_evidence(self, model: str, version: str, **fields: Any) -> dict:
        return self.post(f"models/{model}/versions/{version}/ci-evidence", fields)

    # --- gates and deployments ------------------------------------------------------------------
    def gates(self, model: str, version: str, environment: str = "production") -> dict:
        return self.get(f"models/{model}/versions/{version}/gates", environment=environment)

    def promote(self, model: str, version: str, environment: str, **fields: Any) -> dict:
        return self.post(f"models/{model}/deployments", {"version": version, "environment": environment, **fields})

    # --- decisions and monitoring ---------------------------------------------------------------
    def log_decisions(self, model: str, decisions: list[dict]) -> dict:
        return self.post(f"models/{model}/decisions", {"decisions": decisions})

    def post_observations(self, model: str, observations: list[dict]) -> dict:
        return self.post(f"models/{model}/observations", {"observations": observations})

    # --- reports ------------------------------------------------------------------------------
    def request_report(self, **fields: Any) -> dict:
        return self.post("reports", fields)

    def report(self, report_id: str) -> dict:
        return self.get(f"reports/{report_id}")

    def download_report(self, report_id: str) -> bytes:
        return self.request("GET", f"reports/{report_id}/download", raw=True)

    # --- tokens -------------------------------------------------------------------------------
    def revoke_token(self, token_id: str | None = None) -> dict:
        """Revoke the token this client uses (or, by `token_id`, another one the caller may)."""
        return self.post("tokens/revoke", {"token_id": token_id} if token_id else {})

    def ledger_keys(self) -> list[str]:
        return [key["verifier_key"] for key in self.get("ledger/keys")["keys"]]


def _api_error(exc: urllib.error.HTTPError) -> ApiError:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = body.get("message") or exc.reason or "request refused"
    if exc.code == 401:
        message = f"{message} Check LEDGER_TOKEN (expired or revoked tokens are refused)."
    return ApiError(exc.code, body.get("code", "error"), message, body.get("errors") or {})


def batched(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
