"""The Squid renderer: explicit and intercepting proxy for the zones, HTTPS peeked then spliced.

Squid moves bytes; the filtering decision plugs in at one marked place in the template (the
external ACL helper of the filtering service). HTTPS is never decrypted (D-FIL-5)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, Redirect, RenderContext
from appliance.render.templating import HEADER, environment, render
from appliance.render.units import Health, Reload, Timer, Unit
from appliance.run import run
from appliance.site import Internet, Site
from appliance.tls import write_self_signed
from filtering.config import CONFIG as FILTER_CONFIG
from filtering.config import render_config

TEMPLATES = environment("filtering")
CONFIG = "squid/squid.conf"
DNS_HOOK = "carine/dnsmasq.d/filtering.conf"
PEEK_CERT = "tls/proxy-peek.pem"
HELPER = "carine-filter-helper"
# The lists' publisher (Université Toulouse Capitole), fetched nightly by the update timer.
UT1 = "https://dsi.ut-capitole.fr/blacklists/download"


def proxied_zones(site: Site) -> list[str]:
    """Zones allowed to use the proxy: all that reach the internet at all."""
    return [z.name for z in site.zones if z.internet is not Internet.NONE]


class SquidService:
    """The filtering proxy's configuration."""

    name = "squid"

    def openings(self, site: Site) -> Sequence[Contribution]:
        if not site.filtering.enabled:
            return ()
        proxy = site.filtering.proxy
        zones = tuple(proxied_zones(site))
        filtered = tuple(z.name for z in site.zones if z.internet is Internet.FILTERED)
        out: list[Contribution] = [
            Opening(self.name, "tcp", (proxy.port,), zones, "explicit proxy")]
        if filtered:
            out += [
                Redirect(self.name, "tcp", 80, proxy.intercept_http, filtered,
                         "plain web to the filtering proxy", beyond_school=True),
                Redirect(self.name, "tcp", 443, proxy.intercept_https, filtered,
                         "HTTPS to the proxy (SNI peek, then splice)", beyond_school=True),
            ]
            out.append(Opening("blockpage", "tcp", (site.filtering.block_page_port,), filtered,
                               "block page and recently blocked sites"))
        return out

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        site, layout = ctx.site, ctx.layout
        header = HEADER.format(uai=site.school.uai)
        files = {
            layout.etc(DNS_HOOK): render(TEMPLATES, "dnsmasq-filtering.conf.j2", header=header),
        }
        if site.filtering.enabled:
            filter_config = layout.etc(FILTER_CONFIG)
            files[filter_config] = render_config(site, layout)
            files[layout.etc(CONFIG)] = render(
                TEMPLATES, "squid.conf.j2", header=header, site=site,
                zones=[z for z in site.zones if z.internet is not Internet.NONE],
                filtered=[z for z in site.zones if z.internet is Internet.FILTERED],
                proxy=site.filtering.proxy, peek_cert=layout.state / PEEK_CERT,
                log=layout.log, run=layout.run, helper=layout.programs / HELPER,
                filter_config=filter_config, block_page_port=site.filtering.block_page_port,
            )
        return files

    def units(self, site: Site, layout: Layout) -> Sequence[Unit | Timer]:
        """Squid (it launches the filtering helpers itself), the block page, the list update."""
        if not site.filtering.enabled:
            return []
        conf, filter_config = layout.etc(CONFIG), layout.etc(FILTER_CONFIG)
        proxy = site.filtering.proxy
        carine = str(layout.programs / "carine")
        filtering = layout.state / "filtering"
        update = Unit(
            "lists-update", "CARINE filtering lists: fetch, check, compile, switch",
            (carine, "filter", "update", "--source", f"{UT1}/blacklists.tar.gz",
             "--checksum-url", f"{UT1}/MD5SUM.LST", "--dns-config", str(filter_config),
             "--wait", "600"),
            user="proxy",  # the index is Squid's helpers' to read: proxy's folder
            reads=(filter_config,), state_dirs=(filtering,), kind="oneshot",
            shared_dirs=(layout.run / "dns",))  # the DNS views read it as nobody
        page = site.filtering.block_page_port
        return [
            Unit("squid", "CARINE filtering proxy (Squid and its filtering helpers)",
                 ("/usr/sbin/squid", "-N", "-f", str(conf)),
                 drops_to="proxy", reads=(conf, filter_config, filtering),
                 # The helpers' counters, Squid's PID file, and the state store (the
                 # helpers read who is logged in and write refusals there).
                 state_dirs=(layout.log / "squid", layout.run / "filtering", filtering,
                             layout.run, layout.state),
                 capabilities=("CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN",
                               "CAP_DAC_OVERRIDE"),
                 system_calls=("@privileged",), after=("nftables", "dnsmasq", "lists-update"),
                 wants=("lists-update",),  # the helpers need an index: fetch one at boot
                 reload=Reload("command", argv=("/usr/sbin/squid", "-k", "reconfigure", "-f",
                                                str(conf))),
                 health=Health("tcp", port=proxy.port, timeout=40)),
            Unit("blockpage", "CARINE block page and recently blocked sites",
                 (str(layout.programs / "carine-blockpage"), "--config", str(filter_config),
                  "--port", str(page), "--bind", "0.0.0.0",  # noqa: S104 - nftables guards it
                  "--secret-file", str(filtering / "blockpage.key")),
                 user="proxy",  # its key beside the index, in proxy's folder
                 reads=(filter_config,), state_dirs=(filtering, layout.state),
                 health=Health("tcp", port=page)),
            update,
            Timer("lists-update", "CARINE filtering lists, nightly", "*-*-* 03:30:00",
                  "lists-update"),
        ]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        config = layout.etc(CONFIG)
        if not config.exists():
            return []
        cert = layout.state / PEEK_CERT
        note = ""
        with tempfile.TemporaryDirectory(prefix="carine-check-") as tmp:
            if not cert.exists():
                # squid -k parse loads the port's certificate. On a fresh tree the appliance has
                # not provisioned it yet, so check against a throwaway one with the same role.
                stand_in = Path(tmp) / "peek.pem"
                write_self_signed(stand_in, "carine check")
                text = config.read_text(encoding="utf-8").replace(str(cert), str(stand_in))
                config = Path(tmp) / "squid.conf"
                config.write_text(text, encoding="utf-8")
                note = f"{cert} not provisioned yet: checked with a throwaway certificate"
            result = run(["squid", "-k", "parse", "-f", str(config)], check=False, timeout=60)
        # Squid 5 reports an unknown directive as "FILE(LINE): unrecognized: 'name'".
        errors = [line for line in result.output().splitlines()
                  if any(word in line for word in ("ERROR", "FATAL", "WARNING", "unrecognized"))]
        ok = result.ok and not any("ERROR" in e or "FATAL" in e for e in errors)
        if errors:
            output = "\n".join(errors)
        elif ok:
            output = "configuration parsed"
        else:  # failed without a line we recognise: show how it ended
            output = "\n".join(result.output().splitlines()[-20:])
        # Name the file in the tree, not the temporary copy the check may have parsed.
        output = output.replace(str(config), str(layout.etc(CONFIG)))
        return [CheckResult(self.name, f"squid -k parse -f {layout.etc(CONFIG)}", ok, output, note)]


service = SquidService()
