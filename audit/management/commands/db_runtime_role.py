"""Grants the runtime database role its rights: ``manage.py db_runtime_role NAME``.

Run with the owner's ``DATABASE_URL`` (the role that runs ``migrate`` and owns
the tables), after ``migrate``. Creates ``NAME`` when missing, with no login
and no password (the operator gives it those: ``ALTER ROLE NAME LOGIN PASSWORD
'...'``), and grants it ordinary rights on every table but the audit tables,
``SELECT`` and ``INSERT`` only on those (audit/dbroles.py). Idempotent: run it
again after every ``migrate`` (the container entrypoint does).

It lives in the audit app because what it guarantees is the audit trail's:
the role the app runs as cannot rewrite, truncate or unprotect it.
"""

from django.core.management.base import BaseCommand, CommandError

from audit import dbroles


class Command(BaseCommand):
    help = (
        "Creates the runtime PostgreSQL role NAME when missing (NOLOGIN, no password) and grants it ordinary "
        "rights on every table but the audit tables, SELECT and INSERT only on those. Run as the owner, after migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the runtime role the app connects as")
        parser.add_argument("--database", default="default", help="the database alias (default: default)")

    def handle(self, *args, **options):
        try:
            report = dbroles.grant_runtime_role(options["name"], using=options["database"])
        except dbroles.RoleError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 1:
            created = "created (NOLOGIN, no password), " if report.created else ""
            self.stdout.write(
                f"Runtime role {report.role}: {created}SELECT, INSERT, UPDATE, DELETE on {len(report.tables)} tables; "
                f"SELECT, INSERT only on {', '.join(report.audit_tables) or 'no audit table yet'}; "
                "the same for tables later migrations add."
            )
