"""Fault and scale-out scenarios (`make reliability`); never run as unit tests.

Everything here is loopback-only and bounded in time: a throwaway PostgreSQL
cluster of its own (so that stopping it or filling its connection slots
troubles nobody else), gunicorn servers on free ports, nginx in front of two
of them, and Redis database 5. Every process started is stopped by its pid.
"""
