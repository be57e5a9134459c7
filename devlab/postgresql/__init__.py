"""Django's PostgreSQL backend, reading ``timestamptz`` columns with psycopg's C loader (``base.py``)."""
