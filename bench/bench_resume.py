"""Resume of a 20 MB attachment upload after the connection drops at 50%.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_resume.py [--chunk BYTES]``.
The tablet's real upload code talks to the real server. At the chunk that crosses 50% the
connection is cut for real: the request's headers and half its body go out on a socket
that is then closed, so the server sees a client that vanished mid-chunk. A fresh client
then resumes. Prints the bytes put on the wire, those sent twice, and the baseline in the
same run: an uninterrupted upload, and what restarting from zero would have re-sent.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchserver import start_server

from fieldapp.errors import ServerUnreachable
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from fieldapp.sync.transport import RequestsTransport, Response
from sync_server.seed import seed_demo
from sync_server.storage.db import open_database
from tests.netfaults import half_send

SIZE = 20 * 1024 * 1024


class Wire(RequestsTransport):
    """The real transport, counting the attachment bytes it sends; with ``cut_at``, the
    chunk that starts at or after that offset is half sent and its connection closed."""

    def __init__(self, cut_at: int | None = None) -> None:
        super().__init__()
        self.cut_at, self.sent = cut_at, 0

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        body = kwargs.get("data") or b""
        offset = kwargs["params"]["offset"] if method == "PUT" else -1
        if self.cut_at is not None and offset >= self.cut_at:
            self.cut_at = None
            self.sent += half_send(method, url, kwargs["params"], kwargs["headers"], body)
            raise ServerUnreachable("server_unreachable", "connection dropped mid-chunk")
        response = super().request(method, url, **kwargs)
        self.sent += len(body) if method == "PUT" else 0
        return response


def upload(url: str, tablet: Path, sha: str, transport: Wire) -> float:
    client = SyncClient(Replica.open(tablet), url, transport=transport)
    start = time.perf_counter()
    client.upload_blob(sha)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunk", type=int, default=1024 * 1024, help="upload chunk size")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    seed_demo(open_database(tmp / "server"))
    proc, url = start_server(tmp / "server")
    try:
        tablets = []
        for name in ("baseline", "resumed"):
            replica = Replica.open(tmp / name)
            client = SyncClient(replica, url, chunk_size=args.chunk)
            client.login("tech01", "fieldapp")
            # A 20 MB file stored as the tablet stores any evidence (photos are smaller).
            sha = replica.evidence._store_blob(os.urandom(SIZE), "application/octet-stream")
            tablets.append((tmp / name, sha))

        (base_dir, base_sha) = tablets[0]
        whole = Wire()
        alone = upload(url, base_dir, base_sha, whole)

        (dir_, sha) = tablets[1]
        first = Wire(cut_at=SIZE // 2)
        try:
            upload(url, dir_, sha, first)
            raise SystemExit("the connection was not cut")
        except ServerUnreachable:
            pass
        again = Wire()
        resumed = upload(url, dir_, sha, again)
        stored = tmp / "server" / "attachments" / sha[:2] / sha
        identical = hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    finally:
        proc.terminate()
        proc.wait()
    wire = first.sent + again.sent
    verified_at_cut = SIZE // 2 // args.chunk * args.chunk
    print(f"{SIZE / 2**20:.0f} MiB upload in {args.chunk / 2**10:.0f} KiB chunks,"
          f" connection cut at 50% (SQLite, loopback)")
    print(f"  uninterrupted: {whole.sent:,} bytes in {alone:.2f} s")
    print(f"  cut + resume: {wire:,} bytes on the wire, {wire - SIZE:,} sent twice"
          f" ({(wire - SIZE) / SIZE:.1%}); the resume sent {again.sent:,} bytes in"
          f" {resumed:.2f} s; stored file identical: {identical}")
    print(f"  restarting from zero would have sent {first.sent:,} bytes twice"
          f" ({first.sent / max(1, wire - SIZE):.0f}x more); verified at the cut:"
          f" {verified_at_cut:,}")


if __name__ == "__main__":
    main()
