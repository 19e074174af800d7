"""Stand-alone check of a journal export (Python 3 standard library only; copied into every
export as verifier.py): records -> Merkle paths -> seal roots -> chained seal ledger -> manifest."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _root_from_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    node, rest = _sha(b"\x00" + leaf), list(path)
    while size > 1:
        if index % 2:
            node = _sha(b"\x01" + rest.pop(0) + node)
        elif index + 1 < size:
            node = _sha(b"\x01" + node + rest.pop(0))
        index, size = index // 2, (size + 1) // 2
    if rest:
        raise ValueError("audit path longer than the tree")
    return node


def check(folder: Path) -> list[str]:
    """Every problem found in the export unpacked in ``folder`` (empty: it verifies)."""
    problems: list[str] = []
    for line in (folder / "MANIFESTE.sha256").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: SHA-256 differs from MANIFESTE.sha256")
    seals: dict[int, dict[str, object]] = {}
    previous = "0" * 64
    for number, text in enumerate(
            (folder / "registre-des-sceaux.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        entry = json.loads(text)
        if entry.get("prev") != previous:
            problems.append(f"seal ledger line {number}: does not follow the previous line")
        previous = hashlib.sha256(text.encode()).hexdigest()
        seals[number] = entry
    proof = json.loads((folder / "preuve.json").read_text(encoding="utf-8"))
    records = {}
    for text in (folder / "enregistrements.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(text)
        records[(rec["segment"], rec["seq"])] = rec
    for seg in proof["segments"]:
        seal = seals.get(seg["seal_line"]) if seg.get("seal_line") else None
        if seal is None:
            problems.append(f"{seg['segment']}: not sealed; its records are not proven")
            continue
        kind, day = seg["segment"].split("/")
        if (seal.get("kind"), seal.get("day"), seal.get("count")) != (kind, day, seg["size"]):
            problems.append(f"{seg['segment']}: seal line {seg['seal_line']} is another segment")
        for item in seg["records"]:
            rec = records.get((seg["segment"], item["seq"]))
            if rec is None:
                problems.append(f"{seg['segment']} record {item['seq']}: missing from the export")
                continue
            text = f"{kind}\n{rec['seq']}\n{rec['at_us']}\n{rec['body']}"
            leaf = _sha(text.encode())
            path = [bytes.fromhex(h) for h in item["path"]]
            if _root_from_path(leaf, item["seq"] - 1, seg["size"], path).hex() != seal["root"]:
                problems.append(f"{seg['segment']} record {item['seq']}: does not match the seal")
    return problems


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    problems = check(folder)
    for problem in problems:
        print(f"ECHEC: {problem}")
    if not problems:
        print("OK: chaque enregistrement correspond au sceau de son segment; registre chaîné.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
