"""What people see of a batch: a progress bar (or plain lines in CI) and the closing table."""
import shutil
import sys

from rich import progress as rp
from rich.console import Console
from rich.table import Table

from ..vocabulary import Outcome


class Progress:
    """A rich progress bar with ETA on a terminal; one plain line per grade elsewhere (CI)."""

    def __init__(self, console: Console | None):
        self.console, self.bar, self.done, self.total = console, None, 0, 0

    @classmethod
    def for_terminal(cls) -> "Progress":
        return cls(Console() if sys.stdout.isatty() else None)

    def start(self, total: int, skipped: int) -> None:
        self.total = total
        if skipped:
            print(f"{skipped} already graded with the same submission and grader: skipped")
        if self.console is None or not total:
            return
        self.bar = rp.Progress(rp.TextColumn("grading"), rp.BarColumn(), rp.MofNCompleteColumn(),
                               rp.TimeElapsedColumn(), rp.TextColumn("ETA"), rp.TimeRemainingColumn(),
                               rp.TextColumn("{task.description}"), console=self.console)
        self.bar.start()
        self.task = self.bar.add_task("", total=total)

    def note(self, text: str) -> None:
        """A line said before the grading starts."""
        print(text, flush=True)

    def advance(self, student: str, data: dict) -> None:
        self.done += 1
        extra = data["extra_data"]
        if extra.get("status") == Outcome.NOT_GRADED:
            line = f"{student}: not graded ({extra['not_graded'][:200]})"
        else:
            line = (f"{student}: {data['score']:g}/{extra['max_score']:g} {extra.get('status', Outcome.OK)} "
                    f"({data.get('execution_time', 0.0):.1f} s)")
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=line)
        else:
            print(f"[{self.done}/{self.total}] {line}", flush=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def print_summary(summary, command: str) -> None:
    """The closing table of `grader batch` (every student, or only the problems past 40), and what to
    do next when the run did not grade everyone (command: the command to run again)."""
    for warning in summary.warnings:
        print(f"warning: {warning}")
    if not summary.entries:
        print("no submissions found", file=sys.stderr)
        return
    table = Table(title=f"{len(summary.rows)} students ({summary.layout} layout)", title_justify="left")
    for column, justify in (("student", "left"), ("score", "right"), ("status", "left"), ("message", "left")):
        table.add_column(column, justify=justify, overflow="fold" if column == "message" else "ellipsis")
    shown = summary.rows if len(summary.rows) <= 40 else [r for r in summary.rows if r.status != Outcome.OK]
    for row in shown:
        score = f"{row.total:g}/{row.max:g}" if row.graded else "–"
        table.add_row(row.student, score, row.status, row.message[:100])
    Console(width=max(100, shutil.get_terminal_size().columns)).print(table)
    if len(shown) < len(summary.rows):
        print(f"({len(summary.rows) - len(shown)} students graded ok are listed in gradebook.csv)")
    state = "interrupted after" if summary.interrupted else "stopped after" if summary.lost else "done:"
    apart = f", {len(summary.not_graded)} not graded" if summary.not_graded else ""
    print(f"{state} {len(summary.graded)} graded, {len(summary.skipped)} skipped{apart}, "
          f"{summary.elapsed:.1f} s")
    if summary.similar is not None:
        print(f"code similarity: {summary.similar} pair(s) above the threshold "
              f"({summary.out / 'similarity.csv'})")
    print(f"gradebook: {summary.out / 'gradebook.csv'}  report: {summary.out / 'report.html'}")
    missing = len(summary.entries) - summary.stored
    if summary.lost:
        print(f"grader: the batch stopped: {summary.lost}", file=sys.stderr)
    if summary.not_graded:
        print(f"{len(summary.not_graded)} submission(s) could not be graded (status \"not graded\" in "
              "gradebook.csv, with why); they are not stamped, and the next run grades them again.",
              file=sys.stderr)
    if missing and (summary.interrupted or summary.lost or summary.not_graded):
        print(f"{summary.stored} of {len(summary.entries)} students are graded and stored in {summary.out}; "
              f"gradebook.csv and report.html list them. To grade the other {missing}, run again:\n"
              f"  {command}", file=sys.stderr)
