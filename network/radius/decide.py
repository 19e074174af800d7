"""The decisions FreeRADIUS asks our backend for: who may authenticate, with which password or NT
hash, registered devices by MAC, the reply (VLAN, Class), and the journal of every outcome."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from appliance.directory import accounts
from appliance.directory.accounts import Lockout, Outcome
from network.radius import directory
from network.radius.context import Context
from network.radius.request import Pairs, Request, class_for, normalise_mac, vlan_reply

log = logging.getLogger("carine.radius")

OK, REJECT, NOOP, FAIL, NOTFOUND, UPDATED = "ok", "reject", "noop", "fail", "notfound", "updated"
# Tells the outer Post-Auth-Type REJECT that this refusal is in the journal already.
JOURNALED = (("Tmp-String-9", "journaled"),)


@dataclass(frozen=True)
class Answer:
    """What the backend tells FreeRADIUS: a module code and the attributes to add."""

    code: str
    reply: Pairs = ()
    config: Pairs = ()


class Decider:
    """authorize / authenticate / post_auth for the three places the rendered sites call us."""

    def __init__(self, ctx: Context, clock: Callable[[], float] = time.time) -> None:
        self.ctx, self.clock = ctx, clock
        s = ctx.settings
        self.lockout = Lockout(s.lockout_attempts, s.lockout_minutes)
        self._tls_journaled: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- authorize ---------------------------------------------------------------------------

    def authorize(self, req: Request) -> Answer:
        if req.stage == "inner":
            return self._inner_authorize(req)
        if req.stage == "tls":
            return self._check_certificate(req)
        if req.has("EAP-Message"):
            return Answer(NOOP)  # EAP: the eap module carries on
        return self._mac_authorize(req)

    def _mac_authorize(self, req: Request) -> Answer:
        mac = req.mac()
        user = normalise_mac(req.get("User-Name") or "")
        if mac is None or (user != mac and req.get("Service-Type") != "Call-Check"):
            self._auth("reject", "pap", req.get("User-Name"), req, "method-not-allowed")
            return Answer(REJECT, config=JOURNALED)
        found = directory.device(self.ctx.db(), mac)
        if found is None:
            self._auth("reject", "mac", None, req, "unknown-device")
            return Answer(REJECT, config=JOURNALED)
        vlan = self._vlan(found.profile, found.zone)
        self._auth("accept", "mac", found.name, req, None, vlan)
        return Answer(OK, self._reply(class_for("d", str(found.id)), found.name, vlan),
                      (("Auth-Type", "Accept"),))

    def _inner_authorize(self, req: Request) -> Answer:
        login = (req.get("User-Name") or "").strip().lower()
        pap = req.has("User-Password")
        if pap and not self.ctx.settings.ttls_pap:
            return self._refuse("method-disabled")
        sub = directory.subscriber(self.ctx.db(), login)
        if pap:  # unknown logins too: accounts.authenticate spends the same hash time on them
            if sub is not None and not sub.active:
                return self._refuse(Outcome.DEACTIVATED.value)
            return Answer(UPDATED, config=(("Auth-Type", "carine"),))
        if sub is None:
            return self._refuse(Outcome.UNKNOWN.value)
        if not sub.active:
            return self._refuse(Outcome.DEACTIVATED.value)
        if sub.locked(self.clock()):
            return self._refuse(Outcome.LOCKED.value)
        if not self.ctx.settings.nt_hash:
            return self._refuse("method-disabled")
        if not sub.nt_hash:
            return self._refuse("no-nt-hash")
        return Answer(UPDATED, config=(("NT-Password", "0x" + sub.nt_hash),))

    @staticmethod
    def _refuse(reason: str) -> Answer:
        return Answer(REJECT, config=(("Tmp-String-2", reason),))

    def _check_certificate(self, req: Request) -> Answer:
        serial = (req.get("TLS-Client-Cert-Serial") or "").lower().lstrip("0") or "0"
        issued = self.ctx.certificate(serial)
        reason = None
        if issued is None:
            reason = "certificate-unknown"
        elif issued.revoked_at is not None:
            reason = "certificate-revoked"
        else:
            sub = directory.subscriber(self.ctx.db(), issued.owner)
            if sub is None or not sub.active:
                reason = Outcome.DEACTIVATED.value
            elif sub.locked(self.clock()):
                reason = Outcome.LOCKED.value
        if reason is not None:
            self._auth("reject", "eap-tls", issued.owner if issued else None, req, reason)
            with self._lock:
                self._tls_journaled[req.mac() or ""] = self.clock()
            return Answer(REJECT)
        return Answer(OK)

    # -- authenticate (TTLS/PAP only: MSCHAPv2 and TLS are checked by FreeRADIUS itself) ------

    def authenticate(self, req: Request) -> Answer:
        login = (req.get("User-Name") or "").strip().lower()
        result = accounts.authenticate(self.ctx.db(), login, req.get("User-Password") or "",
                                       self.clock(), self.lockout)
        if result.ok:
            return Answer(OK)
        return self._refuse(result.outcome.value)

    # -- post-auth ---------------------------------------------------------------------------

    def post_auth(self, req: Request) -> Answer:
        if req.stage == "inner":
            return self._inner_post_auth(req)
        if req.rejecting:
            return self._outer_reject(req)
        if req.get("EAP-Type") == "TLS" or (req.has("TLS-Client-Cert-Serial")
                                             and not req.has("Class", "reply")):
            return self._tls_accept(req)
        return Answer(NOOP)

    def _inner_post_auth(self, req: Request) -> Answer:
        login = (req.get("User-Name") or "").strip().lower()
        method = "ttls-pap" if req.has("User-Password") else "peap-mschapv2"
        sub = directory.subscriber(self.ctx.db(), login)
        if req.rejecting:
            reason = req.get("Tmp-String-2", "config")
            if reason is None and sub is not None:  # MSCHAPv2 said no: a wrong password
                locked = directory.count_failure(self.ctx.db(), sub.id, self.clock(),
                                                 self.lockout)
                reason = Outcome.LOCKED.value if locked else Outcome.BAD_PASSWORD.value
            self._auth("reject", method, login, req, reason or "refused")
            return Answer(NOOP)
        if sub is None:
            return Answer(FAIL)
        if method == "peap-mschapv2":
            directory.clear_failures(self.ctx.db(), sub.id)
        vlan = self._vlan(sub.profile, None)
        self._auth("accept", method, login, req, None, vlan)
        return Answer(UPDATED, self._reply(class_for("u", login), login, vlan))

    def _tls_accept(self, req: Request) -> Answer:
        serial = (req.get("TLS-Client-Cert-Serial") or "").lower().lstrip("0") or "0"
        issued = self.ctx.certificate(serial)
        sub = directory.subscriber(self.ctx.db(), issued.owner) if issued else None
        if issued is None or sub is None:  # check-eap-tls let nothing else through
            self._auth("reject", "eap-tls", None, req, "certificate-unknown")
            return Answer(REJECT)
        vlan = self._vlan(sub.profile, None)
        self._auth("accept", "eap-tls", sub.login, req, None, vlan, issued.name)
        return Answer(UPDATED, self._reply(class_for("u", sub.login), sub.login, vlan))

    def _outer_reject(self, req: Request) -> Answer:
        if "journaled" in (req.get("Tmp-String-9", "session-state"),
                           req.get("Tmp-String-9", "config")):
            return Answer(NOOP)  # the inner tunnel wrote it, with the user and the reason
        with self._lock:
            at = self._tls_journaled.pop(req.mac() or "", None)
        if at is not None and self.clock() - at < 60:
            return Answer(NOOP)
        reason = req.get("Module-Failure-Message") or "eap-failed"
        self._auth("reject", "eap", req.get("User-Name"), req, reason[:200])
        return Answer(NOOP)

    # -- replies and journal -----------------------------------------------------------------

    def _vlan(self, profile: str, zone: str | None) -> int | None:
        if zone is not None and zone in self.ctx.zone_vlans:
            return self.ctx.zone_vlans[zone]
        return self.ctx.settings.vlans.get(profile)

    def _reply(self, klass: str, user: str, vlan: int | None) -> Pairs:
        s = self.ctx.settings
        return (("Class", klass), ("User-Name", user),
                ("Session-Timeout", str(s.session_seconds)),
                ("Termination-Action", "RADIUS-Request"),
                ("Acct-Interim-Interval", str(s.interim_seconds)), *vlan_reply(vlan))

    def _auth(self, outcome: str, method: str, login: str | None, req: Request,
              reason: str | None, vlan: int | None = None, device: str | None = None) -> None:
        self.ctx.journal("auth", {"outcome": outcome, "method": method, "login": login,
                                  "mac": req.mac(), "nas": req.nas(), "reason": reason,
                                  "vlan": vlan, "device": device})
