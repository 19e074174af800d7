"""The Grafana dashboard of one school (variable ``uai``): its services as seen from inside, its
uplink and daemons, filtering, access, and the appliance's own health (D-SUP-1, D-SUP-2)."""

from __future__ import annotations

from monitoring.grafana import UP_DOWN, Json, column, dashboard, panel, query, row, steps, variable

U = 'uai="$uai"'
DAY = 86400


def _services() -> list[Json]:
    return [
        row("Services de l'ENT et nationaux, vus de l'établissement"),
        panel("state-timeline", "Cibles joignables (toutes les vérifications réussies)", [
            query(f'min by (service, target, path) (carine_probe_success{{{U}, '
                  'path=~"direct|proxy"})', "{{service}} {{path}} — {{target}}")],
            w=24, h=9, mappings=UP_DOWN, thresholds=steps((None, "red"), (1, "green")),
            description="Par le proxy (comme les élèves) et en direct. Rouge : une "
                        "vérification au moins (TCP, TLS, page) a échoué."),
        panel("timeseries", "Durée de chargement des pages", [
            query(f'max by (service, path) (carine_probe_duration_seconds{{{U}, check="http"}})',
                  "{{service}} ({{path}})")],
            unit="s", thresholds=steps((None, "green"), (1, "yellow"), (1.5, "red")),
            custom={"thresholdsStyle": {"mode": "line"}},
            description="Objectifs du SDET : 1 s pour une page critique, 1,5 s pour les autres."),
        panel("timeseries", "Délai avant le premier octet", [
            query(f"max by (service, path) (carine_probe_http_first_byte_seconds{{{U}}})",
                  "{{service}} ({{path}})")], unit="s"),
        panel("timeseries", "Disponibilité glissante sur 24 h", [
            query(f"100 * carine:probe_success:avg_over_time_1d{{{U}}}",
                  "{{service}} ({{path}}) {{target}}")], unit="percent", max=100),
        panel("table", "Disponibilité sur 30 jours", [
            query(f"100 * max by (service, target, path) "
                  f"(carine:probe_success:avg_over_time_30d{{{U}}})", instant=True, table=True)],
            overrides=[column("Value", "Disponibilité", unit="percent", decimals=2,
                              custom_cellOptions={"type": "color-text"},
                              thresholds=steps((None, "red"), (99.5, "green")))],
            transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}],
            description="Objectif par défaut 99,5 % ; le rapport mensuel exclut les "
                        "maintenances déclarées (carine monitor report)."),
        panel("table", "Certificats présentés par les services", [
            query(f"min by (service, target) (carine_probe_tls_expiry_timestamp_seconds{{{U}}})"
                  " - time()", instant=True, table=True)],
            overrides=[column("Value", "Expire dans", unit="dtdurations",
                              custom_cellOptions={"type": "color-background"},
                              thresholds=steps((None, "red"), (14 * DAY, "orange"),
                                               (30 * DAY, "green")))],
            transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}]),
        panel("table", "Dernier code HTTP", [
            query(f"max by (service, target, path) (carine_probe_http_status_code{{{U}}})",
                  instant=True, table=True)],
            overrides=[column("Value", "Code")],
            transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}]),
    ]


def _appliance() -> list[Json]:
    return [
        row("Lien montant et démons"),
        panel("stat", "Lien montant", [query(f"carine_uplink_up{{{U}}}")], w=4, h=4,
              mappings=UP_DOWN, thresholds=steps((None, "red"), (1, "green"))),
        panel("stat", "Version", [query(f"carine_build_info{{{U}}}", "{{version}}")], w=4, h=4,
              options={"textMode": "name", "colorMode": "none"}),
        panel("stat", "Configuration appliquée", [
            query(f"carine_config_generation{{{U}}} * 1000")], w=4, h=4,
              unit="dateTimeFromNow", options={"colorMode": "none"}),
        panel("state-timeline", "Démons", [query(f"carine_daemon_up{{{U}}}", "{{daemon}}")],
              h=8, mappings=UP_DOWN, thresholds=steps((None, "red"), (1, "green"))),
        panel("timeseries", "Débit du lien montant", [
            query(f"8 * rate(carine_uplink_bytes_total{{{U}}}[$__rate_interval])",
                  "{{direction}}")], unit="bps"),
        panel("timeseries", "Erreurs du lien montant", [
            query(f"rate(carine_uplink_errors_total{{{U}}}[$__rate_interval])",
                  "{{direction}}")], unit="short"),
    ]


