"""The file for a judicial request (D-LOG-4): the records of an IP or a user over a window, each
with its Merkle path to its segment's seal, the seal ledger, a verifier, a README in French and
a SHA-256 manifest, in one zip."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.files import write_atomic
from appliance.journal import ledger, merkle, packed, segment
from appliance.journal.records import KINDS, JournalError, day_of, from_micros, to_micros

LISEZMOI = """Extraction du journal légal CARINE
===================================

Établissement : {school}
Critère : {criterion}
Période (UTC) : du {start} au {end}
Extrait le {made} par {operator} (rôle : responsable de traitement)
Enregistrements : {count}

Contenu
- enregistrements.jsonl : un enregistrement par ligne (type, segment, numéro, date, contenu).
- preuve.json : pour chaque enregistrement, le chemin de Merkle qui le relie à la racine scellée
  de son segment (un segment = un type d'enregistrement pour un jour UTC).
- registre-des-sceaux.jsonl : le registre des sceaux quotidiens ; chaque ligne contient l'empreinte
  SHA-256 de la précédente. Il ne contient aucune donnée personnelle (comptes et empreintes).
- verifier.py : vérification autonome (Python 3, bibliothèque standard) : python3 verifier.py .
- MANIFESTE.sha256 : empreinte SHA-256 de chaque fichier ci-dessus.

Ce que la vérification prouve : chaque enregistrement est identique à celui qui a été scellé
à la fin de sa journée, et le registre n'a pas été réordonné ni tronqué en son milieu.
Ce qu'elle ne prouve pas seule : que le registre lui-même est authentique. Comparez ses lignes
avec la copie transmise au collecteur de l'académie (syslog TLS) ou demandez au responsable la
vérification du sceau HMAC par `carine journal verify` sur l'équipement.
Les enregistrements du jour en cours ne sont pas encore scellés : verifier.py les signale.
"""

# Which kinds an IP or a user can appear in, and the indexed column that selects them.
SEARCHED = ("session", "nat", "navigation", "auth", "admin", "directory")


def _select(root: Path, kind: str, day: date, column: str, value: str,
            start: int, end: int) -> list[tuple[int, int, str]]:
    path = segment.segment_path(root, kind, day)
    if not path.exists():
        return []
    conn = segment.connect(path, kind, day, create=False)
    try:
        sql = {"ip": "SELECT seq, at, body FROM records WHERE ip = ? AND at >= ? AND at < ?",
               "login": "SELECT seq, at, body FROM records WHERE login = ? AND at >= ? "
                        "AND at < ?"}[column]
        found = [(r[0], r[1], r[2]) for r in conn.execute(sql + " ORDER BY seq",
                                                          (value, start, end))]
        if packed.is_packed(conn):  # read every block: exports are rare, keys differ by kind
            at = 0 if column == "ip" else 1
            found += [(r.seq, r.at, r.body) for r, index in packed.records(conn, kind)
                      if index[at] == value and start <= r.at < end]
            found.sort()
        return found
    finally:
        conn.close()


def _leaves(root: Path, kind: str, day: date) -> bytes:
    conn = segment.connect(segment.segment_path(root, kind, day), kind, day, create=False)
    try:
        if packed.is_packed(conn):
            return packed.leaves(conn, kind, day)[0]
        return b"".join(record.leaf() for record, _, _ in segment.iter_records(conn, kind))
    finally:
        conn.close()


def build(root: Path, start: datetime, end: datetime, *, ip: str | None = None,
          user: str | None = None, operator: str, school: str = "") -> tuple[bytes, int]:
    """The zip (bytes) and the number of records it holds."""
    if (ip is None) == (user is None):
        raise JournalError("an export names either an IP (--ip) or a user (--user)")
    if end <= start:
        raise JournalError("the export window ends before it starts")
    column, value = ("ip", ip) if ip is not None else ("login", user)
    assert value is not None
    lo, hi = to_micros(start), to_micros(end)
    seal_lines = {(e["kind"], e["day"]): n for n, _, e in ledger.read(root)
                  if e and e.get("type") == "seal"}
    lines, proofs = [], []
    for kind in SEARCHED:
        day, last = day_of(lo), day_of(hi) + timedelta(days=1)  # +1: late records
        while day <= last:
            hits = _select(root, kind, day, column, value, lo, hi)
            if hits:
                name = f"{kind}/{day.isoformat()}"
                leaves = _leaves(root, kind, day)
                paths = merkle.paths(leaves, [seq - 1 for seq, _, _ in hits])
                line = seal_lines.get((kind, day.isoformat()))
                proofs.append({"segment": name, "seal_line": line, "size": len(leaves) // 32,
                               "records": [{"seq": seq, "path": [h.hex() for h in paths[seq - 1]]}
                                           for seq, _, _ in hits]})
                for seq, at, body in hits:
                    lines.append(json.dumps({"kind": kind, "segment": name, "seq": seq,
                                             "at": _iso(at), "at_us": at, "body": body,
                                             "fields": json.loads(body)}, ensure_ascii=False))
            day += timedelta(days=1)
    count = len(lines)
    files = {
        "enregistrements.jsonl": "".join(f"{line}\n" for line in lines),
        "preuve.json": json.dumps({"segments": proofs, "kinds": list(KINDS)}, indent=1) + "\n",
        "registre-des-sceaux.jsonl": "".join(f"{t}\n" for _, t, _ in ledger.read(root)),
        "verifier.py": (Path(__file__).parent / "verifier.py").read_text(encoding="utf-8"),
        "LISEZMOI.txt": LISEZMOI.format(
            school=school or "-", criterion=f"adresse IP {ip}" if ip else f"identifiant {user}",
            start=start.isoformat(), end=end.isoformat(), operator=operator, count=count,
            made=datetime.now(start.tzinfo).isoformat(timespec="seconds")),
    }
    manifest = "".join(f"{hashlib.sha256(text.encode()).hexdigest()}  {name}\n"
                       for name, text in files.items())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**files, "MANIFESTE.sha256": manifest}.items():
            archive.writestr(name, text)
    return buffer.getvalue(), count


def _iso(at: int) -> str:
    return from_micros(at).isoformat()


def write(data: bytes, out: Path) -> str:
    """Write the export (0600: it holds personal data) and return its SHA-256."""
    write_atomic(out, data, 0o600)
    return hashlib.sha256(data).hexdigest()


def summary(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {"files": sorted(archive.namelist())}
