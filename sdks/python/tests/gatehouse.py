"""A real Gatehouse for the tests: the binary of this repository (built once, or
$GATEHOUSE_BIN), a fresh data directory, a free loopback port kept across restarts, the CLI on
the same database, and a person at a browser played over HTTP (sign-in on /login, the consent
page) so that real OAuth tokens come out of the authorization-code flow."""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

REPO_ROOT = Path(__file__).resolve().parents[3]
REDIRECT = "http://127.0.0.1:53682/callback"  # never listened on: the redirect is read, not followed


def gatehouse_bin(workdir: Path) -> str:
    preset = os.environ.get("GATEHOUSE_BIN")
    if preset and os.access(preset, os.X_OK):
        return preset
    if not (REPO_ROOT / "cmd" / "gatehouse").is_dir():
        raise RuntimeError("not inside the Gatehouse repository and no $GATEHOUSE_BIN")
    out = workdir / "gatehouse"
    subprocess.run(["go", "build", "-o", str(out), "./cmd/gatehouse"], cwd=REPO_ROOT, check=True)
    return str(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gatehouse:
    def __init__(self, binary: str, workdir: Path, **extra_env: str) -> None:
        self.bin = binary
        self.data = Path(tempfile.mkdtemp(prefix="gatehouse-pykit-", dir=workdir))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "GATEHOUSE_DATA_DIR": str(self.data),
            "GATEHOUSE_ADDR": f"127.0.0.1:{port}",
            "GATEHOUSE_PUBLIC_URL": self.url,
            "GATEHOUSE_RATE_LIMITS": "off",
            "GATEHOUSE_HASH_MAX_WAIT": "10s",
            **extra_env,
        }
        self.proc: subprocess.Popen[str] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.cli("migrate")
        self.cli("users", "create", "--email", "admin@example.com", "--password", "admin password 123", "--role", "admin")
        self.admin_key = last_line(self.cli("keys", "create", "--email", "admin@example.com", "--scope", "admin"))
        self.start()

    def cli(self, *args: str) -> str:
        r = subprocess.run([self.bin, *args], env=self.env, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"gatehouse {' '.join(args)}: exit {r.returncode}\n{r.stderr}")
        return r.stdout

    def start(self) -> None:
        self.proc = subprocess.Popen([self.bin, "serve"], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # a blocking read: no polling, no sleep
            if line.startswith("gatehouse listening on "):
                break
        else:
            raise RuntimeError(f"gatehouse exited with {self.proc.wait()} before listening")
        # Keep draining stdout so that the server never blocks on a full pipe.
        threading.Thread(target=lambda out: [None for _ in out], args=(self.proc.stdout,), daemon=True).start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self.http.close()
        shutil.rmtree(self.data, ignore_errors=True)

    # ---- API ----------------------------------------------------------------------------

    def admin(self, method: str, path: str, body: object | None = None) -> httpx.Response:
        return self.http.request(method, path, json=body, headers={"X-API-Key": self.admin_key})

    def add_resource(self, uri: str, *scopes: str) -> None:
        r = self.admin("POST", "/api/v1/admin/oauth/resources", {"uri": uri, "name": f"pykit {uri}", "scopes": list(scopes)})
        assert r.status_code == 201, r.text

    def register(self, label: str) -> dict:
        email = f"{label}-{secrets.token_hex(4)}@example.com"
        password = "correct horse battery staple"
        r = self.http.post("/api/v1/auth/register", json={"email": email, "password": password, "name": "Py Kit"})
        assert r.status_code == 201, r.text
        body = r.json()
        return {"id": body["user"]["id"], "email": email, "password": password, "access_token": body["access_token"]}

    def api_key(self, email: str, *scopes: str) -> str:
        args = ["keys", "create", "--email", email, "--name", "pykit"]
        for s in scopes:
            args += ["--scope", s]
        return last_line(self.cli(*args))

    def revoke_session(self, user: dict, sid: str) -> None:
        """Revoke a session through the running server (the CLI's revocations reach a running
        server only when its principal cache expires)."""
        r = self.http.delete(f"/api/v1/users/me/sessions/{sid}", headers={"Authorization": f"Bearer {user['access_token']}"})
        assert r.status_code in (200, 204), r.text

    def revoke_api_key(self, user: dict, key_id: str) -> None:
        r = self.http.delete(f"/api/v1/api-keys/{key_id}", headers={"Authorization": f"Bearer {user['access_token']}"})
        assert r.status_code in (200, 204), r.text

    def oauth_tokens(self, user: dict, resource: str, scope: str) -> dict:
        """The whole authorization-code flow of a public client: dynamic registration, PKCE
        S256, the resource indicator, the user signing in and approving, the code exchange."""
        reg = self.http.post("/oauth2/register", json={
            "client_name": "Python kit tests", "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_method": "none"})
        assert reg.status_code == 201, reg.text
        client_id = reg.json()["client_id"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        url = self.url + "/oauth2/authorize?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": scope,
            "state": state, "code_challenge": challenge, "code_challenge_method": "S256", "resource": resource})
        back = OAuthUser(self.url, user["email"], user["password"]).authorize(url)
        q = parse_qs(urlsplit(back).query)
        assert back.startswith(REDIRECT), back
        assert q.get("state") == [state] and "code" in q, back
        tok = self.http.post("/oauth2/token", data={
            "grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": REDIRECT,
            "client_id": client_id, "code_verifier": verifier, "resource": resource})
        assert tok.status_code == 200, tok.text
        return {**tok.json(), "client_id": client_id}


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1].strip()


