"""Find the compiled fused kernels: the build made at install time, else an on-demand build.

Where the extension comes from, in order:

1. ``lstmkit.kernels.cpu._C``, built by ``setup.py`` when the package is
   installed (``pip install .`` / ``pip install -e .``). It is used when its
   stamped ``build_key`` equals ``buildinfo.source_key()`` (same sources, flags,
   torch and CPU); otherwise it is stale and ignored.
2. A finished on-demand build in the cache directory
   ``$LSTMKIT_CACHE_DIR`` (default ``~/.cache/lstmkit``) ``/cpu-<cache_key>``,
   keyed on the source key and the compiler and ninja (their paths and
   versions). A finished build is loaded directly, without running ninja, so
   PATH (which ninja comes first) never triggers a rebuild.
3. An on-demand build into that directory, only when asked for
   (``load(build=True)``: an explicit ``backend="cpu"``, ``Stream`` or
   ``python -m lstmkit.kernels.cpu.build``). One process builds while others
   wait on a file lock in the directory; the build says so on stderr, with the
   elapsed time, while it runs.

``"auto"`` never builds: it asks ``load(build=False)`` and, while the kernels
are unavailable (not built, being built by another process, or failed), takes
the next backend; the backend issues one RuntimeWarning that says why and how
to build (not while ``torch.compile`` traces).
Nothing here runs at import time.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from lstmkit.kernels.cpu import buildinfo

_READY = "ready"  # written into a cache directory after its build was imported once
_lock = threading.Lock()
_state: dict[str, object] = {}  # "module" (final: a module or None), "reason", "origin", "pending"


def build_key() -> str:
    """The source key of the current sources, flags, torch and CPU (see ``buildinfo``)."""
    return buildinfo.source_key()


def cache_dir() -> Path:
    """The on-demand build's directory (keyed on the sources and the toolchain)."""
    root = os.environ.get("LSTMKIT_CACHE_DIR") or str(Path.home() / ".cache" / "lstmkit")
    return Path(root) / f"cpu-{buildinfo.cache_key()}"


def compiler() -> str | None:
    """The C++ compiler an on-demand build would use, or None when there is none."""
    return buildinfo.compiler()


def _installed() -> ModuleType | None:
    """The extension built at install time, if present and built from these sources."""
    if importlib.util.find_spec("lstmkit.kernels.cpu._C") is None:
        return None
    try:
        module = importlib.import_module("lstmkit.kernels.cpu._C")
    except ImportError as err:  # built against another torch: unloadable, use the cache
        _state["installed_error"] = str(err)
        return None
    if getattr(module, "build_key", None) != build_key():
        return None
    return module


def _module_name(directory: Path) -> str:
    return "lstmkit_cpu_" + directory.name.split("-", 1)[1]


def _import_built(directory: Path) -> ModuleType | None:
    """The finished build in ``directory`` (the library its ``ready`` file names),
    imported directly: ninja is not run again, so its log cannot trigger a rebuild."""
    ready = directory / _READY
    if not ready.is_file():
        return None
    library = directory / ready.read_text().strip()
    name = library.name.split(".", 1)[0]
    if not library.is_file():
        return None
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, library)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


