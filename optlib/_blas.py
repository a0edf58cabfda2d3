"""Small matrix products on one BLAS thread."""

import contextlib


@contextlib.contextmanager
def one_blas_thread():
    """Run the matrix products on one thread. These are small: on a shared two-core
    machine, BLAS threads fight each other (and other processes) and can make them ten
    times slower. Uses threadpoolctl (installed with scikit-learn) when it is there."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
