"""The server on HTTPS with a private CA's certificate: a tablet given that CA syncs; one
without it refuses to talk to the server, and says why instead of going quietly offline."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fieldapp.errors import ServerUnreachable
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from fieldapp.sync.transport import CA_BUNDLE_ENV, RequestsTransport
from tests.conftest import ServerProcess
from tests.world import PASSWORD


def write_pki(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a certificate it signed for 127.0.0.1: (ca, cert, key) PEM files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "燃气公司内部根证书")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_a_tablet_trusting_the_private_ca_syncs_and_one_without_it_says_why(
        server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca, cert, key = write_pki(tmp_path)
    server.stop()
    server.trust = str(ca)
    server.start(FIELDAPP_SSL_CERTFILE=str(cert), FIELDAPP_SSL_KEYFILE=str(key))
    assert server.url.startswith("https://")

    monkeypatch.setenv(CA_BUNDLE_ENV, str(ca))  # what the tablet's installer sets
    trusting = Replica.open(tmp_path / "tablet")
    client = SyncClient(trusting, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    assert trusting.find("jobs", "job-1") is not None

    monkeypatch.delenv(CA_BUNDLE_ENV)
    stranger = SyncClient(Replica.open(tmp_path / "other"), server.url,
                          transport=RequestsTransport())
    with pytest.raises(ServerUnreachable) as refused:
        stranger.login("tech01", PASSWORD)
    assert refused.value.code == "untrusted_certificate"
    assert server.scalar("SELECT count(*) FROM devices") == 1  # nothing reached the server
    for c in (client, stranger):
        c.transport.session.close()
