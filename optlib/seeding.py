"""The course seed: every random draw in the chapters and assignments derives from it.

A chapter never calls ``np.random.default_rng(0)`` with a number of its own. It asks for
a generator by *name*::

    >>> from optlib.seeding import rng, seeds
    >>> starts = rng("comparison", "race starts").uniform(-2, 2, size=(40, 2))
    >>> noise_seeds = seeds(40, "comparison", "race noise")

Both come from one course seed, ``course_seed()``: 0 unless the environment variable
``OPTLIB_SEED`` holds another non-negative integer. Run a notebook (or the whole test
suite) with ``OPTLIB_SEED=3`` and every draw changes, while the chapter's prose and
checks must still hold: they are statements about the population the draws come from,
not about one draw. The name keeps draws independent of each other (adding a draw to a
chapter does not change the others) and of the order in which cells run.

The derivation is numpy's :class:`~numpy.random.SeedSequence` with the course seed and
the name's bytes as entropy, so it is the same on every machine and every numpy >= 1.17.
"""

import os
import zlib

import numpy as np

#: The environment variable that overrides the course seed.
ENVIRONMENT_VARIABLE = "OPTLIB_SEED"

#: The course seed when ``OPTLIB_SEED`` is not set.
DEFAULT_SEED = 0


def course_seed():
    """The course seed: ``int(os.environ["OPTLIB_SEED"])`` if set, else 0.

    Raises:
        ValueError: if ``OPTLIB_SEED`` is set to anything but a non-negative integer.
    """
    text = os.environ.get(ENVIRONMENT_VARIABLE)
    if text is None or text.strip() == "":
        return DEFAULT_SEED
    try:
        seed = int(text.strip())
    except ValueError:
        seed = -1
    if seed < 0:
        raise ValueError(f"{ENVIRONMENT_VARIABLE} must be a non-negative integer such as 0 or 3, "
                         f"got {text!r}")
    return seed


def _key_words(key):
    """The name as 32-bit words for SeedSequence: ints as they are, strings by CRC32."""
    if not key:
        raise ValueError("give the draw a name, e.g. rng('comparison', 'race starts')")
    words = []
    for part in key:
        if isinstance(part, bool) or not isinstance(part, (int, np.integer, str)):
            raise TypeError(f"a draw's name is made of strings and integers, got {part!r} "
                            f"({type(part).__name__})")
        if isinstance(part, str):
            words.append(zlib.crc32(part.encode("utf-8")))
        elif part < 0:
            raise ValueError(f"integers in a draw's name must be >= 0, got {part}")
        else:
            words.append(int(part))
    return words


def sequence(*key, seed=None):
    """The :class:`numpy.random.SeedSequence` of the draw named ``key``.

    ``seed`` overrides the course seed (for tests); by default it is :func:`course_seed`.
    """
    base = course_seed() if seed is None else seed
    return np.random.SeedSequence([int(base), *_key_words(key)])


def rng(*key, seed=None):
    """A fresh generator for the draw named ``key`` (strings and integers).

    The same name gives the same numbers for the same course seed, on every machine.

        >>> int(rng("demo", seed=0).integers(100)) == int(rng("demo", seed=0).integers(100))
        True
    """
    return np.random.default_rng(sequence(*key, seed=seed))


def seeds(n, *key, seed=None):
    """``n`` independent integer seeds (each in [0, 2**32)) for the draw named ``key``,
    e.g. one noise seed per run of :class:`~optlib.landscapes.Noisy`."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    return [int(s) for s in sequence(*key, seed=seed).generate_state(int(n))]
