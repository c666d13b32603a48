"""Issue 19, against running services: 4xx not 500 for odd input, body-size limits refused early,
rate limits (429 with Retry-After), server-side sessions per service, CSRF bound to the session,
`no-store` on API answers and exports, internal endpoints kept off the public port in production, and
an audit row for a name search. Rate limits and production mode run on processes of their own."""
from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import asyncpg
import httpx
import jwt
import pytest

from tests.e2e.conftest import tenant_a_objects
from tests.infra import PORT_OFFSET, TEST_RUN

OWN_PORTS = iter(range(18120 + PORT_OFFSET, 18140 + PORT_OFFSET))
MB = 1024 * 1024


@pytest.fixture(scope="module")
async def person(urls, tokens):
    return await tenant_a_objects(urls, tokens)


def _keep_cookies(http: httpx.AsyncClient, response: httpx.Response) -> None:
    # The cookies are Secure; httpx keeps those for https only, so carry them by hand over loopback http.
    for name, value in response.cookies.items():
        http.cookies.set(name, value)


def _form_token(page: httpx.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


async def _signed_in(http: httpx.AsyncClient, form: dict, client: str | None = None) -> httpx.Response:
    """Dev sign-in through the form, as a browser does; returns the answer to the POST."""
    headers = {"X-Forwarded-For": client} if client else {}
    page = await http.get("/sign-in", headers=headers)
    _keep_cookies(http, page)
    r = await http.post("/sign-in", data={**form, "csrf_token": _form_token(page)}, headers=headers)
    _keep_cookies(http, r)
    return r


# --- item 2: errors that are the client's are 4xx ---------------------------------------------------

async def test_a_period_end_in_year_one_is_a_422_naming_the_field(http, urls, tokens):
    for path in ("/v1/exports/nccis.xml", "/v1/exports/nccis.csv"):
        r = await http.get(urls["la_tracker"] + path, params={"period_end": "0001-01-01"},
                           headers=tokens("la_staff", la="831"))
        assert r.status_code == 422, r.text[:200]
        assert r.json()["detail"][0]["field"] == "period_end"


async def test_a_signed_token_whose_la_claim_is_a_list_is_a_401(http, urls, settings):
    now = int(time.time())
    claims = {"sub": "x", "role": "la_staff", "la": ["831"], "iat": now, "exp": now + 60}
    full = {**claims, "iss": "onward", "aud": "onward:la_tracker"}
    for c in (claims, full):
        token = jwt.encode(c, settings.jwt_secret.get_secret_value(), algorithm="HS256")
        r = await http.get(urls["la_tracker"] + "/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, r.text[:200]


# --- item 3: body size ----------------------------------------------------------------------------

def _post_raw(port: int, path: str, headers: dict, body_chunks, token: str) -> tuple[int, int]:
    """POST over a plain socket, sending body chunks until the server answers or closes; returns the
    status and how many body bytes were sent before that."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {token}", **headers}
        sock.sendall((f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
                      + "\r\n").encode())
        for chunk in body_chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = b""
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    return int(answer.split(b" ", 2)[1]), sent


def _chunked(total: int, first: bytes = b"", piece: bytes = b" " * MB):
    for part in [first] * bool(first) + [piece] * (total // len(piece)):
        yield b"%x\r\n%s\r\n" % (len(part), part)


FILE_PART = b'--x\r\nContent-Disposition: form-data; name="file"; filename="leavers.csv"\r\nContent-Type: text/csv\r\n\r\n'


def test_a_body_over_the_limit_is_refused_by_its_length_before_it_is_sent(urls, tokens):
    port = int(urls["school_exit"].rsplit(":", 1)[1])
    token = tokens("school", laestab="8314001")["Authorization"].split()[1]
    for path, kind in (("/v1/leavers/batch", "application/json"),
                       ("/v1/leavers/import", "multipart/form-data; boundary=x")):
        status, sent = _post_raw(port, path, {"Content-Type": kind, "Content-Length": str(50 * MB)}, [], token)
        assert status == 413 and sent == 0


def test_a_streamed_body_is_refused_once_it_passes_the_limit_not_at_its_end(urls, tokens):
    port = int(urls["school_exit"].rsplit(":", 1)[1])
    token = tokens("school", laestab="8314001")["Authorization"].split()[1]
    headers = {"Transfer-Encoding": "chunked"}
    status, sent = _post_raw(port, "/v1/leavers/batch", {**headers, "Content-Type": "application/json"},
                             _chunked(64 * MB), token)
    assert status == 413 and sent < 32 * MB  # 8 MB limit; the rest is what socket buffers took
    status, sent = _post_raw(port, "/v1/leavers/import", {**headers, "Content-Type": "multipart/form-data; boundary=x"},
                             _chunked(100 * MB, FILE_PART), token)
    assert status == 413 and sent < 48 * MB  # 21 MB limit


# --- items 5 and 6: sessions and CSRF ---------------------------------------------------------------

async def test_signing_out_ends_the_session_on_the_server(urls):
    base = urls["la_tracker"]
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        r = await _signed_in(http, {"role": "la_staff", "scope": "831"})
        assert r.status_code == 303
        cookie = r.cookies["onward_la_tracker_session"]
        page = await http.get("/cases")
        assert page.status_code == 200
        r = await http.post("/sign-out", data={"csrf_token": _form_token(page)})
        assert r.status_code == 303
    async with httpx.AsyncClient(base_url=base, timeout=10) as thief:  # a copy of the cookie, kept after sign-out
        thief.cookies.set("onward_la_tracker_session", cookie)
        r = await thief.get("/cases", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/sign-in")


async def test_one_services_session_cookie_does_not_work_on_another(urls):
    async with httpx.AsyncClient(base_url=urls["la_tracker"], timeout=10) as http:
        r = await _signed_in(http, {"role": "admin"})
        assert r.status_code == 303
        cookie = r.cookies["onward_la_tracker_session"]
        assert (await http.get("/cases")).status_code == 200
    async with httpx.AsyncClient(base_url=urls["ncs_referral"], timeout=10) as http:
        http.cookies.set("onward_ncs_referral_session", cookie)
        r = await http.get("/referrals", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/sign-in")


async def test_a_planted_anonymous_csrf_nonce_and_its_token_do_not_pass_for_a_signed_in_user(urls):
    base = urls["la_tracker"]
    async with httpx.AsyncClient(base_url=base, timeout=10) as attacker:
        page = await attacker.get("/sign-in")  # an anonymous nonce and the token that goes with it
        planted_nonce, planted_token = page.cookies["onward_la_tracker_csrf"], _form_token(page)
    async with httpx.AsyncClient(base_url=base, timeout=10) as victim:
        assert (await _signed_in(victim, {"role": "la_staff", "scope": "831"})).status_code == 303
        victim.cookies.set("onward_la_tracker_csrf", planted_nonce)
        r = await victim.post("/sign-out", data={"csrf_token": planted_token})
        assert r.status_code == 403
        assert (await victim.get("/cases")).status_code == 200  # still signed in: nothing was done


# --- items 7 and 8: caching and the audit of a name search ------------------------------------------

async def test_api_answers_and_exports_are_not_stored_by_caches(http, urls, tokens, person):
    la = tokens("la_staff", la="831")
    for path in ("/v1/cases", f"/v1/cases/{person['case_id']}", "/v1/exports/nccis.xml?period_end=2026-06-30",
                 "/v1/exports/nccis.csv?period_end=2026-06-30"):
        r = await http.get(urls["la_tracker"] + path, headers=la)
        assert r.status_code == 200 and r.headers.get("cache-control") == "no-store", path
    r = await http.get(f"{urls['school_exit']}/v1/leavers/{person['leaver_id']}", headers=tokens("school", laestab="8314001"))
    assert r.status_code == 200 and r.headers.get("cache-control") == "no-store"


async def test_a_name_search_writes_an_audit_row(http, urls, tokens, databases, person):
    sub = f"searcher-{uuid.uuid4().hex[:8]}"
    r = await http.get(urls["la_tracker"] + "/v1/cases", params={"q": person["family_name"]},  # unique per leaver
                       headers=tokens("la_staff", la="831", sub=sub))
    assert r.status_code == 200 and person["case_id"] in [c["case_id"] for c in r.json()["items"]]
    conn = await asyncpg.connect(databases["la_tracker"])
    try:
        rows = await conn.fetch("select action, object_type, object_id from audit_log where actor_sub = $1", sub)
    finally:
        await conn.close()
    assert ("search", "case", person["case_id"]) in [tuple(r) for r in rows]


# --- items 4 and 7 on processes of their own ---------------------------------------------------------

@contextmanager
def own_api(infra, databases, env: dict, service: str = "la_tracker"):
    """One API process of `service` with `env`, on a port of its own; stopped afterwards."""
    port = next(OWN_PORTS)
    log = open(TEST_RUN / f"security-{service}-{port}.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "onward.cli", "serve", service, "api", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": databases[service], "KAFKA_BOOTSTRAP_SERVERS": infra.kafka, **env},
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"the {service} API exited; see {log.name}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the {service} API did not start; see {log.name}"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()


LOW_LIMITS = {"ONWARD_ENV": "development", "ONWARD_RATE_SIGN_IN_PER_CLIENT": "3", "ONWARD_RATE_SIGN_IN_PER_ACCOUNT": "3",
              "ONWARD_RATE_FAILED_TOKENS_PER_CLIENT": "3", "ONWARD_RATE_EXPORTS_PER_CLIENT": "3",
              "ONWARD_RATE_EXPORTS_PER_ACCOUNT": "3"}


@pytest.fixture(scope="module")
def limited(infra, databases):
    with own_api(infra, databases, LOW_LIMITS) as base:
        yield base


def _throttled(r: httpx.Response) -> bool:
    return r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60


async def test_failed_token_checks_are_limited_per_client(limited, tokens):
    async with httpx.AsyncClient(base_url=limited, timeout=10) as http:
        me, other = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}
        for _ in range(3):
            assert (await http.get("/v1/cases", headers={**me, "Authorization": "Bearer forged"})).status_code == 401
        assert _throttled(await http.get("/v1/cases", headers={**me, "Authorization": "Bearer forged"}))
        # The client is held back for the window, good token or not; another client is not.
        assert _throttled(await http.get("/v1/cases", headers={**me, **tokens("la_staff", la="831")}))
        assert (await http.get("/v1/cases", headers={**other, **tokens("la_staff", la="831")})).status_code == 200


async def test_sign_in_is_limited_per_client_and_per_account(limited):
    async with httpx.AsyncClient(base_url=limited, timeout=10) as http:
        for i in range(3):  # one client, three accounts
            assert (await _signed_in(http, {"role": "la_staff", "scope": "831", "name": f"n{i}"}, "203.0.113.10")
                    ).status_code == 303
        assert _throttled(await _signed_in(http, {"role": "la_staff", "scope": "831", "name": "n9"}, "203.0.113.10"))
        for i in range(3):  # one account, three clients
            assert (await _signed_in(http, {"role": "la_staff", "scope": "831", "name": "same"}, f"203.0.113.2{i}")
                    ).status_code == 303
        assert _throttled(await _signed_in(http, {"role": "la_staff", "scope": "831", "name": "same"}, "203.0.113.29"))


async def test_exports_are_limited_per_account_and_per_client(limited, tokens):
    path = "/v1/exports/nccis.csv?period_end=2026-06-30"
    async with httpx.AsyncClient(base_url=limited, timeout=30) as http:
        account = tokens("la_staff", la="831", sub=f"exporter-{uuid.uuid4().hex[:6]}")
        for i in range(3):
            assert (await http.get(path, headers={**account, "X-Forwarded-For": f"203.0.113.3{i}"})).status_code == 200
        assert _throttled(await http.get(path, headers={**account, "X-Forwarded-For": "203.0.113.39"}))
        for i in range(3):
            other = tokens("la_staff", la="831", sub=f"exporter-{i}-{uuid.uuid4().hex[:6]}")
            assert (await http.get(path, headers={**other, "X-Forwarded-For": "203.0.113.40"})).status_code == 200
        late = tokens("la_staff", la="831", sub=f"late-{uuid.uuid4().hex[:6]}")
        assert _throttled(await http.get(path, headers={**late, "X-Forwarded-For": "203.0.113.40"}))


# What production refuses to start without (it fails closed): long non-development secrets, no development
# sign-in, the LAs' NCCIS DatabaseIDs (la_tracker's API), GOV.UK Notify's key and templates (its worker);
# and the public address its links use.
PRODUCTION = {"ONWARD_ENV": "production", "ONWARD_JWT_SECRET": "j" * 48, "ONWARD_PERSON_KEY_SECRET": "p" * 48,
              "ONWARD_DEV_SIGN_IN": "false", "ONWARD_NCCIS_DATABASE_IDS": "831:123,873:456",
              "ONWARD_NOTIFY_API_KEY": "onward_test-" + str(uuid.UUID(int=1)) + "-" + str(uuid.UUID(int=2)),
              "ONWARD_NOTIFY_SMS_TEMPLATE_ID": str(uuid.UUID(int=3)),
              "ONWARD_NOTIFY_EMAIL_TEMPLATE_ID": str(uuid.UUID(int=4)),
              "ONWARD_PUBLIC_URL": "https://onward.example"}


def test_in_production_docs_and_metrics_answer_only_on_the_internal_port(infra, databases):
    internal = next(OWN_PORTS)
    with own_api(infra, databases, {**PRODUCTION, "ONWARD_INTERNAL_PORT": str(internal)}) as public:
        for path in ("/docs", "/openapi.json", "/metrics"):
            assert httpx.get(public + path, timeout=10).status_code == 404, path
            assert httpx.get(f"http://127.0.0.1:{internal}{path}", timeout=10).status_code == 200, path
        assert httpx.get(public + "/healthz", timeout=10).status_code == 200


def test_without_an_explicit_environment_a_service_will_not_listen_beyond_loopback(databases, infra):
    env = {k: v for k, v in os.environ.items() if k != "ONWARD_ENV"}
    r = subprocess.run([sys.executable, "-m", "onward.cli", "serve", "la_tracker", "api", "--host", "0.0.0.0",
                        "--port", str(next(OWN_PORTS))], env={**env, "DATABASE_URL": databases["la_tracker"]},
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "ONWARD_ENV" in r.stderr
