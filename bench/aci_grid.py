"""Benchmark: the ACI indicator grid and one inline cell save (htmx).

    DEBUG=1 .venv/bin/python bench/aci_grid.py [--requests 15]

Builds a throwaway database (SQLite in a temporary folder; with DATABASE_URL set, a ``test_<name>``
database next to it, dropped at the end), then two associations with a contract of six missions:
"big" has 30 indicators per mission (180) with values for the 5 contract years, one indicator in five
fed by actions, and 2 000 actions; "small" has 1 indicator per mission and 10 actions. Prints the SQL
queries and the median server time of the grid page (``aci_grid``) for both, and of one cell save
(``aci_cell_edit``, htmx POST) in the big grid. Figures only, no assertion.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from members_list import configure  # noqa: E402 - the same throwaway environment before django.setup()


def build(slug: str, per_mission: int, actions: int):
    from dateutil.relativedelta import relativedelta
    from django.utils import timezone
    from django_scopes import scope

    from associations.models import Association
    from indicators.models import Feed, Indicator, IndicatorValue
    from missions.models import ACIVersion, Action, ActionParticipation, ActionType, Contract, ContractMission

    association = Association.objects.create(name=f"CPTS {slug}", slug=slug, population=120_000)
    version = ACIVersion.objects.get(code="avenant-2")
    types = list(ActionType.objects.all())
    with scope(association=association):
        contract = Contract.objects.create(association=association, version=version, cpam_name="CPAM",
                                           ars_name="ARS",
                                           signed_on=timezone.localdate() - relativedelta(years=4, months=3))
        missions = [ContractMission.objects.create(association=association, contract=contract, mission_type=t)
                    for t in version.mission_types.all()]
        indicators = []
        for mission in missions:
            for n in range(per_mission):
                fed = n % 5 == 4
                indicators.append(Indicator(association=association, mission=mission, label=f"Indicateur {n}",
                                            unit="count", direction="up", weight=Decimal(1 + n % 3), order=n,
                                            feed=Feed.ACTION_COUNT if fed else Feed.MANUAL,
                                            feed_action_type=types[n % len(types)] if fed else None))
        Indicator.objects.bulk_create(indicators)
        IndicatorValue.objects.bulk_create([
            IndicatorValue(association=association, indicator=i, year=y, baseline=Decimal(10), target=Decimal(50),
                           realised=Decimal(10 + 8 * y) if y < 5 else None)
            for i in indicators for y in range(1, 6)])
        start = contract.signed_on
        rows = Action.objects.bulk_create([
            Action(association=association, mission=missions[n % len(missions)], action_type=types[n % len(types)],
                   title=f"Action {n}", date=start + timedelta(days=n * 1500 // max(actions, 1)))
            for n in range(actions)])
        ActionParticipation.objects.bulk_create([ActionParticipation(association=association, action=a, count=7)
                                                 for a in rows])
    return association, contract, indicators


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=15, help="requests per measure (median reported)")
    args = parser.parse_args()
    tmp, on_server = configure()

    import shutil

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django_scopes import scope

    from associations.models import Role, User, UserRole

    old_name = None
    try:
        if on_server:
            old_name = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        else:
            call_command("migrate", verbosity=0)
        print(f"Base : {connection.vendor}")
        with override_settings(DEBUG=False), transaction.atomic():
            big, _contract, big_indicators = build("grande", 30, 2000)
            small, _small_contract, _ = build("petite", 1, 10)
        coordinator = User.objects.create_user(email="coordination@bench.example.org", password=None)
        for association in (big, small):
            with scope(association=association):
                UserRole.objects.create(association=association, user=coordinator, role=Role.COORDINATOR)
        client = Client()
        client.force_login(coordinator)

        def measure(method: str, url: str, data: dict | None = None, **headers) -> tuple[float, float, int, int]:
            call = getattr(client, method)
            call(url, data or {}, **headers)  # warm-up
            timings = []
            for n in range(args.requests):
                payload = {k: (v(n) if callable(v) else v) for k, v in (data or {}).items()}
                started = time.perf_counter()
                response = call(url, payload, **headers)
                timings.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as captured:
                call(url, {k: (v(999) if callable(v) else v) for k, v in (data or {}).items()}, **headers)
            return statistics.median(timings), min(timings), len(captured.captured_queries), response.status_code

        print(f"\n{'mesure':55} {'médiane':>9} {'min':>8} {'requêtes':>9}  statut")
        for label, association in (("grille 6 missions × 1 indicateur, 10 actions", small),
                                   ("grille 6 missions × 30 indicateurs × 5 ans, 2 000 actions", big)):
            median, fastest, queries, status = measure("get", reverse("aci_grid", kwargs={
                "association_slug": association.slug}))
            print(f"{label:55} {median:7.1f} ms {fastest:5.1f} ms {queries:9d}  {status}")
        manual = next(i for i in big_indicators if i.feed == "manual")
        url = reverse("aci_cell_edit", kwargs={"association_slug": big.slug, "pk": manual.pk, "year": 5,
                                               "field": "realised"})
        median, fastest, queries, status = measure(
            "post", url, {"realised": lambda n: str(20 + n), "measured_on": "2025-01-10"}, HTTP_HX_REQUEST="true")
        print(f"{'enregistrement d’une cellule (htmx), grande grille':55} {median:7.1f} ms {fastest:5.1f} ms "
              f"{queries:9d}  {status}")
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        connection.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
