"""The Grafana dashboard of the académie's fleet: one line per school (appliance, uplink, ENT,
lists, daemons, version) and each service's availability over 30 days (D-SUP-3)."""

from __future__ import annotations

from monitoring.grafana import UP_DOWN, Json, column, dashboard, panel, query, row, steps, variable

DAY = 86400
# The ENT of each school, by the service name its site file gives it (`ent` by default).
ENT = 'min by (uai) (max by (uai, target) (carine:probe_success:min{service="$ent"}))'
RED_FROM_1 = steps((None, "green"), (1, "red"))
OK_KO = {"mappings": UP_DOWN, "custom_cellOptions": {"type": "color-background"},
         "thresholds": steps((None, "red"), (1, "green"))}
PERCENT = {"unit": "percent", "decimals": 2, "custom_cellOptions": {"type": "color-text"},
           "thresholds": steps((None, "red"), (99.5, "green"))}


def _counts() -> list[Json]:
    return [
        panel("stat", "Établissements supervisés", [query('count(up{job="carine"})')],
              w=6, h=4, options={"colorMode": "none"}),
        panel("stat", "Appliances injoignables", [
            query('count(up{job="carine"} == 0) or vector(0)')], w=6, h=4,
              thresholds=RED_FROM_1),
        panel("stat", "ENT injoignable", [query(f"count({ENT} == 0) or vector(0)")], w=6, h=4,
              thresholds=RED_FROM_1, description="Établissements dont une cible de l'ENT ne "
                                                 "répond ni en direct ni par le proxy."),
        panel("stat", "Démons arrêtés", [query("count(carine_daemon_up == 0) or vector(0)")],
              w=6, h=4, thresholds=RED_FROM_1),
    ]


def _schools() -> Json:
    queries = [
        query('max by (uai, school, academie, group) (up{job="carine"})', instant=True,
              table=True),
        query("max by (uai) (carine_uplink_up)", instant=True, table=True),
        query(ENT, instant=True, table=True),
        query("sum by (uai) (1 - max by (uai, service, target) (carine:probe_success:min))",
              instant=True, table=True),
        query("max by (uai) (carine_filter_lists_age_seconds)", instant=True, table=True),
        query("sum by (uai) (1 - carine_daemon_up)", instant=True, table=True),
        query("max by (uai, version) (carine_build_info)", instant=True, table=True),
    ]
    school_link = [{"title": "Tableau de bord de l'établissement", "targetBlank": False,
                    "url": "/d/carine-school?var-uai=${__value.raw}"}]
    return panel(
        "table", "Établissements", queries, w=24, h=14,
        description="Une ligne par établissement ; cliquer sur l'UAI ouvre son tableau de bord.",
        options={"sortBy": [{"displayName": "ENT", "desc": False}]},
        transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True, "Value #G": True},
                "indexByName": {"uai": 0, "school": 1, "academie": 2, "group": 3,
                                "Value #A": 4, "Value #B": 5, "Value #C": 6, "Value #D": 7,
                                "Value #E": 8, "Value #F": 9, "version": 10}}},
        ],
        overrides=[
            column("uai", "UAI", links=school_link),
            column("school", "Établissement"),
            column("academie", "Académie"),
            column("group", "Groupe"),
            column("Value #A", "Appliance", **OK_KO),
            column("Value #B", "Lien montant", **OK_KO),
            column("Value #C", "ENT", **OK_KO),
            column("Value #D", "Cibles injoignables", thresholds=RED_FROM_1,
                   custom_cellOptions={"type": "color-text"}),
            column("Value #E", "Âge des listes", unit="dtdurations",
                   custom_cellOptions={"type": "color-text"},
                   thresholds=steps((None, "green"), (DAY, "orange"), (2 * DAY, "red"))),
            column("Value #F", "Démons arrêtés", thresholds=RED_FROM_1,
                   custom_cellOptions={"type": "color-background"}),
            column("version", "Version"),
        ])


def _availability() -> list[Json]:
    per_path = "100 * min by (uai, service) (carine:probe_success:avg_over_time_30d{{path=\"{}\"}})"
    return [
        row("Disponibilité sur 30 jours (glissants)"),
        panel("table", "Disponibilité par établissement et service", [
            query(per_path.format("proxy"), instant=True, table=True),
            query(per_path.format("direct"), instant=True, table=True)], w=14, h=14,
              description="La cible la moins disponible de chaque service ; objectif par "
                          "défaut 99,5 %. Le rapport mensuel (carine monitor report) compte le "
                          "mois civil et exclut les maintenances déclarées.",
              transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
                  "excludeByName": {"Time": True}}}],
              overrides=[column("uai", "UAI"), column("service", "Service"),
                         column("Value #A", "Par le proxy", **PERCENT),
                         column("Value #B", "En direct", **PERCENT)]),
        panel("bargauge", "Moyenne du parc, par service", [
            query("100 * avg by (service, path) (carine:probe_success:avg_over_time_30d)",
                  "{{service}} ({{path}})", instant=True)], w=10, h=14, unit="percent",
              min=95, max=100, decimals=2, thresholds=steps((None, "red"), (99.5, "green"))),
        panel("timeseries", "Établissements dont l'ENT est injoignable", [
            query(f"count({ENT} == 0) or vector(0)", "établissements")], w=24, h=8,
              unit="short", decimals=0),
    ]


def fleet_dashboard() -> Json:
    return dashboard(
        "carine-fleet", "CARINE — parc des établissements",
        "Tous les établissements supervisés par l'académie : état, ENT, listes, démons, "
        "disponibilité sur 30 jours. Les cibles viennent de `carine fleet targets`.",
        [row("État du parc"), *_counts(), _schools(), *_availability()],
        [variable("ent", "Service ENT", "label_values(carine_probe_success, service)",
                  current="ent")], time_from="now-7d")
