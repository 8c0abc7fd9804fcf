"""Hostile-page benchmark: every case of tests/hostile_pages.py at full size, each in a fresh subprocess.

For each case the child process loads the default models, builds the page, and times ``Detector.extract`` (input
auto-detected) plus rendering the result as markdown with links and as a JSON record. It reports wall seconds and
peak resident memory during that call (VmHWM after resetting it through /proc/self/clear_refs; the whole process's
ru_maxrss where that is not allowed), and every file open or socket operation the call attempted:

- in Python, through an audit hook (``sys.addaudithook``) installed after the warm-up: any ``open`` of a path outside
  the interpreter, the installed packages and the model files, any socket connect/bind/getaddrinfo, any subprocess;
- in C (libxml2 included), when ``strace`` is available: every open/connect syscall after the child's start marker;
- a canary file watched with inotify (any open of it is reported) whose content must never reach the output;
- a loopback HTTP server the pages point at, which must receive no connection.

A case fails when the child crashes, exceeds the timeout, touches a file or the network, leaks the canary, or needs
more time or memory than a bound linear in the input size (see TIME_BOUND_* and MEMORY_BOUND_*).

    python benchmarks/hostile.py                      # every case at full size
    python benchmarks/hostile.py --scale small        # the small sizes the tests use (quick)
    python benchmarks/hostile.py --case big_page --case many_links --json out.json

Exit status 1 when any case fails.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import hostile_pages  # noqa: E402

# Linear bounds per case: a fixed allowance, a term per MB of input (decimal) and a term per 1,000 blocks. The block
# term is there because scoring costs per block (features and model: ~50 us and ~4 KB each), and a page of tiny blocks
# packs ~60,000 of them in a MB; blocks never outnumber bytes / 7 ("<p>x</p>"), so the bound stays linear in the size.
# Time is wall seconds of the call, generous for a shared 2-core machine; memory is the peak RSS during the call above
# the RSS before it (models loaded, page built).
TIME_BOUND_BASE_S = 5.0
TIME_BOUND_S_PER_MB = 2.0
TIME_BOUND_S_PER_KBLOCK = 0.1
MEMORY_BOUND_BASE_MB = 200.0
MEMORY_BOUND_MB_PER_MB = 40.0
MEMORY_BOUND_MB_PER_KBLOCK = 5.0
# Seconds-per-MB is only meaningful where the page is large enough for per-page overhead not to dominate it.
MIN_MB_FOR_RATE = 1.0
DEFAULT_TIMEOUT_S = 300.0
CASE_MARKER = "/nonexistent/bpdetect-hostile-case-start"
CANARY_TEXT = "BPDETECT-CANARY-7f3a9c-SECRET"

# inotify (linux/inotify.h): any open or read of the canary file.
_IN_ACCESS = 0x001
_IN_OPEN = 0x020


# --------------------------------------------------------------------------------------------------------------------
# Child: run one case and print a JSON line.


def _status_kb(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM so that it measures the peak of what follows; False where /proc does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _allowed_roots() -> tuple[str, ...]:
    import bpdetect

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(bpdetect.__file__).resolve().parent), "/proc/self"}
    roots.update(p for p in sys.path if p and os.path.isdir(p))
    return tuple(sorted(os.path.realpath(r) for r in roots))


class _Audit:
    """Records file opens outside the allowed roots and every network or process operation, while armed."""

    EVENTS = (
        "socket.connect",
        "socket.bind",
        "socket.getaddrinfo",
        "socket.sendto",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.fork",
        "urllib.Request",
        "http.client.connect",
    )

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        self.armed = False
        self.violations: list[str] = []

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.armed:
            return
        if event == "open":
            path = args[0]
            if isinstance(path, int):
                return  # an already open descriptor
            real = os.path.realpath(os.fsdecode(path))
            if not real.startswith(self.allowed):
                self.armed = False  # the hook runs for the open() below, too
                self.violations.append(f"open {real}")
                self.armed = True
        elif event in self.EVENTS:
            self.violations.append(f"{event} {args!r}"[:200])


def run_child(name: str, scale: str, path: str, url: str) -> dict[str, Any]:
    """Build and run one case in this process; the result as a JSON-ready dict."""
    import bpdetect
    from bpdetect.formats import to_markdown, to_record

    det = bpdetect.Detector.default()
    # Warm-up: load both models and every lazily imported module before the hook is armed.
    for warm in (b"<html><body><p>warm up</p><a href='/x'>x</a></body></html>", "warm up\n- item\n"):
        ext = det.extract(warm)
        to_markdown(ext, links=True)
        json.dumps(to_record(ext))
    case = hostile_pages.CASES[name]
    extra = {"path": path, "url": url} if case.external else {}
    page = hostile_pages.build(name, scale, **extra)
    size = len(page) if isinstance(page, bytes) else len(page.encode("utf-8", "surrogatepass"))
    audit = _Audit(_allowed_roots())
    sys.addaudithook(audit)
    exact_peak = _reset_peak()
    baseline_kb = _status_kb("VmRSS") or 0.0
    try:
        os.stat(CASE_MARKER)  # the strace log starts here
    except OSError:
        pass
    audit.armed = True
    error = None
    start = time.perf_counter()
    try:
        ext = det.extract(page)
        extract_s = time.perf_counter() - start
        rendered = to_markdown(ext, links=True) + json.dumps(to_record(ext))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
        ext, rendered, extract_s = None, "", time.perf_counter() - start
    total_s = time.perf_counter() - start
    audit.armed = False
    if exact_peak:
        peak_kb = _status_kb("VmHWM") or 0.0
    else:
        import resource

        peak_kb = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {
        "case": name,
        "input_mb": size / 1e6,
        "seconds": total_s,
        "extract_seconds": extract_s,
        "peak_mb": peak_kb / 1024,
        "baseline_mb": baseline_kb / 1024,
        "exact_peak": exact_peak,
        "blocks": len(ext.blocks) if ext else None,
        "text_chars": len(ext.text) if ext else None,
        "truncated": ext.truncated if ext else None,
        "error": error,
        "violations": audit.violations,
        "canary_in_output": CANARY_TEXT in rendered or (ext is not None and CANARY_TEXT in ext.text),
    }


# --------------------------------------------------------------------------------------------------------------------
# Parent: canary file, loopback server, one subprocess per case.


class _Listener:
    """A loopback TCP server that accepts and records every connection (nothing should ever connect)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.hits: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.hits.append(f"connection from {addr}")
            conn.close()

    def take(self) -> list[str]:
        hits, self.hits = self.hits, []
        return hits

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class _Watch:
    """inotify watch on one file: reports whether anything opened or read it since the last call."""

    def __init__(self, path: Path) -> None:
        self.fd = -1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK)
            if fd >= 0 and libc.inotify_add_watch(fd, os.fsencode(path), _IN_OPEN | _IN_ACCESS) >= 0:
                self.fd = fd
        except (OSError, AttributeError):
            self.fd = -1

    @property
    def available(self) -> bool:
        return self.fd >= 0

    def events(self) -> int:
        if self.fd < 0:
            return 0
        count = 0
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return count
            offset = 0
            while offset + 16 <= len(data):
                _, _, _, length = struct.unpack_from("iIII", data, offset)
                offset += 16 + length
                count += 1


