"""The server behind nginx as docs/nginx.conf sets it up: tablets sync and upload over
HTTPS through it, office cookies are Secure, and the login throttle counts the real client,
whom neither the proxy's address nor a forged X-Forwarded-For can hide.

nginx is Debian's, unpacked under var/ by ``make test`` (no web server is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from fieldapp.sync.transport import CA_BUNDLE_ENV
from tests.conftest import ROOT, ServerProcess, free_port
from tests.server.test_conflict_review import sign_in
from tests.server.test_tls import write_pki
from tests.world import PASSWORD

NGINX = ROOT / "var" / "nginx" / "usr" / "sbin" / "nginx"
PROXY_ADDRESS = "127.0.0.2"  # nginx connects to the server from here; clients from .1


def nginx_binary() -> str:
    found = str(NGINX) if NGINX.exists() else shutil.which("nginx")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nginx missing: `make test` unpacks it under var/nginx")
        pytest.skip("nginx not unpacked: run `make var/nginx/usr/sbin/nginx`")
    return found


def documented_site(port: int, upstream: int, cert: Path, key: Path) -> str:
    """docs/nginx.conf with this test's ports, certificate and the proxy's own address."""
    site = (ROOT / "docs" / "nginx.conf").read_text("utf-8")
    for old, new in (("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
                     ("/etc/ssl/fieldapp/server.pem", str(cert)),
                     ("/etc/ssl/fieldapp/server.key", str(key)),
                     ("proxy_pass http://127.0.0.1:8765;",
                      f"proxy_pass http://127.0.0.1:{upstream};\n"
                      f"        proxy_bind {PROXY_ADDRESS};")):
        assert old in site, f"docs/nginx.conf no longer says {old!r}"
        site = site.replace(old, new)
    return site


@pytest.fixture
def proxied(server: ServerProcess, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(https URL through nginx, CA file) with the server trusting only the proxy."""
    binary = nginx_binary()
    ca, cert, key = write_pki(tmp_path)
    server.stop()
    server.start(FIELDAPP_FORWARDED_ALLOW_IPS=PROXY_ADDRESS)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = free_port()
    # One process, no user switch: the test's folders are private to whoever runs it.
    (prefix / "nginx.conf").write_text(f"""
daemon off;
master_process off;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{documented_site(port, server.port, cert, key)}
}}
""", "utf-8")
    log = open(prefix / "nginx.log", "wb")  # noqa: SIM115 (open for the process's life)
    proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                             "-e", "stderr"], stdout=log, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(url + "/api/v1/health", verify=str(ca), timeout=1).raise_for_status()
            break
        except requests.RequestException:
            assert proc.poll() is None and time.monotonic() < deadline, \
                (prefix / "nginx.log").read_text()
            time.sleep(0.1)
    try:
        yield url, ca
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_a_tablet_syncs_and_uploads_through_the_proxy(proxied: tuple[str, Path],
                                                      server: ServerProcess, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url, ca = proxied
    monkeypatch.setenv(CA_BUNDLE_ENV, str(ca))
    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, url, chunk_size=1024 * 1024)
    client.login("tech01", PASSWORD)
    client.sync()
    replica.jobs.transition("job-1", "accepted")
    # a photo of a few MiB: several chunks, each the largest the tablet sends
    noise = Image.effect_noise((2600, 1900), 90).convert("RGB")
    noise.save(tmp_path / "meter.jpg", quality=98)
    attachment = replica.evidence.add_photo("job-1", tmp_path / "meter.jpg")
    sha = replica.get("attachments", attachment)["sha256"]
    report = client.sync()
    assert report.uploaded_bytes > 1024 * 1024
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "accepted"
    assert server.scalar("SELECT size FROM blobs WHERE sha256 = ?", [sha]) == \
        report.uploaded_bytes
    client.transport.session.close()


def test_office_cookies_are_secure_and_the_real_client_is_counted(
        proxied: tuple[str, Path], server: ServerProcess) -> None:
    url, ca = proxied
    office = requests.Session()  # verify per request: REQUESTS_CA_BUNDLE beats session.verify
    # As a browser posts the form: naming the proxy's origin, which the server sees as its own.
    signed_in = sign_in(office, url, "dispatcher", PASSWORD, "/office/dispatch",
                        allow_redirects=False, verify=str(ca), headers={"Origin": url})
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert office.get(url + "/office/dispatch", timeout=30, verify=str(ca)).status_code == 200

    # A wrong password through the proxy, with a forged header: counted against 127.0.0.1.
    requests.post(url + "/api/v1/auth/login", verify=str(ca), timeout=10,
                  headers={"X-Forwarded-For": "6.6.6.6"},
                  json={"username": "tech01", "password": "wrong", "device_id": "pad-x"})
    # Straight to the server, the same header from an address that is not the proxy.
    requests.post(server.url + "/api/v1/auth/login", timeout=10,
                  headers={"X-Forwarded-For": "7.7.7.7"},
                  json={"username": "tech01", "password": "wrong", "device_id": "pad-y"})
    clients = [r["client"] for r in server.query("SELECT client FROM login_failures")]
    assert clients == ["127.0.0.1", "127.0.0.1"]
