"""Side-by-side timings of ember and torch: medians and ratios (ember/torch). Not a test.

Run it with the two OpenBLAS tuning variables removed for this command only (they change NumPy's
BLAS kernel choice and would skew the MLP case against NumPy)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py [--quick] [--only NAME]

Cases (targets are ember/torch unless noted): seed (the seed lesson's loop, <= 0.5x), chain64
(small elementwise ops, per op, <= 0.8x; and ember's creation-line recording on/off, <= 1.05x:
every backward error names the user's line that created the failing node), scalar100k (0-d
graph per op, <= 0.5x; and the 1M/100k scaling, <= 11x), import (fresh interpreter, ember
<= 0.2 s), memory (peak of a 100k scalar graph and a 64 x 1000-op chain) and mlp (784-512-256-10
training step, also against a hand-written NumPy step, ember/numpy <= 1.1x).  ``--profile NAME``
runs ember's side of a case under cProfile instead.

Method: ``time.perf_counter``; every library's variant of a case runs in the same process,
alternating repeat by repeat, ``gc.collect()`` before each timed block, medians reported.  The
garbage collector stays enabled while timing (its cost on big graphs is part of what users see),
but objects alive after the imports are frozen (``gc.freeze``) so torch's modules do not slow
ember's collections.
A case whose ember op is missing prints ``skipped: <reason>`` instead of stopping the script.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ember  # noqa: E402

try:
    import torch
except ImportError:  # the script still times ember alone
    torch = None

TORCH_THREADS = torch.get_num_threads() if torch is not None else 0
QUICK = False
ROWS: list[tuple] = []


# ------------------------------------------------------------------------------------ helpers
def fmt_t(s: float) -> str:
    """A duration with a readable unit."""
    for unit, f in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= f:
            return f"{s / f:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def why(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0][:110] if msg else ''}"


def row(case: str, metric: str, ember_v: str, ref: str = "", ref_v: str = "",
        ratio: float | None = None, target: float | None = None, ok: bool | None = None,
        target_text: str = "") -> None:
    """One output line; ``target`` bounds ``ratio`` (or pass ``ok`` and ``target_text``)."""
    if ok is None and target is not None and ratio is not None:
        ok = ratio <= target
    status = "" if ok is None else ("ok" if ok else "MISS")
    r = f"{ratio:.2f}x" if ratio is not None else ""
    t = f"<={target:g}x" if target is not None else target_text
    ROWS.append((case, metric, ember_v, ref, ref_v, r, t, status))
    print(f"{case:<11}{metric:<28}{ember_v:>11}  {ref:<10}{ref_v:>11}{r:>9}{t:>9}  {status}",
          flush=True)


def skipped(case: str, reason: str) -> None:
    print(f"{case:<11}skipped: {reason}", flush=True)


def bench(entries: list[tuple[str, Callable[[], Any], int]], repeats: int, number: int,
          warm: bool = True) -> dict[str, float]:
    """Median seconds per call of each ``(name, fn, torch_threads)``, alternating the entries.

    ``torch_threads`` 0 leaves torch's thread count alone.  Raises if a warm-up call fails.
    """
    if warm:
        for _, fn, _ in entries:
            fn()
    times: dict[str, list[float]] = {name: [] for name, _, _ in entries}
    try:
        for _ in range(repeats):
            for name, fn, threads in entries:
                if threads:
                    torch.set_num_threads(threads)
                gc.collect()
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                times[name].append((time.perf_counter() - t0) / number)
    finally:
        if torch is not None:
            torch.set_num_threads(TORCH_THREADS)
    return {k: statistics.median(v) for k, v in times.items()}


def run_compare(case: str, metric: str, make: Callable[[Any], Callable[[], Any]], repeats: int,
                number: int, per: int = 1, target: float | None = None,
                one_thread: bool = True, extra: tuple = ()) -> dict[str, float] | None:
    """Time ``make(lib)()`` for ember and torch (and torch on one thread); print the rows.

    ``extra``: more ``(name, fn, target)`` references, timed in the same alternation.
    """
    try:
        fe = make(ember)
        fe()
    except Exception as e:  # an op still being written
        skipped(case, f"ember: {why(e)}")
        return None
    entries = [("ember", fe, 0)]
    if torch is not None:
        ft = make(torch)
        entries.append(("torch", ft, TORCH_THREADS))
        if one_thread and TORCH_THREADS != 1:
            entries.append(("torch 1t", ft, 1))
    entries += [(name, fn, 0) for name, fn, _ in extra]
    targets = {"torch": target, **{name: tgt for name, _, tgt in extra}}
    res = bench(entries, repeats, number)
    res = {k: v / per for k, v in res.items()}
    if torch is None:
        row(case, metric, fmt_t(res["ember"]), "torch", "n/a")
    for name in res:
        if name != "ember":
            tgt = targets.get(name)
            row(case, metric, fmt_t(res["ember"]), name, fmt_t(res[name]),
                res["ember"] / res[name], tgt)
    return res


# ------------------------------------------------------------------------------------ cases
def make_seed(lib: Any) -> Callable[[], None]:
    """The seed lesson's two cells, forward and backward."""
    w = lib.tensor([0.1, 1.0, 0.0001, 1.0, 2.0], dtype=lib.float32)

    def run() -> None:
        x = lib.randn(3, requires_grad=True)
        y = x + 2
        z = y * y * 3
        z = z.mean()
        z.backward()
        x = lib.randn(5, requires_grad=True)
        y = x * 2
        for _ in range(10):
            y = y * 2
        y.backward(w)

    return run


