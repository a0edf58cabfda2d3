"""The sandbox a submission runs in: bubblewrap, with limits set before any student code.

The grader (:mod:`optlib.coursework.grade`) starts :mod:`optlib.coursework.runner` through
:func:`runner_command`. With bubblewrap (``bwrap``, Debian package ``bubblewrap``) the
runner gets

* its own PID, network, IPC, UTS (and, where possible, cgroup) namespaces and mount
  namespace: it sees no other process, has no network, and its ``/`` holds only
* read-only binds of the interpreter (``sys.base_prefix``), the site-packages it imports
  from and the ``optlib`` package itself (nothing else of the repository: no masters, no
  submissions, no output folder, no ``$HOME``), the system's ``/usr`` and ``/lib``, a
  fresh ``/proc`` and a minimal ``/dev``;
* a private, size-limited tmpfs at ``/tmp`` (its working folder and ``$HOME``), gone when
  the run ends;
* a cleared environment (only what the runner needs is set);
* an unprivileged uid: when the grader runs as root, bubblewrap sets up the namespaces
  and the runner then drops to a random uid of its own (``setpriv``, no capabilities,
  ``no_new_privs``); otherwise an unprivileged user namespace with the grader's own uid;
* limits set by ``prlimit`` before Python starts: processes, file size, address space,
  CPU time, open files, no core dumps.

The grader kills the sandbox from outside (bubblewrap's ``--die-with-parent``; when the
namespace's first process dies the kernel kills every other one in it, daemons included).

Without bubblewrap the grader refuses to run (:class:`SandboxUnavailable`) unless it is
told ``--no-sandbox``: then the runner is a plain child process with a cleared
environment, an empty temporary folder and the same limits, which is fine for trusted
notebooks (your own tests), never for students' work.
"""

import functools
import os
import secrets
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Where bubblewrap is looked for (then ``$PATH``).
BWRAP = "/usr/bin/bwrap"

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf "
    "install bubblewrap; Arch: sudo pacman -S bubblewrap), or run the grader in a container "
    "(see 'Grading in a container' in the instructor guide). To grade trusted notebooks "
    "without a sandbox (your own tests, never students' work) pass --no-sandbox.")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use."""

    memory: int          # bytes of address space, per process
    cpu_seconds: int     # CPU time, per process
    processes: int = 32  # processes and threads of the sandbox's uid
    file_size: int = 64 * 1024**2   # bytes, the largest file it may write
    open_files: int = 256
    tmp_size: int = 128 * 1024**2   # bytes, the private /tmp (its only writable place)

    def prlimit_args(self):
        return [f"--nproc={self.processes}", f"--fsize={self.file_size}",
                f"--as={self.memory}", f"--cpu={self.cpu_seconds}", "--core=0",
                f"--nofile={self.open_files}"]

    def rlimits(self):
        """(resource name, value) pairs, for a runner started without the sandbox. No
        process limit there: outside a user namespace of its own it would count every
        process of the instructor's uid."""
        return [("RLIMIT_FSIZE", self.file_size), ("RLIMIT_AS", self.memory),
                ("RLIMIT_CPU", self.cpu_seconds), ("RLIMIT_CORE", 0),
                ("RLIMIT_NOFILE", self.open_files)]


def _real(path):
    return str(Path(path).resolve())


def python_paths():
    """(interpreter, site-packages folders, optlib's parent folder): what the runner needs."""
    import optlib

    interpreter = _real(sys.executable)
    packages = []
    on_path = {_real(p) for p in sys.path if p}
    for folder in [*site.getsitepackages(), site.getusersitepackages()]:
        if folder and Path(folder).is_dir() and _real(folder) in on_path \
                and _real(folder) not in packages:
            packages.append(_real(folder))
    optlib_dir = Path(optlib.__file__).resolve().parent
    return interpreter, packages, str(optlib_dir.parent)


def bootstrap_code(packages, optlib_parent):
    """The ``python -c`` program that starts the runner: optlib's folder first on the path,
    then the site-packages (their ``.pth`` files processed); never the working folder."""
    return ("import site, sys; "
            f"sys.path.insert(0, {optlib_parent!r}); "
            f"[site.addsitedir(p) for p in {packages!r}]; "
            "from optlib.coursework.runner import main; main()")


