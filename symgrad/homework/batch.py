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
    jobs = min(jobs, len(paths))
    if jobs <= 1 or len(paths) < MIN_PARALLEL:
        return [judge.judge_file(path) for path in paths]
    import multiprocessing
    import queue

    global _worker
    first = judge.judge_file(paths[0])
    rest = paths[1:]
    size = max(1, min(RUN, len(rest) // (jobs * 8)))
    runs = [rest[i : i + size] for i in range(0, len(rest), size)]
    forked = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forked else "spawn")
    counter, done = context.Value("i", 0), context.Queue()
    settings = None if forked else judge.settings()
    if forked:  # what the parent built stays put: a worker's collector does not touch (and copy) it
        import gc

        gc.freeze()
    _worker = judge
    workers = [context.Process(target=_work, args=(settings, counter, done, runs), daemon=True) for _ in range(jobs - 1)]
    results: dict[int, list[FileReport]] = {}
    try:
        for worker in workers:
            worker.start()
        while (k := _take(counter, len(runs))) is not None:
            results[k] = [judge.judge_file(path) for path in runs[k]]
        while len(results) < len(runs):
            try:
                k, reports = done.get(timeout=0.2)
                results[k] = reports
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers) and done.empty():
                    break
        for k in range(len(runs)):  # runs a dead worker took and never sent
            if k not in results:
                results[k] = [judge.judge_file(path) for path in runs[k]]
    finally:
        _worker = None
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        if forked:
            import gc

            gc.unfreeze()
    return [first] + [report for k in range(len(runs)) for report in results[k]]


def _take(counter, count: int) -> int | None:
    """The next run's number, or None when every run is taken."""
    with counter.get_lock():
        k = counter.value
        counter.value = k + 1
    return k if k < count else None


def _work(settings: dict | None, counter, done, runs: list[list[str]]) -> None:
    """A worker: take runs and send back their reports. Ctrl-C is the parent's to handle (it stops the
    workers); a spawned worker builds its judge from the parent's settings."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    judge = _worker if settings is None else Judge(**settings)
    while (k := _take(counter, len(runs))) is not None:
        done.put((k, [judge.judge_file(path) for path in runs[k]]))
    done.close()
    done.join_thread()
