"""Writes AAF ficAlimMENESR XML for tests and benchmarks (fictional people only): requests of
both dialects, encoded ISO-8859-15 like the académie's exports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

HEAD = ('<?xml version="1.0" encoding="ISO-8859-15"?>\n'
        '<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n<ficAlimMENESR>\n')
Attrs = Sequence[tuple[str, Sequence[str]]]


def request(op: str, category: str, ident: str, attrs: Attrs = (),
            kind: str = "categoriePersonne") -> str:
    """One addRequest / modifyRequest / deleteRequest."""
    tag = {"add": "addRequest", "modify": "modifyRequest", "delete": "deleteRequest"}[op]
    out = [f"<{tag}>",
           f'<operationalAttributes><attr name="{kind}"><value>{category}</value></attr>'
           "</operationalAttributes>",
           f"<identifier><id>{escape(ident)}</id></identifier>"]
    if op != "delete":
        wrap, item = ("attributes", "attr") if op == "add" else ("modifications", "modification")
        out.append(f"<{wrap}>")
        for name, values in attrs:
            extra = ' operation="replace"' if op == "modify" else ""
            vals = "".join(f"<value>{escape(v)}</value>" for v in values)
            out.append(f'<{item} name="{name}"{extra}>{vals}</{item}>')
        out.append(f"</{wrap}>")
    out.append(f"</{tag}>")
    return "\n".join(out) + "\n"


def document(requests: Iterable[str]) -> bytes:
    return (HEAD + "".join(requests) + "</ficAlimMENESR>\n").encode("iso-8859-15")


def structure(uai: str, name: str, classes: Sequence[str], groups: Sequence[str] = ()) -> str:
    return request("add", "EtabEducNat", uai, [
        ("ENTStructureJointure", [uai]), ("ENTStructureUAI", [uai]),
        ("ENTStructureNomCourant", [name]), ("ENTStructureTypeStruct", ["CLG"]),
        ("ENTStructureClasses", [f"{c}${c} libellé" for c in classes]),
        ("ENTStructureGroupes", [f"{g}${g}" for g in groups])], kind="categorieStructure")


def pupil(key: str, last: str, first: str, uai: str, division: str, groups: Sequence[str] = (),
          birth: str = "14/03/2013", one_d: bool = False, op: str = "add") -> str:
    names = [("ENTPersonNom", [last]), ("ENTPersonPrenom", [first])] if one_d else \
        [("sn", [last]), ("givenName", [first])]
    classes = "ENTPersonClasses" if one_d else "ENTEleveClasses"
    ine = "".join(c for c in key if c.isdigit()).rjust(9, "0") + "AB"
    group_attr = "ENTPersonGroupes" if one_d else "ENTEleveGroupes"
    return request(op, "Eleve", key, [
        ("ENTPersonJointure", [key]), *names, ("ENTPersonDateNaissance", [birth]),
        ("ENTPersonStructRattach", [uai]), ("ENTEleveINE", [ine]),
        (classes, [f"{uai}${division}"]), (group_attr, [f"{uai}${g}" for g in groups])])


def staff(key: str, last: str, first: str, uai: str, function: str, classes: Sequence[str] = (),
          mail: str | None = None, one_d: bool = False) -> str:
    names = [("ENTPersonNom", [last]), ("ENTPersonPrenom", [first])] if one_d else \
        [("sn", [last]), ("givenName", [first])]
    label = {"ENS": "ENSEIGNEMENT", "DOC": "DOCUMENTATION", "DIR": "DIRECTION",
             "ADF": "PERSONNELS ADMINISTRATIFS", "EDU": "EDUCATION"}.get(function, function)
    attrs: list[tuple[str, Sequence[str]]] = [
        ("ENTPersonJointure", [key]), *names, ("ENTPersonStructRattach", [uai]),
        ("ENTPersonFonctions", [f"{uai}${function}${label}"])]
    if mail:
        attrs.append(("ENTPersonMail" if one_d else "mail", [mail]))
    if classes:
        attrs.append(("ENTPersonClasses" if one_d else "ENTAuxEnsClassesMatieres",
                      [f"{uai}${c}" if one_d else f"{uai}${c}$MATHEMATIQUES" for c in classes]))
    return request("add", "PersEducNat", key, attrs)


def parent(key: str, last: str, first: str) -> str:
    return request("add", "PersRelEleve", key, [
        ("ENTPersonJointure", [key]), ("sn", [last]), ("givenName", [first]),
        ("mail", [f"{first.lower()}.{last.lower()}@example.org"])])