def chain(lib: Any, nblocks: int) -> Callable[[], None]:
    """8 * nblocks float32 elementwise ops on 64 elements, then backward."""
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(64).astype(np.float32), requires_grad=True)
    c = lib.tensor(rng.uniform(0.5, 1.5, 64).astype(np.float32))
    g = lib.ones(64)

    def run() -> None:
        y = x
        for _ in range(nblocks):
            y = y + c
            y = y * c
            y = y.tanh()
            y = y - c
            y = y.sigmoid()
            y = y / 3.0
            y = y.exp()
            y = y * 0.5
        y.backward(g)
        x.grad = None

    return run


CHAIN_BLOCKS = 16  # 128 ops


def scalar_graph(lib: Any, nodes: int) -> Callable[[], None]:
    """``y = y * a + b`` on 0-d tensors: ``nodes`` ops, then backward."""
    a = lib.tensor(0.999, requires_grad=True)
    b = lib.tensor(0.001, requires_grad=True)
    x = lib.tensor(1.0, requires_grad=True)

    def run() -> None:
        y = x
        for _ in range(nodes // 2):
            y = y * a + b
        y.backward()
        a.grad = b.grad = x.grad = None

    return run


def case_seed() -> None:
    run_compare("seed", "per loop (both cells)", make_seed, 3 if QUICK else 7,
                30 if QUICK else 200, target=0.5)


def case_chain64() -> None:
    n = CHAIN_BLOCKS * 8
    run_compare("chain64", f"per op ({n} ops, f+b)", lambda lib: chain(lib, CHAIN_BLOCKS),
                3 if QUICK else 7, 10 if QUICK else 60, per=n, target=0.8)
    lines_cost("chain64", chain(ember, CHAIN_BLOCKS), 9 if QUICK else 61, 4 if QUICK else 10, n)


def with_lines(fn: Callable[[], Any], on: bool) -> Callable[[], None]:
    """``fn`` run with ember's creation-line recording switched on or off."""
    switch = ember.autograd.set_record_creation_lines

    def run() -> None:
        prev = switch(on)
        try:
            fn()
        finally:
            switch(prev)

    return run


def lines_cost(case: str, fn: Callable[[], Any], repeats: int, number: int, per: int) -> None:
    """The cost of recording creation lines (ember only): the same case with recording on and
    off in back-to-back blocks (the order alternating), the ratio taken per pair of blocks and
    its median reported, which keeps a busy machine's drift out; target: on/off <= 1.05."""
    if not hasattr(ember.autograd, "set_record_creation_lines"):
        skipped(case, "ember has no set_record_creation_lines")
        return
    on, off = with_lines(fn, True), with_lines(fn, False)
    on()
    off()
    t_on, t_off, ratios = [], [], []
    for r in range(repeats):
        pair = {}
        for name, f in ((("on", on), ("off", off)) if r % 2 else (("off", off), ("on", on))):
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(number):
                f()
            pair[name] = (time.perf_counter() - t0) / number / per
        t_on.append(pair["on"])
        t_off.append(pair["off"])
        ratios.append(pair["on"] / pair["off"])
    default = "on" if ember.autograd.is_record_creation_lines_enabled() else "off"
    row(case, f"lines on/off (default {default})", fmt_t(statistics.median(t_on)), "lines off",
        fmt_t(statistics.median(t_off)), statistics.median(ratios), 1.05)


def case_scalar100k() -> None:
    small, big = (10_000, 100_000) if QUICK else (100_000, 1_000_000)
    label = f"{small // 1000}k"
    res = run_compare(f"scalar{label}", "per op (f+b)", lambda lib: scalar_graph(lib, small),
                      3 if QUICK else 5, 1, per=small, target=0.5, one_thread=False)
    if res is None:
        return
    entries = [("ember", scalar_graph(ember, big), 0)]
    if torch is not None:
        entries.append(("torch", scalar_graph(torch, big), TORCH_THREADS))
    t_big = bench(entries, 1 if QUICK else 2, 1, warm=False)  # a 1M graph takes seconds
    scale = {k: t_big[k] / (res[k] * small) for k in t_big}
    metric = f"t({big // 1000}k)/t({label})"
    ref_v = f"{scale['torch']:.2f}x" if torch is not None else "n/a"
    row(f"scalar{label}", metric, f"{scale['ember']:.2f}x", "torch", ref_v,
        ok=scale["ember"] <= 11, target_text="e<=11x")
    row(f"scalar{label}", f"total {big // 1000}k (f+b)", fmt_t(t_big["ember"]), "torch",
        fmt_t(t_big["torch"]) if torch is not None else "n/a",
        t_big["ember"] / t_big["torch"] if torch is not None else None)


IMPORT_CODE = ("import time; t = time.perf_counter(); import {m}; "
               "print(time.perf_counter() - t)")


def import_time(mod: str, env: dict) -> float:
    out = subprocess.run([sys.executable, "-c", IMPORT_CODE.format(m=mod)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


def case_import() -> None:
    # Measured as users see it: with cached bytecode.  This environment may set
    # PYTHONDONTWRITEBYTECODE (then ember, run from the source tree, is compiled on every
    # import, ~0.1 s more); ember's .pyc files go to a cache outside the tree instead.
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "ember-bench-pycache")
    envs = {"ember": cached, "torch": dict(os.environ)}  # torch's .pyc are installed
    mods = ["ember"] + (["torch"] if torch is not None else [])
    for m in mods:
        import_time(m, envs[m])  # warm-up: fills the bytecode cache, the OS file cache
    times: dict[str, list[float]] = {m: [] for m in mods}
    for _ in range(2 if QUICK else 5):
        for m in mods:
            times[m].append(import_time(m, envs[m]))
    te = statistics.median(times["ember"])
    tt = statistics.median(times["torch"]) if torch is not None else None
    row("import", "fresh interpreter (.pyc)", fmt_t(te), "torch", fmt_t(tt) if tt else "n/a",
        te / tt if tt else None, ok=te <= 0.2, target_text="e<=0.2s")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        t = statistics.median(import_time("ember", dict(os.environ)) for _ in range(3))
        row("import", "no .pyc (this env)", fmt_t(t))


# Memory.  Two methods, both printed:
# * tracemalloc (in this process): sees every Python object and, for ember, every NumPy buffer
#   (NumPy reports its data allocations to tracemalloc), so it is ember's exact peak.  For torch
#   it sees only the Python wrappers: tensor storage and autograd nodes live in C++ allocators,
#   so torch's tracemalloc figure is a lower bound, printed for the Python-side overhead only.
# * max RSS delta (fresh subprocess per library and graph, after a warm-up run): counts all the
#   memory the OS gave the process, torch's C++ memory included, at page granularity (coarse:
#   small graphs can read ~0).  Linux carries the parent's high-water mark into a child's
#   ``getrusage`` ru_maxrss across fork+exec, so there the child reads its own ``VmHWM`` from
#   /proc/self/status (the same quantity, for this process only); elsewhere ru_maxrss.
MEM_GRAPHS = {"scalar": scalar_graph, "chain": lambda lib, n: chain(lib, n // 8)}


def traced_peak(fn: Callable[[], None]) -> float:
    """Peak KiB allocated (tracemalloc) while ``fn`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return (tracemalloc.get_traced_memory()[1] - base) / 1024
    finally:
        tracemalloc.stop()


def max_rss_kb() -> float:
    try:
        with open("/proc/self/status") as f:
            return float(next(ln for ln in f if ln.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def mem_child(lib_name: str, graph: str, n: int) -> None:
    """(subprocess) print the max-RSS growth in KiB of one forward+backward."""
    lib = ember if lib_name == "ember" else __import__(lib_name)
    MEM_GRAPHS[graph](lib, 64 if graph == "chain" else 1000)()  # warm-up: caches, allocator
    fn = MEM_GRAPHS[graph](lib, n)
    gc.collect()
    before = max_rss_kb()
    fn()
    print(max_rss_kb() - before)


def rss_delta(lib_name: str, graph: str, n: int) -> float:
    p = subprocess.run([sys.executable, __file__, "--_mem", lib_name, graph, str(n)], cwd=ROOT,
                       capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed")
    return float(p.stdout.split()[-1])


def case_memory() -> None:
    nodes = 10_000 if QUICK else 100_000
    for graph, n, label in (("scalar", nodes, f"scalar {nodes // 1000}k"),
                            ("chain", 1000, "chain 64x1000")):
        libs = [ember] + ([torch] if torch is not None else [])
        try:
            traced = {lib.__name__: traced_peak(MEM_GRAPHS[graph](lib, n)) for lib in libs}
            rss = {lib.__name__: rss_delta(lib.__name__, graph, n) for lib in libs}
        except Exception as e:
            skipped("memory", f"{label}: {why(e)}")
            continue
        for method, d in (("tracemalloc", traced), ("max RSS delta", rss)):
            tv = fmt_mb(d["torch"]) if "torch" in d else "n/a"
            ratio = d["ember"] / d["torch"] if d.get("torch") and d is rss else None
            row("memory", f"{label}: {method}", fmt_mb(d["ember"]), "torch", tv, ratio)
    print(f"{'':<11}(torch's tracemalloc misses its C++ storage and nodes: a lower bound, no"
          " ratio)")


def mlp_params() -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    sizes = [784, 512, 256, 10]
    params = []
    for fan_in, fan_out in zip(sizes, sizes[1:], strict=False):
        params.append((rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype("f4"))
        params.append(np.zeros(fan_out, np.float32))
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    return params, x, y


LR = 0.01


def make_mlp(lib: Any) -> Callable[[], None]:
    """One SGD step: 3 linear layers, relu, log_softmax + gather cross-entropy."""
    arrays, xa, ya = mlp_params()
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    x, idx = lib.tensor(xa), lib.tensor(ya[:, None])

    def step() -> None:
        h = x
        for i in range(3):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < 2:
                h = h.relu()
        loss = -h.log_softmax(1).gather(1, idx).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None

    return step


def make_numpy_mlp() -> Callable[[], None]:
    """The same step written by hand in NumPy (the floor for ember's overhead)."""
    (w1, b1, w2, b2, w3, b3), x, y = mlp_params()
    rows = np.arange(len(y))

    def step() -> None:
        h1 = x @ w1 + b1
        r1 = np.maximum(h1, 0)
        h2 = r1 @ w2 + b2
        r2 = np.maximum(h2, 0)
        z = r2 @ w3 + b3
        m = z.max(1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(1, keepdims=True)
        _loss = -(z - m - np.log(s))[rows, y].mean()
        dz = e / s
        dz[rows, y] -= 1
        dz /= len(y)
        dh2 = (dz @ w3.T) * (h2 > 0)
        dh1 = (dh2 @ w2.T) * (h1 > 0)
        grads = (x.T @ dh1, dh1.sum(0), r1.T @ dh2, dh2.sum(0), r2.T @ dz, dz.sum(0))
        for p, g in zip((w1, b1, w2, b2, w3, b3), grads, strict=True):
            p -= LR * g

    return step


def case_mlp() -> None:
    # numpy joins the same alternation, so all references see the same machine state (a busy
    # machine hurts multi-threaded BLAS a lot)
    run_compare("mlp", "train step (b=128)", make_mlp, 3 if QUICK else 7, 2 if QUICK else 5,
                extra=(("numpy", make_numpy_mlp(), 1.1),))


CASES = {"seed": case_seed, "chain64": case_chain64, "scalar100k": case_scalar100k,
         "import": case_import, "memory": case_memory, "mlp": case_mlp}
PROFILED = {"seed": make_seed, "chain64": lambda lib: chain(lib, CHAIN_BLOCKS),
            "scalar100k": lambda lib: scalar_graph(lib, 100_000), "mlp": make_mlp}


# ------------------------------------------------------------------------------------ main
def machine_info() -> None:
    print(f"python {platform.python_version()} on {platform.platform()}, "
          f"{os.cpu_count()} CPUs")
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    print(f"numpy {np.__version__} (BLAS: {blas.get('name', '?')} {blas.get('version', '')})")
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        print("  BLAS kernel: unknown (pip install threadpoolctl to report it)")
    else:
        for lib in threadpool_info():
            if lib.get("user_api") == "blas" and "numpy" in lib.get("filepath", "numpy"):
                print(f"  BLAS runtime: {lib.get('internal_api')} {lib.get('version')}, kernel "
                      f"{lib.get('architecture')}, {lib.get('num_threads')} threads")
    if torch is not None:
        print(f"torch {torch.__version__}, {TORCH_THREADS} threads (default; '1t' rows: 1)")
    else:
        print("torch not installed: ember timings only")
    print(f"ember {ember.__version__}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > (os.cpu_count() or 1):
        print(f"WARNING: load average {load:.1f} > {os.cpu_count()} CPUs: timings are noisy")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"WARNING: {var}={os.environ[var]} is set; NumPy/BLAS timings are skewed. Run "
                  "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py`.")


def freeze_imports() -> None:
    """Move every object alive now (mostly torch's ~150k) out of the cyclic GC's reach.

    Both libraries share this process; without this, each full collection triggered by ember's
    Python-object graphs would also traverse torch's module objects (~50 ms instead of ~5 ms),
    a cost an ember-only program never pays.
    """
    gc.collect()
    gc.freeze()


def profile(name: str) -> None:
    """cProfile ember's side of one case (a few calls) and print the top functions."""
    import cProfile
    import pstats

    freeze_imports()
    fn = PROFILED[name](ember)
    fn()
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(1 if name == "scalar100k" else 50):
        fn()
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> None:
    global QUICK
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller graphs")
    ap.add_argument("--only", action="append", choices=sorted(CASES), metavar="NAME",
                    help=f"run only this case (repeatable): {', '.join(CASES)}")
    ap.add_argument("--profile", choices=sorted(PROFILED), help="cProfile ember's side of a case")
    ap.add_argument("--_mem", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._mem:
        mem_child(args._mem[0], args._mem[1], int(args._mem[2]))
        return
    if args.profile:
        profile(args.profile)
        return
    QUICK = args.quick
    freeze_imports()
    machine_info()
    head = ("case", "metric", "ember", "vs", "ref", "ratio", "target", "")
    print(f"\n{head[0]:<11}{head[1]:<28}{head[2]:>11}  {head[3]:<10}{head[4]:>11}{head[5]:>9}"
          f"{head[6]:>9}")
    print("-" * 96)
    t0 = time.perf_counter()
    for name in args.only or CASES:
        try:
            CASES[name]()
        except Exception as e:  # a broken case must not hide the others
            skipped(name, why(e))
        gc.collect()
    print("-" * 96)
    miss = sum(1 for r in ROWS if r[7] == "MISS")
    print(f"{len(ROWS)} rows, {miss} targets missed, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
