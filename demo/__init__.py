"""Demo and benchmark data: ``seed_demo``, ``seed_audit`` and the synthetic audit rows they add.

Installed only with ``DEBUG`` on or ``DEVLAB_DEMO=True`` (devlab/settings.py):
a production image has neither command, so it cannot append validly chained,
back-dated audit rows or accounts with a known password.
"""
