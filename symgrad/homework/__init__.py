"""Homework checking: answer files (answers.py), a safe grammar for answers (tokens.py, parse.py, poly.py),
problem meanings (problem.py), named slips (slips.py), judging (judge.py), the report model (report.py)
and answer-file templates (template.py)."""
