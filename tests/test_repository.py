"""Repository conventions: clean notebooks, a table of contents with no placeholders,
and a README whose two commands are the ones CI runs."""

import json
import re
from pathlib import Path

from browser_support import toc_docnames

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, "book/ should hold the chapter notebooks"


def test_notebooks_are_stored_without_outputs():
    dirty = []
    for nb_path in NOTEBOOKS:
        nb = json.loads(nb_path.read_text())
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(f"{nb_path.name} cell {i}")
    assert not dirty, f"clear outputs before committing (nbstripout): {dirty}"


def test_every_chapter_imports_optlib_and_builds_a_widget():
    for nb_path in NOTEBOOKS:
        source = "\n".join(
            "".join(c["source"]) for c in json.loads(nb_path.read_text())["cells"]
            if c["cell_type"] == "code"
        )
        assert "optlib" in source, f"{nb_path.name} should use optlib"
        # an explorer shown with .show() (optlib.widgets), or ipywidgets used directly
        assert ".show()" in source or "widget" in source, (
            f"{nb_path.name} should embed an ipywidgets explorer")


def test_toc_lists_only_existing_documents_and_every_chapter():
    files = toc_docnames()
    for f in files:
        matches = list(ROOT.glob(f + ".*"))
        assert matches, f"_toc.yml lists {f}, which does not exist"
    listed = {Path(f).name for f in files}
    for nb_path in NOTEBOOKS:
        assert nb_path.stem in listed, f"{nb_path.name} is not in _toc.yml"


def test_readme_holds_the_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    for var in ("SETUP", "TEST", "BUILD", "GENERATE", "GRADE"):
        command = re.search(rf"^{var}='(.*)'$", ci, re.M).group(1)
        assert command in readme, f"README.md must show the {var} command CI runs: {command}"
