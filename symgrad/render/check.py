"""Reports of `symgrad check`: JSON (per file, per entry), Gradescope's results.json and Markdown here,
text (rich) in check_text.py. All four render the same `FileReport` list, the report model of
homework/report.py; each lays out one file's part alone too (formats.file_part, for `check --jobs`).
"""

from __future__ import annotations

import json
from functools import lru_cache

from ..errors import printable
from ..homework.report import SLIPS, EntryVerdict, FileReport, KeyReport, summary, title

GRID_LIMIT = 16  # ✓/✗ grids are drawn for tensors up to this many columns and rows
SHOWN_WRONG = 12  # wrong entries explained per tensor in text (all of them with --full)
SHOWN_TERMS = 8  # missing / extra terms listed per entry in text


# --- JSON


def _entry_data(v: EntryVerdict) -> dict:
    data = {"index": list(v.index), "name": v.name, "status": v.status, "answer": v.answer}
    if v.status == "wrong":
        data.update(missing=list(v.missing), extra=list(v.extra), missing_count=v.missing_count, extra_count=v.extra_count,
                    slips=[{"id": s, "description": SLIPS[s]} for s in v.slips])
    if v.message:
        data["message"] = v.message
    return data


def _key_data(k: KeyReport) -> dict:
    data = {"shape": list(k.shape), "score": k.score, "max_score": k.max_score}
    if k.error:
        data["error"] = k.error
    if k.note:
        data["note"] = k.note
    data["entries"] = k.verdicts  # written by _entry_json
    return data


def file_data(r: FileReport) -> dict:
    data = {"file": r.path, "student": r.student, "problem": r.problem, "status": r.status,
            "score": r.score, "max_score": r.max_score}
    if r.error:
        data["error"] = r.error
    if r.notes:
        data["notes"] = list(r.notes)
    data["answers"] = {k.key: _key_data(k) for k in r.keys}
    return data


def render_check_json(reports: list[FileReport], tolerance: float, parts: list | None = None) -> str | list[bytes]:
    """The JSON report; `parts`: each file's part already written (file_part), else written here. Parts
    given as UTF-8 (file_part's, encoded where they were laid out) give the report as UTF-8 pieces, to
    write one after another (files.write_atomic): a class's report is tens of megabytes, and one
    non-ASCII character would make the whole text take twice the memory and most of a second to encode."""
    out: list = []
    files = [_Written(part) for part in (parts if parts is not None else map(file_json, reports))]
    _write_json({"tolerance": tolerance, "summary": summary(reports), "files": files}, out, 0)
    out.append("\n")
    if parts and isinstance(parts[0], bytes):  # (the pieces, written one after another: 90 MB not joined first)
        return [piece if isinstance(piece, bytes) else piece.encode() for piece in out]
    return "".join(out)


class _Written:
    """JSON already laid out at its place (a file's part, file_json): _write_json copies it as it is (a
    class's report is tens of megabytes: the part is not copied on the way)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def file_json(r: FileReport) -> str:
    """One file's object in the report's "files" (laid out at its depth there)."""
    out: list[str] = []
    _write_json(file_data(r), out, 2)
    return "".join(out)


def file_json_utf8(r: FileReport) -> bytes:
    """file_json, encoded (see render_check_json)."""
    return file_json(r).encode()


_encode = json.JSONEncoder(ensure_ascii=False).encode  # one line, by the C encoder
_string = json.encoder.encode_basestring  # a str as JSON (C)


def _entry_json(entry) -> str:
    """One entry of a report on one line, as json.dumps writes _entry_data(entry): right and wrong entries
    (nearly all of a class's) written directly, the C encoder called once per string; a summary's entry
    (a dict) as it is."""
    if not isinstance(entry, EntryVerdict):
        return _encode(entry)
    if entry.status not in ("right", "wrong"):
        return _encode(_entry_data(entry))
    head = _entry_head(entry.index, entry.name, entry.status)
    if entry.status == "right" and not entry.message:
        return head + _string(entry.answer) + "}"
    return head + _string(entry.answer) + _entry_tail(entry.status, entry.missing, entry.extra, entry.missing_count,
                                                      entry.extra_count, entry.slips, entry.message)


@lru_cache(maxsize=100_000)
def _entry_head(index: tuple, name: str, status: str) -> str:
    """An entry's line up to its answer (the same for the entry in every file of a class)."""
    return f'{{"index": [{", ".join(map(str, index))}], "name": {_string(name)}, "status": "{status}", "answer": '


@lru_cache(maxsize=20_000)
def _entry_tail(status: str, missing: tuple, extra: tuple, missing_count: int, extra_count: int, slips: tuple,
                message: str) -> str:
    """An entry's line after its answer (a class's shared mistake: the same terms and slips in many files)."""
    tail = ""
    if status == "wrong":
        shown = ", ".join(f'{{"id": {_string(s)}, "description": {_string(SLIPS[s])}}}' for s in slips)
        tail = (f', "missing": [{", ".join(map(_string, missing))}], "extra": [{", ".join(map(_string, extra))}], '
                f'"missing_count": {missing_count}, "extra_count": {extra_count}, "slips": [{shown}]')
    return tail + (f', "message": {_string(message)}}}' if message else "}")


def _write_json(value, out: list[str], depth: int) -> None:
    """`value` as json.dumps(indent=1) lays it out, except that every item of an `entries` list is one line:
    a class's report has hundreds of thousands of entries, which the C encoder writes ten times faster."""
    inner = "\n" + " " * (depth + 1)
    if isinstance(value, _Written):
        out.append(value.text)
    elif isinstance(value, dict) and value:
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + inner + _encode(key) + ": ")
            if key == "entries" and isinstance(item, (list, tuple)) and item:
                out.append("[" + ",".join(inner + " " + _entry_json(entry) for entry in item) + inner + "]")
            else:
                _write_json(item, out, depth + 1)
        out.append("\n" + " " * depth + "}")
    elif isinstance(value, list) and value:
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + inner)
            _write_json(item, out, depth + 1)
        out.append("\n" + " " * depth + "]")
    else:
        out.append(_encode(value))


