"""``carine monitor report`` against a local Prometheus stand-in (http.server in a thread) that
answers query_range as Prometheus does: the month is asked in weekly chunks under the 11,000
points limit, the figures come out right, a saved answer reports the same, errors are messages."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from appliance.cli import main
from appliance.errors import CarineError
from monitoring.availability import Month
from monitoring.promapi import availability_query, fetch_month

pytestmark = pytest.mark.unit

MAY = Month.parse("2025-05")
OUTAGE = (datetime(2025, 5, 6, 10, tzinfo=ZoneInfo("Europe/Paris")).timestamp(),
          datetime(2025, 5, 6, 14, tzinfo=ZoneInfo("Europe/Paris")).timestamp())
LABELS = {"uai": "0691234X", "service": "ent", "target": "https://ent.example.fr/"}


@dataclass
class Stub:
    """What the stand-in answers, and what it was asked."""

    mode: str = "ok"
    asked: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def answer(self, start: float, end: float, step: float) -> dict[str, Any]:
        result: list[dict[str, Any]] = []
        for path in ("direct", "proxy"):
            values: list[tuple[float, str]] = []
            t = start
            while t <= end:
                down = path == "proxy" and OUTAGE[0] <= t < OUTAGE[1]
                values.append((t, "0" if down else "1"))
                t += step
            result.append({"metric": {**LABELS, "path": path}, "values": values})
        return {"status": "success", "data": {"resultType": "matrix", "result": result}}


@pytest.fixture
def prometheus() -> Iterator[tuple[str, Stub]]:
    stub = Stub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            stub.paths.append(url.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            stub.asked.append(params)
            if stub.mode == "slow":
                time.sleep(1.0)
            if stub.mode == "bad_query":
                self._send(400, {"status": "error", "errorType": "bad_data",
                                 "error": "parse error at char 5"})
            elif stub.mode == "not_json":
                self._send(200, None, b"<html>login</html>")
            else:
                self._send(200, stub.answer(float(params["start"]), float(params["end"]),
                                            float(params["step"])))

        def _send(self, code: int, doc: Any, raw: bytes | None = None) -> None:
            body = raw if raw is not None else json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True  # the slow answer must not hold the teardown
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/prom", stub
    finally:
        server.shutdown()
        server.server_close()


def test_the_month_is_asked_in_weekly_chunks(prometheus: tuple[str, Stub]) -> None:
    url, stub = prometheus
    doc = fetch_month(url, availability_query("0691234X"), MAY, timeout=5)
    assert stub.paths == ["/prom/api/v1/query_range"] * 5  # 44,640 minutes: 5 weeks at most
    starts = [float(a["start"]) for a in stub.asked]
    ends = [float(a["end"]) for a in stub.asked]
    assert starts[0] == MAY.start and ends[-1] == MAY.end - 60
    assert all(s == e + 60 for s, e in zip(starts[1:], ends[:-1], strict=True))  # no overlap
    assert all((e - s) / 60 + 1 <= 11000 for s, e in zip(starts, ends, strict=True))
    assert {a["step"] for a in stub.asked} == {"60"}
    assert stub.asked[0]["query"] == ('min by (uai, service, target, path) (carine_probe_success'
                                      '{path=~"direct|proxy", uai="0691234X"})')
    [direct, proxy] = doc["data"]["result"]
    assert len(direct["values"]) == len(proxy["values"]) == MAY.slots


def test_report_from_prometheus_then_from_the_saved_answer(
        prometheus: tuple[str, Stub], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = prometheus
    saved = tmp_path / "may.json"
    maintenance = tmp_path / "maintenance.yml"
    maintenance.write_text("- {start: 2025-05-06 12:00, end: 2025-05-06 16:00, comment: ENT}\n")
    args = ["monitor", "report", "--month", "2025-05", "--maintenance", str(maintenance),
            "--json", "--objective", "99.9"]
    assert main([*args, "--prometheus", url, "--save", str(saved)]) == 0
    first = json.loads(capsys.readouterr().out)
    [direct, proxy] = first["targets"]
    assert (direct["path"], direct["availability_percent"], direct["objective_met"]) == (
        "direct", 100.0, True)
    # Down 10:00-14:00, but 12:00-16:00 is maintenance: 120 minutes count.
    assert (proxy["down_minutes"], proxy["maintenance_minutes"]) == (120, 240)
    assert proxy["objective_met"] is False
    assert main([*args, "--series", str(saved)]) == 0
    assert json.loads(capsys.readouterr().out) == first


@pytest.mark.parametrize(("mode", "message"), [
    ("bad_query", "Prometheus answered 400: bad_data: parse error at char 5"),
    ("not_json", "Prometheus's answer is not JSON"),
])
def test_prometheus_errors_are_messages(prometheus: tuple[str, Stub], mode: str, message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    url, stub = prometheus
    stub.mode = mode
    assert main(["monitor", "report", "--month", "2025-05", "--prometheus", url]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_slow_prometheus_times_out(prometheus: tuple[str, Stub]) -> None:
    url, stub = prometheus
    stub.mode = "slow"
    with pytest.raises(CarineError, match=r"cannot query Prometheus at 127\.0\.0\.1"):
        fetch_month(url, availability_query(), MAY, timeout=0.2)


def test_unreachable_and_bad_urls(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CarineError, match="cannot query Prometheus"):
        fetch_month("http://127.0.0.1:1", availability_query(), MAY, timeout=2)
    with pytest.raises(CarineError, match="is not a Prometheus URL"):
        fetch_month("file:///etc/passwd", availability_query(), MAY, timeout=2)
    with pytest.raises(CarineError, match="is not a uai"):
        availability_query('0691234X"} or vector(1) #')


def test_a_saved_file_that_is_not_an_answer(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "x.json"
    saved.write_text('{"status": "success", "data": {"resultType": "vector", "result": []}}')
    assert main(["monitor", "report", "--month", "2025-05", "--series", str(saved)]) == 1
    assert "not a query_range answer" in capsys.readouterr().err
    assert main(["monitor", "report", "--month", "2025-05", "--series", str(saved),
                 "--timezone", "Mars/Olympus"]) == 1
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
