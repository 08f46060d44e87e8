"""Print the exercise-checker tables: every checker with its right and wrong variants
and the verdict on each wrong one, then the mutation run (a broken reference must
reject the right answers). Run: python tests/course/exercise_report.py [--verdicts]"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from exercise_cases import CASES  # noqa: E402
from test_checker_mutations import BREAKS, mutate  # noqa: E402


def main(show_verdicts):
    print("| checker | right accepted | wrong rejected (hint named) |")
    print("|---|---|---|")
    for name, (right, wrong) in CASES.items():
        accepted = sum(thunk().ok for _, thunk in right)
        verdicts = [(label, thunk(), hint) for label, thunk, hint in wrong]
        rejected = sum(not v.ok for _, v, _ in verdicts)
        named = sum(not v.ok and hint in v.message for _, v, hint in verdicts)
        print(f"| {name} | {accepted}/{len(right)} | {rejected}/{len(wrong)} ({named}) |")
        if show_verdicts:
            for label, verdict, _ in verdicts:
                print(f"|   {label} | | {verdict!r} |")
    print()
    print("| checker | " + " | ".join(BREAKS) + " |")
    print("|---|" + "---|" * len(BREAKS))
    for name, (right, _) in CASES.items():
        cells = []
        for kind in BREAKS:
            with pytest.MonkeyPatch.context() as monkeypatch:
                mutate(monkeypatch, name, kind)
                rejected = sum(not thunk().ok for _, thunk in right)
            cells.append(f"{rejected}/{len(right)} rejected")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main("--verdicts" in sys.argv)
