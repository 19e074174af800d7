"""French first, English second (D-UI-2): Flask-Babel with the locale from ``?lang=``, then the
session, then the browser's Accept-Language; catalogues (.po) compiled to .mo at install/test."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, get_locale

DEFAULT = "fr"


def install(app: Flask, locales: Sequence[str], translations: Iterable[Path]) -> None:
    """Flask-Babel on ``app``: ``locales`` in order of preference, the first is the default."""
    dirs = [str(path) for path in translations]
    app.config.update(BABEL_DEFAULT_LOCALE=locales[0] if locales else DEFAULT,
                      BABEL_DEFAULT_TIMEZONE="UTC",
                      BABEL_TRANSLATION_DIRECTORIES=";".join(dirs) or "translations",
                      CARINE_LOCALES=tuple(locales) or (DEFAULT,))

    def select() -> str:
        offered: tuple[str, ...] = app.config["CARINE_LOCALES"]
        asked = request.args.get("lang", "")
        if asked in offered:
            session["lang"] = asked
            return asked
        kept = session.get("lang")
        if isinstance(kept, str) and kept in offered:
            return kept
        return request.accept_languages.best_match(offered) or offered[0]

    Babel(app, locale_selector=select)  # type: ignore[no-untyped-call]

    @app.context_processor
    def languages() -> dict[str, object]:
        return {"lang": str(get_locale() or offered_default(app)),
                "locales": app.config["CARINE_LOCALES"]}


def offered_default(app: Flask) -> str:
    return str(app.config["CARINE_LOCALES"][0])


def compile_catalogues(root: Path) -> list[Path]:
    """Compile every ``<root>/<lang>/LC_MESSAGES/*.po`` whose .mo is missing or older."""
    done = []
    for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as out:
            write_mo(out, catalog)
        tmp.replace(mo)
        done.append(mo)
    return done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m appliance.web.i18n",
                                description="compile the web faces' message catalogues")
    p.add_argument("roots", nargs="+", type=Path, help="translations folders")
    args = p.parse_args(argv)
    for root in args.roots:
        for mo in compile_catalogues(root):
            print(f"compiled {mo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
