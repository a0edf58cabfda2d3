"""The explorers the chapters show, one module per chapter.

Importing this package imports every module in it, and each registers its explorers in
:data:`optlib.widgets.EXPLORERS` with :func:`optlib.widgets.register`. A chapter shows
one with, e.g.::

    from optlib.explorers import gradient_descent_in_a_ravine
    gradient_descent_in_a_ravine().show()   # live in Jupyter, frames in the book

A new chapter adds a module here; nothing else needs editing.
"""

import importlib
import pkgutil

from ..widgets import EXPLORERS

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

globals().update(EXPLORERS)
__all__ = sorted(EXPLORERS)
