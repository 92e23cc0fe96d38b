"""Benchmark of the members import on a realistic 5 000-row French CSV.

    DEBUG=1 .venv/bin/python bench/import_members.py [--rows 5000] [--encoding cp1252|utf-8-sig]

Sets up Django against a throwaway SQLite database in a temporary folder (migrated from scratch),
creates an association with tariffs and collèges and 500 existing members (so the file mixes creations,
updates and unchanged rows), then times:
- upload: reading the file (decode, sniff the separator, parse) as the upload view does;
- preview: parse + classify every row (the mapping step's work, nothing written);
- apply: the background task body run synchronously (re-parse, classify, write in one transaction).
Prints rows/second for each; target under 10 s each on the 2-core machine. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAST_NAMES = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
              "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
              "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Müller", "Lefèbvre", "Faure",
              "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand"]
FIRST_NAMES = ["Hélène", "Zoé", "Léa", "Chloé", "Anaïs", "Noémie", "Agnès", "Jérôme", "François", "Loïc", "Gaël",
               "Thérèse", "Benoît", "Céline", "Éric", "Stéphane", "Amélie", "Maëlle", "Inès", "Raphaël", "Aurélien"]
PROFESSIONS = ["Médecin généraliste"] * 36 + ["Infirmière", "IDE", "Infirmier"] * 5 + ["Pharmacien"] * 13 + \
    ["Kiné", "Masseur-kinésithérapeute"] * 4 + ["Sage-femme", "Orthophoniste", "Psychologue", "Dentiste",
                                               "Pédicure-podologue", "Diététicienne"] * 3
TOWNS = [("37000", "Tours"), ("37100", "Tours"), ("37200", "Tours"), ("37300", "Joué-lès-Tours"),
         ("37170", "Chambray-lès-Tours"), ("37550", "Saint-Avertin"), ("37700", "Saint-Pierre-des-Corps")]
COLLEGES = ["PS libéraux", "Structures d'exercice coordonné", "Établissements et partenaires"]
HEADER = ["Civilité", "NOM", "Prénom", "Profession", "N° RPPS", "Courriel", "Téléphone", "Adresse", "CP", "Ville",
          "Collège", "Mode d'exercice", "Date d'adhésion"]


def rpps(n: int) -> str:
    from associations.validators import luhn_ok

    base = f"1{n:09d}"
    return next(base + str(d) for d in range(10) if luhn_ok(base + str(d)))


def generate_rows(count: int, rng: random.Random) -> list[list[str]]:
    rows = []
    start = date(2019, 9, 1)
    for i in range(count):
        postal_code, city = rng.choice(TOWNS)
        last, first = rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)
        rows.append([
            rng.choice(["Dr", "Mme", "M.", "Madame", "Monsieur"]), f"  {last}-{i} ", f"{first} ",
            rng.choice(PROFESSIONS), rpps(i + 1) if rng.random() < 0.8 else "",
            f"{first.lower()}.{last.lower()}{i}@exemple.fr".replace("é", "e").replace("è", "e").replace("ë", "e")
            .replace("ï", "i").replace("ô", "o").replace("ü", "u").replace("ç", "c").replace("î", "i"),
            f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            f"{rng.randint(1, 180)} rue {rng.choice(['Nationale', 'de la Paix', 'Émile Zola', 'des Halles'])}",
            postal_code, city, rng.choice(COLLEGES), rng.choice(["Libéral", "libéral", "Salarié", "Mixte"]),
            (start + timedelta(days=rng.randint(0, 2000))).strftime("%d/%m/%Y"),
        ])
    return rows


def to_csv(rows: list[list[str]], encoding: str) -> bytes:
    lines = [";".join(HEADER)] + [";".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(encoding)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--existing", type=int, default=500, help="rows of the file already in the database")
    parser.add_argument("--encoding", default="cp1252", choices=["cp1252", "utf-8-sig"])
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ["VAR_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.setdefault("DEBUG", "1")
    os.environ["REDIS_URL"] = ""
    os.environ["DJANGO_SETTINGS_MODULE"] = "cpts.settings"
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        settings.DEBUG = False  # no query log growing with the rows
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrate: {time.perf_counter() - started:.1f} s  (database {settings.DATABASES['default']['NAME']})")
        run(args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args) -> None:
    from decimal import Decimal

    from django.db import connection
    from django_scopes import scope

    from associations.imports import services as imports
    from associations.imports.tasks import apply_import
    from associations.models import Association, College, ImportJob, Member, Tariff, User

    rng = random.Random(42)  # noqa: S311 - reproducible fake data
    association = Association.objects.create(name="CPTS Banc d'essai", slug="banc-essai", population=120_000)
    actor = User.objects.create_user("coordination@banc.example.org", "x")
    rows = generate_rows(args.rows, rng)
    data = to_csv(rows, args.encoding)
    with scope(association=association):
        for category, amount in (("person", "30.00"), ("structure", "100.00"), ("student", "0.00")):
            Tariff.objects.create(association=association, category=category, amount=Decimal(amount))
        for order, name in enumerate(COLLEGES):
            College.objects.create(association=association, name=name, order=order)
        # Some rows of the file already exist (imported beforehand): half identical (unchanged rows),
        # half with another phone number (updates).
        seed = imports.create_job(association, actor, "existants.csv", to_csv(rows[: args.existing], args.encoding))
        imports.save_mapping(seed, imports.guess_mapping(imports.read_table(data).headers))
        ImportJob.objects.filter(pk=seed.pk).update(status=ImportJob.Status.QUEUED)
        apply_import(association.pk, seed.pk)
        odd = list(Member.objects.filter(association=association).order_by("pk").values_list("pk", flat=True))[1::2]
        Member.objects.filter(pk__in=odd).update(phone="01 00 00 00 00")
        print(f"file: {args.rows} rows, {len(data) / 1024:.0f} KB, {args.encoding}, ';' separated; "
              f"{args.existing} of them already members")

        started = time.perf_counter()
        table = imports.read_table(data, "adherents.csv")
        read = time.perf_counter() - started
        print(f"read (upload check):  {read:6.2f} s  {len(table.rows) / read:9.0f} rows/s")

        job = imports.create_job(association, actor, "adherents.csv", data)
        mapping = imports.guess_mapping(table.headers)
        started = time.perf_counter()
        imports.save_mapping(job, mapping)  # parse + classify + store the preview summary
        preview = time.perf_counter() - started
        counts = job.summary["counts"]
        print(f"preview (parse+classify): {preview:6.2f} s  {args.rows / preview:9.0f} rows/s  {counts}")

        job.status = ImportJob.Status.QUEUED
        job.save(update_fields=["status"])
        counter = _Counter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            outcome = apply_import(association.pk, job.pk)  # the task body, synchronously
        apply = time.perf_counter() - started
        job.refresh_from_db()
        print(f"apply (task body):    {apply:6.2f} s  {args.rows / apply:9.0f} rows/s  {outcome}: "
              f"{job.summary.get('applied')}  ({counter.count} SQL statements)")
        total = Member.objects.filter(association=association).count()
        print(f"members now: {total}")

        # Re-import of the same file: everything unchanged.
        again = imports.create_job(association, actor, "adherents.csv", data)
        started = time.perf_counter()
        imports.save_mapping(again, mapping)
        print(f"re-import preview:    {time.perf_counter() - started:6.2f} s  {again.summary['counts']}")
        print(f"totals: preview {preview:.2f} s, apply {apply:.2f} s (target < 10 s each)")


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


if __name__ == "__main__":
    main()
