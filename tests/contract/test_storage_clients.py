"""Real clients doing a pupil's and a teacher's day on the real served storage (HTTPS): the
teacher opens a drop box with rclone (mkdir); the pupil hands homework in through a davfs2
mount (buf_size 64 on this kernel) and keeps a file in their home; the teacher lists and
collects with rclone (tout.zip), hands a corrected copy back with cadaver; the pupil fetches
it with curl. A killed upload leaves the old file."""

from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from appliance import tls
from appliance.run import run
from tests.conftest import require_root, require_tool
from tests.storagekit import PASSWORD, make_config, serve

pytestmark = pytest.mark.contract
BOX = "/depots/3A/devoir-1/"


def _davfs(work: Path, url: str, body: dict[str, bytes]) -> None:
    """Mount ``url`` with davfs2 as eleve.un, write ``body``, unmount (which uploads)."""
    # mount.davfs reads the certificate as the davfs2 user: a folder it can traverse.
    tmp = Path(tempfile.mkdtemp(prefix="carine-davfs-"))
    tmp.chmod(0o755)
    try:
        _mount_and_write(tmp, (work / "tls.pem").read_text(), url, body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _mount_and_write(tmp: Path, pem: str, url: str, body: dict[str, bytes]) -> None:
    cert = tmp / "cert.pem"
    cert.write_text(pem[pem.index("-----BEGIN CERTIFICATE-----"):])
    secrets = tmp / "davfs-secrets"
    secrets.write_text(f"{url} eleve.un {PASSWORD}\n")
    secrets.chmod(0o600)
    cache = tmp / "davfs-cache"
    cache.mkdir(exist_ok=True)
    cache.chmod(0o777)  # mount.davfs works as the davfs2 user
    conf = tmp / "davfs2.conf"
    conf.write_text(f"buf_size 64\ntrust_server_cert {cert}\nsecrets {secrets}\n"
                    f"cache_dir {cache}\n")
    mnt = tmp / "mnt"
    mnt.mkdir(exist_ok=True)
    run(["mount", "-t", "davfs", url, str(mnt), "-o", f"conf={conf}"], timeout=60)
    try:
        for name, data in body.items():
            (mnt / name).write_bytes(data)
    finally:
        run(["umount", str(mnt)], timeout=120)


def test_a_pupil_and_a_teacher_with_real_clients(tmp_path: Path) -> None:
    require_root()
    for tool in ("mount.davfs", "rclone", "cadaver", "curl"):
        require_tool(tool)
    # A certificate for localhost from a CA of the test (cadaver checks the name).
    ca_cert, ca_key = tls.issue("CARINE test CA", [], is_ca=True)
    cert, key = tls.issue("localhost", ["localhost"], (ca_cert, ca_key))
    tls.write_private(tmp_path / "tls.pem", tls.pem(cert, key))
    (tmp_path / "ca.pem").write_bytes(tls.pem(ca_cert))
    with serve(make_config(tmp_path)) as served:
        # The teacher opens the drop box with rclone (a MKCOL in /depots/3A/).
        obscured = run(["rclone", "obscure", PASSWORD], secrets=[PASSWORD]).stdout.strip()
        env = {"RCLONE_CONFIG_CARINE_TYPE": "webdav", "RCLONE_CONFIG_CARINE_URL": served.url,
               "RCLONE_CONFIG_CARINE_VENDOR": "other", "RCLONE_CONFIG_CARINE_USER": "prof.un",
               "RCLONE_CONFIG_CARINE_PASS": obscured, "RCLONE_CONFIG": str(tmp_path / "rc")}
        rc = ["rclone", "--no-check-certificate"]
        run([*rc, "mkdir", "carine:" + BOX], env=env)
        assert list(served.storage.boxes("3A")) == ["devoir-1"]
        root = served.storage.cfg.root
        # The pupil: homework through a davfs2 mount, and a note at home.
        _davfs(tmp_path, served.url + BOX, {"copie.txt": b"ma copie\n"})
        _davfs(tmp_path, served.url + "/perso/", {"notes été.txt": "révisions\n".encode()})
        assert (root / "depots/1/remis/eleve.un/copie.txt").read_bytes() == b"ma copie\n"
        assert (root / "homes/eleve.un/notes été.txt").read_text() == "révisions\n"
        # The teacher: rclone lists and collects.
        listed = run([*rc, "lsf", "carine:" + BOX + "remis/"], env=env).stdout.split()
        assert listed == ["eleve.un/"]
        run([*rc, "copy", "carine:" + BOX + "tout.zip", str(tmp_path / "collected")], env=env)
        archive = zipfile.ZipFile(tmp_path / "collected" / "tout.zip")
        assert archive.read("eleve.un/copie.txt") == b"ma copie\n"
        # ... and hands the corrected copy back with cadaver.
        corrected = tmp_path / "copie-corrigee.txt"
        corrected.write_text("14/20, bien\n")
        home = tmp_path / "cadaver-home"
        home.mkdir()
        (home / ".netrc").write_text(f"machine localhost login prof.un password {PASSWORD}\n")
        (home / ".netrc").chmod(0o600)
        script = (f"y\ncd {BOX}corriges\nmkcol eleve.un\ncd eleve.un\n"
                  f"put {corrected} copie-corrigee.txt\nquit\n")
        url = served.url.replace("127.0.0.1", "localhost")
        # cadaver asks about a certificate it does not know on a terminal only: script(1)
        # gives it one, and the first answer accepts the test CA's certificate.
        out = run(["script", "-qec", f"cadaver {url}{BOX}", "/dev/null"], input_text=script,
                  timeout=60, env={"HOME": str(home)})
        assert "succeeded" in out.output(), out.output()
        # The pupil fetches it with curl; another pupil cannot.
        got = run(["curl", "-skf", "-u", f"eleve.un:{PASSWORD}",
                   served.url + BOX + "corriges/copie-corrigee.txt"], secrets=[PASSWORD])
        assert got.stdout == "14/20, bien\n"
        other = run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "-u",
                     f"eleve.deux:{PASSWORD}", served.url + BOX + "corriges/"],
                    secrets=[PASSWORD])
        assert other.stdout == "404"


def test_killed_upload_leaves_the_old_file(tmp_path: Path) -> None:
    import base64
    with serve(make_config(tmp_path)) as served:
        run(["curl", "-skf", "-T", "-", "-u", f"eleve.un:{PASSWORD}",
             served.url + "/perso/rapport.odt"], input_text="version 1\n", secrets=[PASSWORD])
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        auth = base64.b64encode(f"eleve.un:{PASSWORD}".encode()).decode()
        with socket.create_connection(("127.0.0.1", served.port)) as raw, \
                ctx.wrap_socket(raw) as conn:
            conn.sendall((f"PUT /perso/rapport.odt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Authorization: Basic {auth}\r\nContent-Length: 1000000\r\n\r\n")
                         .encode() + b"v2" * 150_000)
        home = served.storage.cfg.root / "homes/eleve.un"
        for _ in range(200):  # the server notices the cut, then drops its temporary file
            if sorted(p.name for p in home.iterdir()) == ["rapport.odt"]:
                break
            time.sleep(0.05)
        assert sorted(p.name for p in home.iterdir()) == ["rapport.odt"]
        assert (home / "rapport.odt").read_bytes() == b"version 1\n"
        assert served.storage.ledger.used["eleve.un"] == 10
