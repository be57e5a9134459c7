"""The original system and DevLab, alternately, on their own fresh databases (``bench/compare.py``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bench import compare
from bench.report import Target

if TYPE_CHECKING:
    from bench.context import BenchRun


def measure(run: BenchRun) -> None:
    """Its table becomes a section of the results, its goals lines of the target table."""
    started = time.monotonic()
    run.say("side by side with the original system (bench/compare.py)")
    result = compare.run(
        run.profile["compare_rounds"], run.profile["duration"], run.profile["warmup"], run.log, run.extra_env
    )
    if result is None:
        run.results.notes.append(f"Side by side: skipped, the original system is not at {compare.SEED_APP}.")
        return
    run.results.measurements["side_by_side"] = result
    run.results.sections.append(compare.markdown(result))
    for goal, value in result["goals"].items():
        measured = f"{value}x" if isinstance(value, float) else str(value)
        run.results.targets.append(Target(f"side by side: {goal}", measured, goal, result["met"][goal]))
    run.phase("side by side with the original system", started)
