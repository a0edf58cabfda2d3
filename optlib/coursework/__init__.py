"""Course assignments: student versions from masters, and grading with diagnostic feedback.

Instructor tooling (students never import it). Two commands, run from the repository root::

    python -m optlib.coursework generate          # assignments/source -> assignments/release
    python -m optlib.coursework grade SUBMITTED   # -> grades.csv, scores.csv, feedback/

Masters use nbgrader's cell markers and cell metadata, so they also work with nbgrader
itself. See the instructor guide in the book (``book/instructors.md``) for the whole cycle.

Modules: :mod:`.notebooks` (reading masters, making student versions), :mod:`.sandbox`
(the bubblewrap sandbox a submission runs in), :mod:`.runner` (executes one submission,
inside the sandbox), :mod:`.grade` (the grading command; it judges outside).
"""

from .grade import GradingError, grade, grade_notebook
from .notebooks import MasterError, generate, student_version
from .sandbox import SandboxUnavailable

__all__ = ["generate", "student_version", "grade", "grade_notebook", "MasterError",
           "GradingError", "SandboxUnavailable"]