# --- Gradescope (https://gradescope-autograders.readthedocs.io: results.json)


def _explanation(v: EntryVerdict, terms: int | None) -> list[tuple[str, str]]:
    """A wrong entry's explanation as (kind, text) parts: missing and extra terms (at most `terms` of
    each, None: all), the slips it looks like, and any message."""
    parts = []
    numbers = v.message.startswith("expected ")  # a number's entry: "expected -1/2, you wrote -0.4" says it all
    for label, items, count in (("missing", v.missing, v.missing_count), ("extra", v.extra, v.extra_count)):
        if items and not numbers:
            shown = items if terms is None else items[:terms]
            more = f" (and {count - len(shown)} more)" if count > len(shown) else ""
            parts.append((label, f"{label}: {', '.join(shown)}{more}"))
    if v.slips:
        parts.append(("slips", "looks like: " + "; or: ".join(SLIPS[s] for s in v.slips)))
    if v.message:
        parts.append(("message", v.message))
    return parts


def _entry_line(v: EntryVerdict) -> str:
    """One wrong / unanswered / unreadable entry, explained on one line."""
    if v.status == "unanswered":
        return f"✗ {v.name}: no answer"
    if v.status == "error":
        return f"✗ {v.name}: could not be read: {v.message}"
    return f"✗ {v.name}: " + "; ".join(text for _, text in _explanation(v, None))


def gradescope_result(r: FileReport, prefix: str = "") -> dict:
    who = printable(f"{r.student} ({r.path})" if r.student else r.path)
    if r.error:
        return {"score": 0, "output": f"{who}: the answer file could not be used: {r.error}",
                "tests": [{"name": f"{prefix}answer file", "score": 0, "max_score": 0, "status": "failed", "output": r.error}]}
    tests = []
    for k in r.keys:
        lines = [k.error] if k.error else []
        lines += [_entry_line(v) for v in k.verdicts if v.status != "right"]
        if k.note:
            lines.append(k.note)
        if not lines:
            lines = [f"✓ all {k.max_score} entries right"]
        tests.append({
            "name": f"{prefix}{title(k.key)} ({k.key})",
            "score": k.score,
            "max_score": k.max_score,
            "status": "passed" if k.score == k.max_score and not k.error else "failed",
            "output": "\n".join(lines),
        })
    output = "\n".join([f"{who}: {r.problem}: {r.score}/{r.max_score} entries right", *r.notes])
    return {"score": r.score, "output": output, "tests": tests}


def render_gradescope(reports: list[FileReport]) -> str:
    """Gradescope's results.json for one submission. Several files (parts of one submission) are merged:
    their tests in order, named after their file, and the scores added up; files of different students are
    refused (one results.json is one student's grade)."""
    students = list(dict.fromkeys(r.student for r in reports if r.student))
    if len(students) > 1:
        from ..errors import OptionError

        shown = ", ".join(repr(printable(s)) for s in students[:5]) + (", ..." if len(students) > 5 else "")
        raise OptionError(f"--format gradescope grades one submission, but these files are from {len(students)} "
                          f"different students ({shown}); run it once per student, or use --format json")
    results = [gradescope_result(r, f"{printable(r.path)}: " if len(reports) > 1 else "") for r in reports]
    merged = {"score": sum(r["score"] for r in results), "output": "\n".join(r["output"] for r in results),
              # shown as plain text: a student's answer or id is never read as HTML or Markdown
              "output_format": "text", "test_output_format": "text", "test_name_format": "text",
              "tests": [t for r in results for t in r["tests"]]}
    return json.dumps(merged, indent=1, ensure_ascii=False) + "\n"