_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.I | re.S)
_FIELD = re.compile(r"<(input|button)\b([^>]*)>", re.I)
_ATTR = re.compile(r"""([a-z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)


def _attrs(s: str) -> dict[str, str]:
    return {m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "") for m in _ATTR.finditer(s)}


class OAuthUser:
    """A person at a browser without JavaScript: opens an authorization URL, signs in on
    Gatehouse's /login when asked, approves (or denies) on the consent page, and returns the
    URL Gatehouse finally sends the browser to outside its own origin, without following it."""

    def __init__(self, gatehouse_url: str, email: str, password: str, decision: str = "allow") -> None:
        u = urlsplit(gatehouse_url)
        self.origin = f"{u.scheme}://{u.netloc}"
        self.email, self.password, self.decision = email, password, decision
        self.cookies: dict[str, str] = {}
        self.pages: list[str] = []

    def authorize(self, url: str) -> str:
        method, target, form = "GET", url, None
        with httpx.Client(timeout=30, follow_redirects=False) as c:
            for _ in range(12):
                u = urlsplit(target)
                if f"{u.scheme}://{u.netloc}" != self.origin:
                    return target
                headers = {"Accept": "text/html"}
                if self.cookies:
                    headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
                if form is not None:
                    headers.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin,
                                    "Sec-Fetch-Site": "same-origin"})
                r = c.request(method, target, headers=headers, content=urlencode(form) if form is not None else None)
                for sc in r.headers.get_list("set-cookie"):
                    pair, *rest = sc.split(";")
                    name, _, value = pair.partition("=")
                    if any(re.match(r"^\s*max-age\s*=\s*(0|-)", a, re.I) for a in rest):
                        self.cookies.pop(name.strip(), None)
                    else:
                        self.cookies[name.strip()] = value.strip()
                if 300 <= r.status_code < 400:
                    method, target, form = "GET", urljoin(target, r.headers["location"]), None
                    continue
                assert r.status_code == 200, f"{method} {target}: {r.status_code} {r.text[:600]}"
                self.pages.append(r.text)
                f = self._choose_form(r.text)
                assert f is not None, f"{method} {target}: neither a sign-in nor a consent form: {r.text[:1200]}"
                action = urljoin(target, f["action"] or target)
                method = (f["method"] or "GET").upper()
                if method == "GET":
                    target, form = action.split("?")[0] + "?" + urlencode(f["values"]), None
                else:
                    target, form = action, f["values"]
        raise AssertionError(f"no redirect to the client after 12 steps from {url}")

    def _choose_form(self, page: str) -> dict | None:
        for fm in _FORM.finditer(page):
            fa = _attrs(fm.group(1))
            values: list[tuple[str, str]] = []
            login = consent = chosen = False
            for m in _FIELD.finditer(fm.group(2)):
                a = _attrs(m.group(2))
                name = a.get("name")
                if not name or re.search(r"\sdisabled\b", m.group(2), re.I):
                    continue
                typ = a.get("type", "").lower()
                if m.group(1).lower() == "button" or typ == "submit":
                    if name == "decision":
                        consent = True
                        if a.get("value") == self.decision:
                            values.append((name, a["value"]))
                            chosen = True
                elif typ == "password":
                    login = True
                    values.append((name, self.password))
                elif name == "email":
                    values.append((name, self.email))
                elif typ in ("checkbox", "radio"):
                    if re.search(r"\schecked\b", m.group(2), re.I):
                        values.append((name, a.get("value", "on")))
                else:
                    values.append((name, a.get("value", "")))
            if login or (consent and chosen):
                return {"action": fa.get("action"), "method": fa.get("method"), "values": values}
        return None
