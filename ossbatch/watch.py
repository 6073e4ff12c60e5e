"""Progress display of jobs: one rich progress bar per job (done/total, rate, ETA, failures)."""

from __future__ import annotations

import time

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column

from ossbatch.jobs import Jobs, JobStatus
from ossbatch.output import WIDE_ENOUGH

SCALE = 10_000  # bar resolution when only a fraction is known


def describe(st: JobStatus, rate: float, wide: bool = True) -> str:
    p = st.progress
    parts = [f"{p.done:,} done"]
    if wide and p.total is not None:  # "~": an estimated total; 80 columns: the percent says it
        parts[0] = (
            f"{p.items:,}/{'~' if p.total.estimate else ''}{p.total.objects:,} items, " + parts[0]
        )
    if p.skipped:
        parts.append(f"{p.skipped:,} skipped")
    parts.append(f"[{'red' if p.failed else 'green'}]{p.failed:,} failed[/]")
    if p.pending:
        parts.append(f"{p.pending:,} restoring")
    parts.append(f"{rate:,.0f}/s")
    return " · ".join(parts)


class Watcher:
    """Polls Jobs.status for each job and renders bars until every job finished."""

    def __init__(self, jobs: Jobs, job_ids: list[str], interval: float = 2.0):
        self.jobs = jobs
        self.job_ids = job_ids
        self.interval = interval

    def run(self, console=None, timeout: float | None = None) -> dict[str, JobStatus]:
        wide = console is None or (console.is_terminal and console.width >= WIDE_ENOUGH)
        columns = [TextColumn("[bold]{task.fields[job]}[/] {task.fields[state]}")]
        if wide:  # 80 columns, pipes and CI: no bar, so the job id and counts are never cut
            columns += [BarColumn(), TextColumn("{task.percentage:>5.1f}%"), TimeRemainingColumn()]
        else:
            columns += [TextColumn("{task.percentage:>5.1f}%")]
        # the counts wrap onto the next line rather than end in "…" on a narrow terminal
        columns.append(
            TextColumn("{task.fields[info]}", table_column=Column(overflow="fold", ratio=1))
        )
        progress = Progress(*columns, console=console, transient=False)
        tasks = {
            job: progress.add_task("", total=SCALE, job=job, state="", info="")
            for job in self.job_ids
        }
        known: dict[str, list] = {job: [] for job in self.job_ids}
        final: dict[str, JobStatus] = {}
        first_seen: dict[str, tuple[float, int]] = {}
        deadline = time.monotonic() + timeout if timeout else None
        with progress:
            while len(final) < len(self.job_ids):
                for job in self.job_ids:
                    if job in final:
                        continue
                    st = self.jobs.status(job, known[job])
                    known[job] = st.executions
                    now = time.monotonic()
                    start_t, start_items = first_seen.setdefault(job, (now, st.progress.items))
                    rate = (st.progress.items - start_items) / max(now - start_t, 1e-6)
                    fraction = st.progress.share
                    if st.finished and st.state == "succeeded":
                        fraction = 1.0
                    progress.update(
                        tasks[job],
                        completed=int((fraction or 0) * SCALE),
                        state=st.state,
                        info=describe(st, rate, wide),
                    )
                    if st.finished:
                        final[job] = st
                if len(final) < len(self.job_ids):
                    if deadline and time.monotonic() > deadline:
                        break
                    time.sleep(self.interval)
        return final