# --- Markdown (a class report for a course page, MyST / Jupyter Book, GitHub)


def _class_markdown(s: dict, md) -> list[str]:
    """What to re-teach: the slips by how many files show them, and the entries most often wrong."""
    lines: list[str] = []
    if s["slips"]:
        lines += ["## What to re-teach: the slips", "", "| slip | files | what the students did |", "|---|---:|---|"]
        lines += [f"| `{slip}` | {count} of {s['files']} | {md(SLIPS[slip])} |" for slip, count in s["slips"].items()]
        lines.append("")
    hardest = sorted((e for e in s["entries"] if e["right"] < e["files"]), key=lambda e: (e["right"] / e["files"], e["key"]))
    if hardest and s["files"] > 1:
        lines += ["## The entries most often wrong", "", "| answer | entry | right |", "|---|---|---:|"]
        lines += [f"| {md(title(e['key']))} | {md(e['name'])} | {e['right']} of {e['files']} |" for e in hardest[:10]]
        if len(hardest) > 10:
            lines.append(f"\n{len(hardest) - 10} more entries were wrong in some file (the JSON summary lists every entry).")
        lines.append("")
    return lines


def render_check_markdown(reports: list[FileReport], full: bool = False, parts: list[str] | None = None) -> str:
    """A summary table, then per file and tensor the wrong entries explained. Everything from the
    files (paths, student ids, answers, messages) is escaped: it reads as text, never as markup."""
    from .markdown import markdown_code, markdown_text as md

    s = summary(reports)
    lines = [f"# symgrad check: {s['files']} answer file{'s' if s['files'] != 1 else ''}", "",
             "| file | student | problem | score | result |", "|---|---|---|---:|---|"]
    for r in reports:
        result = {"right": "✓ right", "wrong": "✗ wrong", "error": "unusable" if r.error else "✗ unreadable entries"}[r.status]
        lines.append(f"| {markdown_code(r.path)} | {md(r.student)} | {md(r.problem)} | {r.score}/{r.max_score} | {result} |")
    lines += ["", f"{s['right']} of {s['files']} files all right, {s['wrong']} with wrong entries, {s['unusable']} unusable, {s['with_unreadable_entries']} with unreadable entries; "
                  f"{s['score']}/{s['max_score']} entries right in all.", ""]
    lines += _class_markdown(s, md)
    lines += parts if parts is not None else [file_markdown(r, full) for r in reports]
    return "\n".join(lines).rstrip() + "\n"


def file_markdown(r: FileReport, full: bool = False) -> str:
    """One file's section of the Markdown report."""
    from .markdown import markdown_code, markdown_text as md

    lines = [f"## {markdown_code(r.path)}" + (f" (student {md(r.student)})" if r.student else ""), ""]
    if r.error:
        return "\n".join(lines + [f"Unusable: {md(r.error)}", ""])
    lines += [f"{md(r.problem)}: {r.score}/{r.max_score} entries right.", ""]
    lines += [f"- note: {md(note)}" for note in r.notes]
    for k in r.keys:
        lines += _key_markdown(k, full, md, markdown_code)
    return "\n".join(lines)


def _key_markdown(k: KeyReport, full: bool, md, code) -> list[str]:
    head = f"### {md(title(k.key))} ({md(k.key)}): "
    if k.error:
        return [head + f"unreadable: {md(k.error)}", ""]
    if k.score == k.max_score:
        return [head + f"✓ all {k.max_score} right", ""]
    out = [head + f"{k.score}/{k.max_score} right", ""]
    unanswered = [v.name for v in k.verdicts if v.status == "unanswered"]
    if unanswered:
        listed = unanswered if full or len(unanswered) <= 8 else unanswered[:6] + ["..."] + unanswered[-1:]
        out.append(f"- no answer ({len(unanswered)}): {md(', '.join(listed))}")
    wrong = [v for v in k.verdicts if v.status not in ("right", "unanswered")]
    shown = wrong if full else wrong[:SHOWN_WRONG]
    for v in shown:
        if v.status != "wrong":
            out.append(f"- {md(_entry_line(v))}")
            continue
        parts = [md(text) for _, text in _explanation(v, None if full else SHOWN_TERMS)]
        answer = f"; answer {code(v.answer)}" if v.answer and (full or len(v.answer) <= 300) else ""
        out.append(f"- ✗ {md(v.name)}: " + "; ".join(parts) + answer)
    if len(shown) < len(wrong):
        out.append(f"- ... and {len(wrong) - len(shown)} more wrong entries (--full shows all)")
    if k.note:
        out.append(f"- note: {md(k.note)}")
    return out + [""]