def _filtering() -> list[Json]:
    return [
        row("Filtrage"),
        panel("stat", "Âge des listes", [query(f"carine_filter_lists_age_seconds{{{U}}}")],
              w=6, h=4, unit="s",
              thresholds=steps((None, "green"), (DAY, "orange"), (2 * DAY, "red"))),
        panel("stat", "Domaines listés", [query(f"carine_filter_lists_domains{{{U}}}")],
              w=6, h=4, unit="short", options={"colorMode": "none"}),
        panel("stat", "Dernière mise à jour réussie", [
            query(f"carine_filter_update_last_success_timestamp_seconds{{{U}}} * 1000")],
              w=6, h=4, unit="dateTimeFromNow", options={"colorMode": "none"}),
        panel("stat", "Dernière tentative de mise à jour", [
            query(f"carine_filter_update_last_result{{{U}}} == 1", "{{result}}")], w=6, h=4,
              options={"textMode": "name", "colorMode": "none"}),
        panel("timeseries", "Décisions par catégorie et action", [
            query(f"sum by (category, action) (rate(carine_filter_decisions_total{{{U}}}"
                  "[$__rate_interval]))", "{{category}} {{action}}")], unit="reqps"),
        panel("bargauge", "Blocages par catégorie (période affichée)", [
            query(f'sort_desc(sum by (category) (increase(carine_filter_decisions_total{{{U}, '
                  'action="block"}[$__range])))', "{{category}}", instant=True)],
              unit="short", decimals=0),
        panel("timeseries", "Temps de décision du filtre", [
            query(f"histogram_quantile({q}, sum by (le) (rate("
                  f"carine_filter_decision_seconds_bucket{{{U}}}[$__rate_interval])))",
                  f"p{round(q * 100)}") for q in (0.5, 0.99)], unit="s"),
        panel("timeseries", "Noms refusés par le DNS", [
            query(f"sum by (view) (rate(carine_dns_refused_total{{{U}}}[$__rate_interval]))",
                  "{{view}}")], unit="short"),
    ]


def _access_and_operations() -> list[Json]:
    return [
        row("Accès"),
        panel("timeseries", "Sessions authentifiées", [
            query(f"sum by (method) (carine_sessions_active{{{U}}})", "{{method}}")], w=8),
        panel("timeseries", "Connexions au portail", [
            query(f"sum by (result) (increase(carine_portal_logins_total{{{U}}}"
                  "[$__rate_interval]))", "{{result}}")], w=8),
        panel("timeseries", "Réponses RADIUS", [
            query(f"sum by (result) (rate(carine_radius_requests_total{{{U}}}"
                  "[$__rate_interval]))", "{{result}}")], w=8),
        row("Exploitation"),
        panel("timeseries", "Espace disque libre", [
            query(f"carine_disk_free_bytes{{{U}}}", "{{path}}")], unit="bytes",
              thresholds=steps((None, "red"), (5 * 1024**3, "green")),
              custom={"thresholdsStyle": {"mode": "line"}}),
        panel("stat", "Journal des connexions", [query(f"carine_journal_ok{{{U}}}")], w=4, h=4,
              mappings=UP_DOWN, thresholds=steps((None, "red"), (1, "green"))),
        panel("stat", "Message de vie de l'import", [
            query(f"time() - carine_import_heartbeat_timestamp_seconds{{{U}}}")], w=4, h=4,
              unit="s", thresholds=steps((None, "green"), (26 * 3600, "red"))),
        panel("table", "Certificats de l'appliance", [
            query(f"min by (certificate) (carine_certificate_expiry_timestamp_seconds{{{U}}})"
                  " - time()", instant=True, table=True)], w=4, h=8,
              overrides=[column("Value", "Expire dans", unit="dtdurations",
                                custom_cellOptions={"type": "color-text"},
                                thresholds=steps((None, "red"), (14 * DAY, "green")))],
              transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}]),
    ]


def school_dashboard() -> Json:
    return dashboard(
        "carine-school", "CARINE — établissement",
        "Un établissement : services vus de l'intérieur, lien, démons, filtrage, accès, "
        "exploitation. Métriques : monitoring/catalogue.py ; règles : carine.rules.yml.",
        _services() + _appliance() + _filtering() + _access_and_operations(),
        [variable("uai", "Établissement (UAI)", "label_values(carine_build_info, uai)")])
