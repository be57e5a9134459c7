"""The results of one run: a Markdown table printed and written with its JSON twin."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Target:
    """One line of the issue's target table, evaluated on figures from the same run."""

    scenario: str
    measured: str
    target: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT MET", None: "not measured"}[self.met]


@dataclass
class Results:
    meta: dict = field(default_factory=dict)
    scenarios: list[dict] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    measurements: dict = field(default_factory=dict)
    phases: dict = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)  # further Markdown sections, e.g. the side-by-side table
    notes: list[str] = field(default_factory=list)  # one-line remarks, e.g. a part skipped and why

    def scenario(self, name: str) -> dict | None:
        return next((s for s in self.scenarios if s["name"] == name), None)

    def to_json(self) -> str:
        data = asdict(self)
        data["targets"] = [{**asdict(t), "verdict": t.verdict} for t in self.targets]
        return json.dumps(data, indent=2, sort_keys=False)

    def to_markdown(self) -> str:
        meta = self.meta
        lines = [
            f"# DevLab benchmark {meta.get('date', '')} at {meta.get('commit', '')}"
            + (" (quick)" if meta.get("quick") else ""),
            "",
            f"Machine: {meta.get('cpus')} CPUs ({meta.get('cpu_model', '?')}), {meta.get('memory_gib')} GiB; "
            f"PostgreSQL {meta.get('postgres')}; Python {meta.get('python')}; "
            "gunicorn as gunicorn.conf.py runs it (InlineWorker, one thread, keep-alive), "
            f"workers: {meta.get('workers')} "
            f"({meta.get('workers_chosen_by')}); cache: {meta.get('cache', 'the database cache')}; "
            f"load average before/after: {meta.get('load_before')} / {meta.get('load_after')}; "
            f"wrk: 1 thread, {meta.get('duration_s')} s per run after a {meta.get('warmup_s')} s warm-up; "
            f"total {meta.get('elapsed_s')} s.",
            *([f"Extra settings: `{' '.join(meta['extra_env'])}`."] if meta.get("extra_env") else []),
            *([f"Left out (--skip): {', '.join(meta['skipped'])}."] if meta.get("skipped") else []),
            "",
            "## Targets (ratios measured in this run)",
            "",
            "| scenario | measured | target | verdict |",
            "|---|---|---|---|",
            *(f"| {t.scenario} | {t.measured} | {t.target} | {t.verdict} |" for t in self.targets),
            "",
            "## Load runs",
            "",
            "| scenario | audit rows | conns | rps | p50 ms | p99 ms | max ms | errors | queries/req "
            "| app CPU ms/req | DB CPU ms/req |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in self.scenarios:
            lines.append(
                f"| {s['name']} | {s.get('audit_rows', '')} | {s['connections']} | {s['rps']:.0f} | "
                f"{s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {s['max_ms']:.0f} | {s['errors']} | "
                f"{s.get('queries', '?')} | {s['app_cpu_ms']:.2f} | {s['db_cpu_ms']:.2f} |"
            )
        for section in self.sections:
            lines += ["", section.rstrip()]
        lines += [f"\n{note}" for note in self.notes]
        if sweep := self.measurements.get("worker_sweep"):
            lines += [
                "",
                "## Worker count (gunicorn.conf.py workers; 16 connections)",
                "",
                "| workers | /healthz rps | GET /api/notes/ rps | notes p99 ms |",
                "|---:|---:|---:|---:|",
                *(
                    f"| {row['workers']} | {row['healthz_rps']:.0f} | {row['notes_rps']:.0f} | "
                    f"{row['notes_p99_ms']:.1f} |"
                    for row in sweep
                ),
            ]
        other = {k: v for k, v in self.measurements.items() if k not in ("worker_sweep", "side_by_side")}
        if other:
            lines += ["", "## Other measurements", ""]
            lines += [f"- **{key}**: `{json.dumps(value, sort_keys=True)}`" for key, value in other.items()]
        if self.phases:
            lines += ["", "## Phases (seconds)", ""]
            lines += [f"- {name}: {seconds}" for name, seconds in self.phases.items()]
        return "\n".join(lines) + "\n"

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        md, js = directory / f"{stem}.md", directory / f"{stem}.json"
        md.write_text(self.to_markdown())
        js.write_text(self.to_json() + "\n")
        return md, js
