"""Benchmark: the coordinator's member list against the Django admin changelist of Member.

    DEBUG=1 .venv/bin/python bench/members_list.py [--requests 15]

Builds a throwaway database (SQLite in a temporary folder; or, when DATABASE_URL is set, a
``test_<name>`` database created next to it on that server and dropped at the end), loads one
association of 5 000 members, 20 associations of 1 000 members and one of 10 members (memberships for
the previous and current periods), then prints the median server time of the member list (default
sort, ``?status=up_to_date``, ``?q=mar``) and of the admin changelist on the same data, their ratio,
and the number of SQL queries of each list request with 10 members vs 5 000 members. Figures only.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIG, OTHERS, OTHER_SIZE, SMALL = 5_000, 20, 1_000, 10


def configure() -> tuple[str, bool]:
    """Environment before django.setup(): a temporary VAR_DIR and, unless given, a SQLite database."""
    tmp = tempfile.mkdtemp(prefix="cpts-bench-")
    os.environ.setdefault("DEBUG", "1")
    os.environ["VAR_DIR"] = tmp
    on_server = bool(os.environ.get("DATABASE_URL"))
    if not on_server:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpts.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    return tmp, on_server


def build(rng: random.Random, today: date):
    from django_scopes import scope

    from associations.membership.demo import FIRST_NAMES_F, FIRST_NAMES_M, LAST_NAMES, PROFESSION_SHARES, STREETS
    from associations.membership.services import current_period, previous_period
    from associations.models import (
        Association,
        College,
        Member,
        Membership,
        MembershipStatus,
        MemberStatus,
        Profession,
        StructureType,
        Tariff,
    )
    from associations.validators import luhn_ok

    professions = {p.code: p for p in Profession.objects.all()}
    codes, weights = zip(*PROFESSION_SHARES, strict=True)
    cities = [("Tours", "37000", "37261"), ("Joué-lès-Tours", "37300", "37122"),
              ("Chambray-lès-Tours", "37170", "37050"), ("Saint-Avertin", "37550", "37208"),
              ("Saint-Cyr-sur-Loire", "37540", "37214"), ("La Riche", "37520", "37195")]
    names = FIRST_NAMES_F + FIRST_NAMES_M
    structure_types = list(StructureType.values)

    def rpps(index: int, serial: int) -> str:
        base = f"10{index:03d}{serial:05d}"
        return base + next(d for d in "0123456789" if luhn_ok(base + d))

    def association(index: int, slug: str, size: int) -> Association:
        assoc = Association.objects.create(name=f"CPTS banc d'essai {index}", slug=slug, population=120_000)
        with scope(association=assoc):
            Tariff.objects.bulk_create([Tariff(association=assoc, category=c, amount=Decimal(a))
                                        for c, a in (("person", "30"), ("structure", "100"), ("student", "0"))])
            colleges = College.objects.bulk_create([
                College(association=assoc, name=n, order=o) for o, n in enumerate(
                    ["PS libéraux", "Structures d'exercice coordonné", "Établissements et partenaires", "Usagers"])])
            members = []
            for serial in range(size):
                city, postal, insee = rng.choice(cities)
                common = {"association": assoc, "postal_code": postal, "city": city, "insee_code": insee,
                          "address": f"{rng.randint(1, 140)} {rng.choice(STREETS)}",
                          "phone": f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} 00"}
                if serial % 20 == 19:  # 5 % structures
                    members.append(Member(kind="structure", structure_name=f"Structure {serial}",
                                          structure_type=structure_types[serial % len(structure_types)],
                                          college=colleges[1], **common))
                    continue
                first, last = rng.choice(names), rng.choice(LAST_NAMES)
                members.append(Member(
                    kind="person", first_name=first, last_name=last,
                    profession=professions[rng.choices(codes, weights=weights)[0]], practice_mode="liberal",
                    rpps=rpps(index, serial), email=f"{serial}.{last.lower().replace(' ', '')}@exemple-sante.fr",
                    college=colleges[0], **common))
            previous, current = previous_period(assoc, today), current_period(assoc, today)
            rows = []
            for member in members:
                amount = Decimal("100") if member.kind == "structure" else Decimal("30")
                member.status = MemberStatus.PROSPECT
                if rng.random() < 0.85:
                    member.status = MemberStatus.TO_RENEW
                    rows.append(Membership(association=assoc, member=member, period_label=previous.label,
                                           start_date=previous.start, end_date=previous.end, amount_due=amount,
                                           amount_paid=amount, status=MembershipStatus.PAID, paid_on=previous.start))
                    roll = rng.random()
                    if roll < 0.85:
                        status = (MembershipStatus.PAID if roll < 0.70 else MembershipStatus.PENDING
                                  if roll < 0.73 else MembershipStatus.DUE)
                        paid = status == MembershipStatus.PAID
                        if paid:
                            member.status = MemberStatus.UP_TO_DATE
                        rows.append(Membership(association=assoc, member=member, period_label=current.label,
                                               start_date=current.start, end_date=current.end, amount_due=amount,
                                               amount_paid=amount if paid else Decimal("0"), status=status,
                                               paid_on=current.start if paid else None))
            # Statuses set here by the rule of services.refresh_status (refresh_all_statuses is not used:
            # on SQLite without ANALYZE it is quadratic, see bench/README.md).
            Member.objects.bulk_create(members, batch_size=2_000)
            Membership.objects.bulk_create(rows, batch_size=2_000)
        return assoc

    started = time.perf_counter()
    big = association(0, "banc-5000", BIG)
    for index in range(1, OTHERS + 1):
        association(index, f"banc-autre-{index}", OTHER_SIZE)
    small = association(OTHERS + 1, "banc-10", SMALL)
    print(f"Données : {BIG + OTHERS * OTHER_SIZE + SMALL} adhérents dans {OTHERS + 2} associations "
          f"({time.perf_counter() - started:.1f} s)")
    return big, small


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=15, help="requests per URL (median reported)")
    parser.add_argument("--status-refresh", action="store_true",
                        help="also time services.refresh_all_statuses on the 5 000-member association")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of 5 default list requests (5 000 members), then stop")
    parser.add_argument("--sql", action="store_true",
                        help="print the SQL queries (with their time) of one default list page, 5 000 members")
    args = parser.parse_args()
    tmp, on_server = configure()

    from django.contrib import admin
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone
    from django_scopes import scope

    from associations.models import Member, Role, User, UserRole

    old_name = None
    try:
        if on_server:  # never touch the real database: a test_<name> copy, dropped at the end
            old_name = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        else:
            call_command("migrate", verbosity=0)
        print(f"Base : {connection.vendor} ({connection.settings_dict['NAME']})")

        if Member not in admin.site._registry:  # only for this run, when the project has no Member admin
            class BenchMemberAdmin(admin.ModelAdmin):
                list_display = ["__str__", "profession", "college", "city", "status"]
                list_select_related = ["profession", "college"]
                list_filter = ["association", "status"]
                search_fields = ["last_name", "first_name", "structure_name", "email"]

            admin.site.register(Member, BenchMemberAdmin)
            print("Admin : aucun ModelAdmin pour Member dans le projet, un ModelAdmin simple est enregistré ici.")

        # Not DEBUG while loading: Django's SQL logging would quote ~1 million parameters.
        with override_settings(DEBUG=False), transaction.atomic():
            big, small = build(random.Random(2026), timezone.localdate())
        coordinator = User.objects.create_user(email="coordination@bench.example.org", password=None)
        for association in (big, small):
            with scope(association=association):
                UserRole.objects.create(association=association, user=coordinator, role=Role.COORDINATOR)
        operator = User.objects.create_superuser(email="operateur@bench.example.org", password=None)
        staff, superuser = Client(), Client()
        staff.force_login(coordinator)
        superuser.force_login(operator)

        def median_ms(client: Client, url: str) -> tuple[str, int]:
            """'median (min)' in ms: the minimum shows the cost when the machine is busy elsewhere."""
            response = client.get(url)  # warm-up: templates, caches, connection
            timings = []
            for _ in range(args.requests):
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            return statistics.median(timings), min(timings), response.status_code

        def queries(client: Client, url: str) -> int:
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            return len(captured.captured_queries)

        if args.profile:
            import cProfile
            import pstats

            url = reverse("member_list", kwargs={"association_slug": big.slug})
            staff.get(url)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                staff.get(url)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(35)
            return

        variants = [("tri par défaut", "", ""), ("?status=up_to_date", "status=up_to_date", "status__exact=up_to_date"),
                    ("?q=mar", "q=mar", "q=mar")]
        admin_url = "/admin/associations/member/"
        try:
            list_urls = {slug: reverse("member_list", kwargs={"association_slug": slug})
                         for slug in (big.slug, small.slug)}
        except NoReverseMatch:
            list_urls = None
            print("\n!! L'URL « member_list » n'existe pas encore : seule la liste de l'admin est mesurée.\n")

        def cell(median: float, fastest: float, code: int) -> str:
            return f"{median:.0f} ({fastest:.0f})" + ("" if code == 200 else f" HTTP {code}")

        print(f"\nTemps serveur en ms, médiane (minimum) sur {args.requests} requêtes ; association de {BIG} "
              f"adhérents (+ {OTHERS * OTHER_SIZE + SMALL} dans les autres associations) :")
        print(f"{'requête':22} {'liste':>14} {'admin':>14} {'liste/admin':>12} {'admin, toutes assoc.':>21}")
        for label, list_query, admin_query in variants:
            scoped_admin = f"{admin_url}?association__id__exact={big.pk}" + (f"&{admin_query}" if admin_query else "")
            admin_median, admin_min, admin_code = median_ms(superuser, scoped_admin)
            all_cell = cell(*median_ms(superuser, admin_url + (f"?{admin_query}" if admin_query else "")))
            if list_urls:
                list_median, list_min, list_code = median_ms(
                    staff, list_urls[big.slug] + (f"?{list_query}" if list_query else ""))
                ratio = f"{list_median / admin_median:.2f}"
                list_cell = cell(list_median, list_min, list_code)
            else:
                list_cell, ratio = "—", "—"
            print(f"{label:22} {list_cell:>14} {cell(admin_median, admin_min, admin_code):>14} {ratio:>12} "
                  f"{all_cell:>21}")

        print(f"\nRequêtes SQL par page (association de {SMALL} vs {BIG} adhérents) :")
        print(f"{'requête':22} {'liste ' + str(SMALL):>10} {'liste ' + str(BIG):>11} "
              f"{'admin ' + str(SMALL):>10} {'admin ' + str(BIG):>11}")
        for label, list_query, admin_query in variants:
            counts = []
            if list_urls:
                for slug in (small.slug, big.slug):
                    counts.append(str(queries(staff, list_urls[slug] + (f"?{list_query}" if list_query else ""))))
            else:
                counts += ["—", "—"]
            for association in (small, big):
                url = f"{admin_url}?association__id__exact={association.pk}"
                counts.append(str(queries(superuser, url + (f"&{admin_query}" if admin_query else ""))))
            print(f"{label:22} {counts[0]:>10} {counts[1]:>11} {counts[2]:>10} {counts[3]:>11}")

        if args.sql and list_urls:
            staff.get(list_urls[big.slug])
            with CaptureQueriesContext(connection) as captured:
                staff.get(list_urls[big.slug])
            print(f"\nRequêtes de la liste par défaut ({BIG} adhérents) :")
            for query in captured.captured_queries:
                print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:300]}")

        if args.status_refresh:
            from associations.membership.services import refresh_all_statuses

            with scope(association=big):
                started = time.perf_counter()
                changed = refresh_all_statuses(big)
            print(f"\nrefresh_all_statuses ({BIG} adhérents) : {time.perf_counter() - started:.1f} s, {changed}")
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        connection.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
