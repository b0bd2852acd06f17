"""Homework checking: answer files (answers.py), a safe grammar for answers (parse.py, poly.py),
judging with named slips (judge.py) and answer-file templates (template.py)."""
