"""The instructor's commands (run from the repository root)::

    python -m optlib.coursework generate [--source assignments/source]
                                         [--release assignments/release]
    python -m optlib.coursework grade SUBMITTED [--source assignments/source] [--out grades]
                                      [--jobs N] [--cell-timeout S] [--test-timeout S]
                                      [--notebook-timeout S] [--no-sandbox]

Grading runs every submission in a bubblewrap sandbox and refuses to start without one;
``--no-sandbox`` is for trusted notebooks only (your own tests, never students' work).
"""

import argparse
import sys

from .grade import CELL_TIMEOUT, NOTEBOOK_TIMEOUT, TEST_TIMEOUT, GradingError, grade
from .notebooks import MasterError, generate
from .sandbox import SandboxUnavailable


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m optlib.coursework",
                                     description="Course assignments: generate student "
                                                 "versions, grade submissions.")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write the student version of every master")
    gen.add_argument("--source", default="assignments/source", help="folder of masters")
    gen.add_argument("--release", default="assignments/release",
                     help="folder for the student versions")
    grd = commands.add_parser("grade", help="grade a folder of submissions")
    grd.add_argument("submitted", help="folder with one sub-folder per student")
    grd.add_argument("--source", default="assignments/source", help="folder of masters")
    grd.add_argument("--out", default="grades",
                     help="folder for grades.csv, scores.csv and feedback/")
    grd.add_argument("--jobs", type=int, default=None, help="submissions graded at once")
    grd.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT)
    grd.add_argument("--test-timeout", type=float, default=TEST_TIMEOUT)
    grd.add_argument("--notebook-timeout", type=float, default=NOTEBOOK_TIMEOUT)
    grd.add_argument("--no-sandbox", action="store_true",
                     help="run submissions without the bubblewrap sandbox: for trusted "
                          "notebooks only (your own tests), never students' work")
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            for path in generate(args.source, args.release):
                print(f"wrote {path}")
            return 0
        results = grade(args.submitted, args.source, args.out, jobs=args.jobs,
                                cell_timeout=args.cell_timeout,
                                test_timeout=args.test_timeout,
                                notebook_timeout=args.notebook_timeout,
                                sandbox=not args.no_sandbox)
    except (MasterError, FileNotFoundError, GradingError, SandboxUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    pending = sum(1 for r in results if r.points is None)
    review = sum(1 for r in results if r.review)
    print(f"wrote {args.out}/grades.csv, {args.out}/scores.csv and {args.out}/feedback/ "
          f"({len(results)} grades, {pending} written answers to grade by hand, {review} "
          "answers flagged for review: see the review column of grades.csv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