@contextmanager
def _ticker(message: str, every: float = 15.0):
    """Print ``message`` to stderr now and every ``every`` seconds with the elapsed time."""
    start = time.perf_counter()
    done = threading.Event()
    print(f"lstmkit: {message} ...", file=sys.stderr, flush=True)

    def tick() -> None:
        while not done.wait(every):
            print(f"lstmkit: ... still {message.split(' ', 1)[0]} ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr, flush=True)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield start
    finally:
        done.set()
        thread.join()


@contextmanager
def _file_lock(directory: Path):
    """An exclusive lock on ``directory/.lock`` (released when the process dies)."""
    import fcntl

    with open(directory / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            with _ticker(f"waiting for another process building the 'cpu' kernels in {directory}"):
                fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def building_elsewhere(directory: Path) -> bool:
    """Whether another process holds the build lock of ``directory`` now."""
    import fcntl

    if not (directory / ".lock").exists():
        return False
    with open(directory / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _compile(directory: Path) -> ModuleType:
    """Run torch's ninja build in ``directory`` with the ninja ``buildinfo`` chose."""
    from torch.utils.cpp_extension import load as cpp_load

    nj = buildinfo.ninja()
    path = os.environ.get("PATH", "")
    if nj is not None:  # the same ninja whatever PATH says (see buildinfo.ninja)
        os.environ["PATH"] = os.pathsep.join([str(Path(nj).parent), path])
    try:
        return cpp_load(
            name=_module_name(directory),
            sources=[str(buildinfo.HERE / name) for name in buildinfo.SOURCES],
            extra_cflags=[*buildinfo.CFLAGS, f"-D{buildinfo.KEY_MACRO}={build_key()}"],
            extra_ldflags=list(buildinfo.LDFLAGS),
            build_directory=str(directory),
            verbose=False,
        )
    finally:
        os.environ["PATH"] = path


def _build(directory: Path) -> ModuleType:
    """Build into ``directory`` under its file lock (or take what the lock holder built)."""
    directory.mkdir(parents=True, exist_ok=True)
    with _file_lock(directory):
        module = _import_built(directory)  # another process may have finished it
        if module is not None:
            return module
        # torch's JIT build guards itself with a baton file `lock` that a killed build leaves
        # behind (then every later build waits on it forever); under our flock no other
        # lstmkit build is running, so a baton found here is stale
        (directory / "lock").unlink(missing_ok=True)
        with _ticker(f"building the fused 'cpu' kernels in {directory} (once; about a minute)") as start:
            module = _compile(directory)
        (directory / _READY).write_text(Path(module.__file__).name + "\n")
        print(f"lstmkit: 'cpu' kernels built in {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)
        return module


HOW_TO_BUILD = ("Build them once with `python -m lstmkit.kernels.cpu.build` (about a minute), "
                "or name backend='cpu' to build them on first use.")


def _settle(module: ModuleType | None, why: str | None, origin: str | None) -> ModuleType | None:
    _state.update(module=module, reason=why, origin=origin)
    return module


def load(build: bool = True) -> ModuleType | None:
    """The compiled extension, or None.

    ``build=False`` (what ``"auto"`` asks) never compiles: it returns the
    installed or cached build, else None (``reason()`` says why; the backend
    warns once when ``"auto"`` passes it by). ``build=True`` builds on demand
    when neither exists (under the file lock, with messages on stderr), and
    returns None when that fails.
    """
    if "module" in _state:
        return _state["module"]  # type: ignore[return-value]
    if not build and "pending" in _state:
        return None
    with _lock:
        if "module" in _state:
            return _state["module"]  # type: ignore[return-value]
        module = _installed()
        if module is not None:
            return _settle(module, None, "installed")
        directory = cache_dir()
        module = _import_built(directory)
        if module is not None:
            return _settle(module, None, str(directory))
        if compiler() is None:
            return _settle(None, "no C++ compiler found (set CXX or install g++)", None)
        if buildinfo.ninja() is None:
            return _settle(None, "ninja is not installed (pip install ninja)", None)
        if not build:
            doing = ("another process is building them now" if building_elsewhere(directory)
                     else "they are not built for this torch and these sources")
            _state["pending"] = f"the fused 'cpu' kernels are not ready: {doing}"
            return None
        try:
            module = _build(directory)
        except (RuntimeError, OSError, ImportError, SystemExit) as err:
            lines = str(err).strip().splitlines() or [type(err).__name__]
            first = next((ln for ln in lines if "error" in ln.lower()), lines[-1])
            return _settle(None, f"the C++ extension failed to build: {first.strip()}", None)
        _state.pop("pending", None)
        return _settle(module, None, str(directory))


def origin() -> str | None:
    """Where the loaded extension came from: "installed", a cache directory, or None."""
    return _state.get("origin")  # type: ignore[return-value]


def reason(build: bool = False) -> str | None:
    """Why the extension is unavailable now (None when it is loaded).

    ``build=False`` never compiles (see ``load``)."""
    if load(build) is not None:
        return None
    return _state.get("reason") or _state.get("pending")  # type: ignore[return-value]
