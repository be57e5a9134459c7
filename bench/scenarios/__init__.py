"""The benchmark's scenarios, one module each, run in order by ``bench/run.py``.

Each module measures one thing on the run's servers and adds its rows,
measurements and lines of the target table to ``BenchRun.results``; those that
the query counts cover name their requests in ``QUERY_REQUESTS``.
"""