def runner_environment(extra=()):
    """The runner's whole environment (the grader's own is never passed on)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    # what makes the probe's numbers equal the judge's: the course seed, the BLAS kernel
    for name in ("OPTLIB_SEED", "OPENBLAS_CORETYPE"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    env.update(extra)
    return env


def find_bwrap():
    if Path(BWRAP).is_file() and os.access(BWRAP, os.X_OK):
        return BWRAP
    return shutil.which("bwrap")


def _parents(path):
    """Every ancestor of ``path`` below ``/``, outermost first."""
    return [str(p) for p in reversed(Path(path).parents) if str(p) != "/"]


def _bwrap_args(bwrap, binds, workdir, limits, env, privileged):
    args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if not privileged:
        args += ["--unshare-user"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    # The private /tmp, /proc and /dev first: a bind below /tmp (a clone or virtual
    # environment under /tmp, as CI may use) then lies on top of the tmpfs, not under it.
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(limits.tmp_size), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(16 * 1024**2), "--tmpfs", "/dev/shm"]
    made, bound = {"/tmp", "/dev", "/proc"}, []
    for system in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin"):
        if Path(system).exists():
            if Path(system).is_symlink():  # merged /usr: /bin -> usr/bin
                args += ["--symlink", os.readlink(system), system]
            else:
                args += ["--ro-bind", system, system]
                bound.append(system)
    for path in binds:
        for parent in _parents(path):
            if parent not in made and not any(parent.startswith(b + "/") for b in bound):
                args += ["--perms", "0755", "--dir", parent]  # else bwrap makes it 0700
                made.add(parent)
        args += ["--ro-bind", path, path]
        bound.append(path)
    args += ["--chdir", workdir]
    if privileged:  # keep only what setpriv needs to drop to the sandbox's own uid
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return args


def read_only_binds():
    """The folders the sandbox sees, read-only, beyond the system's own (/usr, /lib, ...):
    the interpreter, the site-packages it imports and optlib, outermost folders only."""
    interpreter, packages, optlib_parent = python_paths()
    binds = [_real(sys.base_prefix), *packages, str(Path(optlib_parent) / "optlib")]
    if not interpreter.startswith(_real(sys.base_prefix) + "/"):
        binds.insert(0, interpreter)
    return [b for i, b in enumerate(binds)
            if not any(b == o or b.startswith(o + "/") for o in binds[:i])
            and not b.startswith(("/usr/", "/lib/", "/lib64/", "/bin/"))]


def runner_command(limits, *, sandbox=True, extra_env=()):
    """(argv, env, cwd) that start the runner; ``env`` and ``cwd`` are None in the sandbox
    (bubblewrap sets both). Raises :class:`SandboxUnavailable`."""
    interpreter, packages, optlib_parent = python_paths()
    python = [interpreter, "-s", "-P", "-X", "utf8",
              "-c", bootstrap_code(packages, optlib_parent)]
    env = runner_environment(extra_env)
    prlimit = shutil.which("prlimit")
    if not sandbox:
        env["OPTLIB_RUNNER_RLIMITS"] = "1"  # no prlimit: the runner sets its own limits
        return python, env, None
    bwrap = check_sandbox()
    privileged = os.geteuid() == 0
    binds = read_only_binds()
    env["OPTLIB_SANDBOX"] = "bubblewrap"
    argv = _bwrap_args(bwrap, binds, "/tmp", limits, env, privileged)
    argv += ["--", "/usr/bin/prlimit" if Path("/usr/bin/prlimit").exists() else prlimit,
             *limits.prlimit_args(), "--"]
    if privileged:
        uid = 100_000 + secrets.randbelow(2**30)  # its own uid: its own process count
        argv += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return argv + python, None, None


@functools.cache
def check_sandbox():
    """bubblewrap's path, once it has been seen to start a sandbox here; else raise
    :class:`SandboxUnavailable` with what to install."""
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable("the grader runs every submission in a bubblewrap sandbox, "
                                 "and bubblewrap (bwrap) was not found: " + INSTALL_HINT)
    for tool in ("prlimit",) + (("setpriv",) if os.geteuid() == 0 else ()):
        if not shutil.which(tool) and not Path(f"/usr/bin/{tool}").exists():
            raise SandboxUnavailable(f"the sandbox needs {tool} (Debian package util-linux), "
                                     "which was not found: install util-linux.")
    limits = Limits(memory=1024**3, cpu_seconds=10)
    probe = _bwrap_args(bwrap, [], "/tmp", limits, {"PATH": "/usr/bin:/bin"},
                        os.geteuid() == 0) + ["--", "/bin/sh", "-c", "exit 0"]
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bubblewrap ({bwrap}) could not be started: {error}. "
                                 + INSTALL_HINT) from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()[-300:]
        raise SandboxUnavailable(
            f"bubblewrap ({bwrap}) cannot create namespaces on this machine ({why}). "
            "Unprivileged user namespaces may be switched off (sysctl "
            "kernel.unprivileged_userns_clone=1, or user.max_user_namespaces > 0), or a "
            "container may forbid them (Docker: --security-opt seccomp=unconfined, or run "
            "the grader as root inside the container). " + INSTALL_HINT)
    return bwrap