def _strace_findings(log: Path, allowed: tuple[str, ...], canary: Path) -> list[str]:
    """Open and connect syscalls after the case marker, outside the allowed roots (failed ones included)."""
    if not log.exists():
        return []
    found: list[str] = []
    started = False
    for line in log.read_text(errors="replace").splitlines():
        if not started:
            started = CASE_MARKER in line
            continue
        if "connect(" in line or ("sendto(" in line and "AF_INET" in line):
            found.append(line.strip()[:200])
            continue
        if "open" not in line:
            continue
        first = line.find('"')
        second = line.find('"', first + 1)
        if first < 0 or second < 0:
            continue
        path = line[first + 1 : second]
        if str(canary) in path or not os.path.realpath(path).startswith(allowed):
            found.append(line.strip()[:200])
    return found


def _allowed_for_strace() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, str(ROOT / "bpdetect"), "/proc/self", "/proc/", "/sys/", "/dev/null"}
    roots.update(p for p in sys.path if p and os.path.isdir(p))
    return tuple(sorted(os.path.realpath(r) for r in roots))


def run_case(
    name: str,
    scale: str,
    canary: Path,
    listener: _Listener,
    watch: _Watch,
    timeout: float,
    use_strace: bool,
    workdir: Path,
) -> dict[str, Any]:
    """Run one case in a fresh subprocess; its measurements and every failure found."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--scale",
        scale,
        "--path",
        str(canary),
        "--url",
        listener.url,
    ]
    log = workdir / f"{name}.strace"
    if use_strace:
        cmd = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=%file,%network", "-o", str(log), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    watch.events()
    listener.take()
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir)
    except subprocess.TimeoutExpired:
        result: dict[str, Any] = {"case": name, "error": f"timeout after {timeout:.0f} s"}
    else:
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr or proc.stdout)[-400:].strip()
            result = {"case": name, "error": f"child exited {proc.returncode}: {tail}"}
        else:
            result = json.loads(lines[-1])
    result["wall_seconds"] = time.perf_counter() - started
    failures = []
    if result.get("error"):
        failures.append(result["error"])
    failures += result.get("violations", [])
    if result.get("canary_in_output"):
        failures.append("canary file content in the output")
    failures += [f"server: {hit}" for hit in listener.take()]
    if watch.events():
        failures.append("canary file was opened")
    if use_strace:
        failures += [f"strace: {line}" for line in _strace_findings(log, _allowed_for_strace(), canary)]
    if "seconds" in result:
        mb = result["input_mb"]
        kblocks = (result.get("blocks") or 0) / 1000
        time_bound = TIME_BOUND_BASE_S + TIME_BOUND_S_PER_MB * mb + TIME_BOUND_S_PER_KBLOCK * kblocks
        memory_bound = MEMORY_BOUND_BASE_MB + MEMORY_BOUND_MB_PER_MB * mb + MEMORY_BOUND_MB_PER_KBLOCK * kblocks
        result["time_bound"] = time_bound
        result["memory_bound"] = memory_bound
        if result["seconds"] > time_bound:
            failures.append(f"time {result['seconds']:.1f} s over the bound {time_bound:.1f} s")
        if result["peak_mb"] - result["baseline_mb"] > memory_bound:
            failures.append(f"memory {result['peak_mb'] - result['baseline_mb']:.0f} MB over {memory_bound:.0f} MB")
    result["failures"] = failures
    return result


def _row(r: dict[str, Any]) -> str:
    if "seconds" not in r:
        return f"| {r['case']} | – | – | – | – | – | FAIL: {'; '.join(r['failures'])[:120]} |"
    mb = r["input_mb"]
    rate = f"{r['seconds'] / mb:.3f}" if mb >= MIN_MB_FOR_RATE else "–"
    delta = r["peak_mb"] - r["baseline_mb"]
    status = "ok" if not r["failures"] else "FAIL: " + "; ".join(r["failures"])[:160]
    flags = " (truncated)" if r.get("truncated") else ""
    return (
        f"| {r['case']} | {mb:.2f} | {r['seconds']:.3f} | {r['peak_mb']:.0f} (+{delta:.0f}) | {rate} | "
        f"{r['blocks']}{flags} | {status} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the cases and print a table; exit status 1 if any case failed."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--scale", choices=("small", "full"), default="full")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per case")
    ap.add_argument("--no-strace", action="store_true", help="skip the syscall trace even when strace exists")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        print(json.dumps(run_child(args.child, args.scale, args.path, args.url)))
        return 0

    names = args.case or hostile_pages.case_names()
    unknown = [n for n in names if n not in hostile_pages.CASES]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}")
    use_strace = not args.no_strace and shutil.which("strace") is not None
    results = []
    with tempfile.TemporaryDirectory(prefix="bpdetect-hostile-") as tmp:
        workdir = Path(tmp)
        canary = workdir / "canary.txt"
        canary.write_text(CANARY_TEXT + "\n")
        listener = _Listener()
        watch = _Watch(canary)
        print(
            f"scale={args.scale} strace={'on' if use_strace else 'off'} inotify={'on' if watch.available else 'off'}"
            f" timeout={args.timeout:.0f}s\nbounds: time {TIME_BOUND_BASE_S:g} s + {TIME_BOUND_S_PER_MB:g} s/MB + "
            f"{TIME_BOUND_S_PER_KBLOCK:g} s/1000 blocks; memory {MEMORY_BOUND_BASE_MB:g} MB + "
            f"{MEMORY_BOUND_MB_PER_MB:g} MB/MB + {MEMORY_BOUND_MB_PER_KBLOCK:g} MB/1000 blocks\n",
            flush=True,
        )
        print("| case | input MB | seconds | peak MB (+ over baseline) | s/MB | blocks | status |")
        print("|---|---:|---:|---:|---:|---:|---|", flush=True)
        try:
            for name in names:
                result = run_case(name, args.scale, canary, listener, watch, args.timeout, use_strace, workdir)
                results.append(result)
                print(_row(result), flush=True)
        finally:
            listener.close()
    rated = [r for r in results if "seconds" in r and r["input_mb"] >= MIN_MB_FOR_RATE]
    if rated:
        worst = max(rated, key=lambda r: r["seconds"] / r["input_mb"])
        print(
            f"\nlargest seconds per MB (cases of >= {MIN_MB_FOR_RATE:g} MB): "
            f"{worst['seconds'] / worst['input_mb']:.3f} s/MB ({worst['case']})"
        )
    failed = [r["case"] for r in results if r["failures"]]
    print(
        f"{len(results) - len(failed)}/{len(results)} cases passed"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
