"""Judging a batch of answer files on several cores: the reports are the same, in the same order, as
one process gives (`Judge.judge_file` on each file in turn).

The parent judges the first file, so the problem (usually one for a whole class) is built before
the workers start; where processes fork, they inherit it and every term parsed so far. Then the
parent and jobs - 1 workers take runs of consecutive files from a shared counter until none are left
(a slow run does not hold the others up); the workers send their reports back, and the parent puts
every run in its place. A worker that dies (killed, out of memory) costs time, not reports: the
parent judges whatever it did not send.
"""

from __future__ import annotations

import gc
import os

from .judge import Judge
from .report import FileReport

MAX_JOBS = 256
MIN_PARALLEL = 8  # fewer files than this are judged in one process: starting workers would cost more
RUN = 8  # files per run, at most

_worker: Judge | None = None  # the judge a forked worker inherits


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def judge_files(judge: Judge, paths: list[str], jobs: int = 1) -> list[FileReport]:
    """Every file's report, in the order given; `jobs` processes (this one and jobs - 1 workers) share the work."""
    return [report for report, _ in judge_and_render(judge, paths, jobs)]


def judge_and_render(judge: Judge, paths: list[str], jobs: int = 1, render=None) -> list[tuple[FileReport, object]]:
    """Every file's (report, render(report)), in the order given: `render` (a renderer's part for one
    file, see render.formats.file_part) runs where the file was judged, so a class's report is laid out
    on every core too, and the reports come back as digests (FileReport.digest: the parts show the rest).
    None: no rendering (the second of each pair is None, the reports whole)."""
    jobs = min(jobs, len(paths))
    if jobs <= 1 or len(paths) < MIN_PARALLEL:
        return [_judged(judge, path, render) for path in paths]
    import multiprocessing
    import queue

    global _worker
    first = _judged(judge, paths[0], render)
    rest = paths[1:]
    size = max(1, min(RUN, len(rest) // (jobs * 8)))
    runs = [rest[i : i + size] for i in range(0, len(rest), size)]
    forked = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forked else "spawn")
    try:
        counter, done = context.Value("i", 0), context.Queue()
    except (OSError, ImportError):  # no semaphores here (some sandboxes): one process does it all
        return [first] + [_judged(judge, path, render) for path in rest]
    settings = None if forked else judge.settings()
    if forked:  # what the parent built stays put: a worker's collector does not touch (and copy) it
        gc.freeze()
    _worker = judge
    workers = []
    results: dict[int, list] = {}
    try:
        for _ in range(jobs - 1):
            worker = context.Process(target=_work, args=(settings, counter, done, runs, render), daemon=True)
            try:
                worker.start()
            except OSError:  # no more processes to be had: the ones started (or the parent alone) go on
                break
            workers.append(worker)
        while (k := _take(counter, len(runs))) is not None:
            results[k] = [_judged(judge, path, render) for path in runs[k]]
            while not done.empty():  # take the workers' runs as they come: the parent's share shrinks to match
                k, judged = done.get()
                results[k] = judged
        while len(results) < len(runs):
            try:
                k, judged = done.get(timeout=0.2)
                results[k] = judged
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers) and done.empty():
                    break
        for k in range(len(runs)):  # runs a dead worker took and never sent
            if k not in results:
                results[k] = [_judged(judge, path, render) for path in runs[k]]
    finally:
        _worker = None
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        if forked:
            gc.unfreeze()
    return [first] + [pair for k in range(len(runs)) for pair in results[k]]


def _judged(judge: Judge, path: str, render) -> tuple[FileReport, object]:
    """A file's report and its part of the report (then the report's digest: only the part shows the
    answers and terms, and they are most of what a worker would send back)."""
    report = judge.judge_file(path)
    if render is None:
        return report, None
    return report.digest(), render(report)


def _take(counter, count: int) -> int | None:
    """The next run's number, or None when every run is taken."""
    with counter.get_lock():
        k = counter.value
        counter.value = k + 1
    return k if k < count else None


def _work(settings: dict | None, counter, done, runs: list[list[str]], render) -> None:
    """A worker: take runs and send back their reports. Ctrl-C is the parent's to handle (it stops the
    workers); a spawned worker builds its judge from the parent's settings."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    judge = _worker if settings is None else Judge(**settings)
    while (k := _take(counter, len(runs))) is not None:
        done.put((k, [_judged(judge, path, render) for path in runs[k]]))
    done.close()
    done.join_thread()
