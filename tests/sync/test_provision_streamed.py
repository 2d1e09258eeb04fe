"""The streamed snapshot over the real transport (``requests`` reading the answer as it
arrives), with the faults that only a streamed answer has: the server's reading failing after
the answer has begun, the server killed half way through the body, and a server that does
not have the tablet's layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.errors import ServerRejected, ServerUnreachable
from fieldapp.replica import Replica
from fieldapp.sync import provision
from fieldapp.sync.client import SyncClient
from fieldapp.sync.transport import RequestsTransport
from tests.conftest import ServerProcess
from tests.sync.test_provision import contents, paths, tablet
from tests.world import PASSWORD


class Streaming(RequestsTransport):
    """The real transport, counting the answers it read as they arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.streamed: list[str] = []

    def stream(self, method: str, url: str, **kwargs):  # type: ignore[override]
        self.streamed.append(url.split("/api/v1", 1)[-1])
        return super().stream(method, url, **kwargs)


def streaming_tablet(server: ServerProcess, path: Path,
                     monkeypatch) -> tuple[Replica, SyncClient, Streaming]:
    monkeypatch.setenv(provision.FIRST_SYNC_ENV, "snapshot")
    transport = Streaming()
    replica = Replica.open(path)
    client = SyncClient(replica, server.url, transport=transport)
    client.login("tech01", PASSWORD)
    return replica, client, transport


def paged_contents(server: ServerProcess, path: Path, monkeypatch):
    paged, paged_client = tablet(server, path, "pages", monkeypatch)
    paged_client.sync()
    return contents(paged)


def test_a_streamed_snapshot_is_read_as_it_arrives(server: ServerProcess, tmp_path: Path,
                                                    monkeypatch):
    replica, client, transport = streaming_tablet(server, tmp_path / "tablet", monkeypatch)
    client.sync()
    assert transport.streamed == ["/sync/snapshot"]
    assert contents(replica) == paged_contents(server, tmp_path / "paged", monkeypatch)


@pytest.mark.server_env(FIELDAPP_FAULTS="snapshot_fails:2")
def test_a_reading_that_fails_after_the_header_is_a_cut_download(server: ServerProcess,
                                                                 tmp_path: Path, monkeypatch):
    """The answer has begun (its header and two tables' lines sent) when the server's reading
    fails: it ends without its end line, the tablet loads nothing, the server lets go of its
    lock, and the next sync loads the snapshot."""
    replica, client, _ = streaming_tablet(server, tmp_path / "tablet", monkeypatch)
    with pytest.raises(ServerUnreachable) as cut:
        client.sync()
    assert cut.value.code == "snapshot_cut"
    assert provision.is_empty(replica) and replica.state("cursor") is None
    log = (server.data_dir / "server.log").read_text()
    assert "the snapshot stopped half way" in log and "unhandled error" not in log
    client.sync()  # the fault is spent: this one is whole
    assert contents(replica) == paged_contents(server, tmp_path / "paged", monkeypatch)
    assert replica.state("cursor") == str(server.scalar("SELECT max(seq) FROM changes"))


@pytest.mark.server_env(FIELDAPP_FAULTS="kill_in_snapshot:2")
def test_a_server_killed_half_way_through_the_snapshot(server: ServerProcess, tmp_path: Path,
                                                       monkeypatch):
    """The connection drops after the header and a table's line: nothing is loaded, and
    once the server is back the next sync loads the whole snapshot."""
    replica, client, transport = streaming_tablet(server, tmp_path / "tablet", monkeypatch)
    with pytest.raises(ServerUnreachable) as cut:
        client.sync()
    assert cut.value.code == "server_unreachable"
    server.proc.wait(10)  # it killed itself with the snapshot half sent
    assert provision.is_empty(replica) and replica.state("cursor") is None
    server.start()
    client.sync()
    assert transport.streamed == ["/sync/snapshot", "/sync/snapshot"]
    assert contents(replica) == paged_contents(server, tmp_path / "paged", monkeypatch)


def test_a_server_without_the_tablets_layout_is_pulled_by_pages(server: ServerProcess,
                                                                tmp_path: Path, monkeypatch):
    """A tablet newer than its server asks for a layout the server does not have: answered
    422, it pulls by pages as from a server without snapshots."""
    monkeypatch.setattr(provision, "SNAPSHOT_FORMAT", provision.SNAPSHOT_FORMAT + 1)
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch)
    with pytest.raises(ServerRejected) as refused:
        client._call("GET", "/api/v1/sync/snapshot",
                     params={"format": provision.SNAPSHOT_FORMAT})
    assert refused.value.status == 422
    client.sync()
    assert paths(client).count("/sync/snapshot") == 2  # the question above, and the sync's
    assert "/sync/pull" in paths(client)
    assert contents(replica) == paged_contents(server, tmp_path / "paged", monkeypatch)
