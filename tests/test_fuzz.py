"""The short CI version of benchmarks/fuzz.py (a few hundred inputs through the shipped default models), the
determinism of its generators and mutators (same seed, same inputs), and its supervisor's handling of crashes.

The full run (100,000 inputs) is ``python benchmarks/fuzz.py``; see that module's docstring.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

import fuzz  # noqa: E402

SHORT_RUN_INPUTS = 400
REAL_CALL = fuzz._call


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, fuzz.Page]]:
    return fuzz.build_corpus(0)


def test_short_fuzz_run_has_no_crash(tmp_path: Path) -> None:
    cfg = fuzz.Config(inputs=SHORT_RUN_INPUTS, seed=0, jobs=1, crash_dir=tmp_path, progress_every=0)
    stats = fuzz.fuzz_in_process(cfg)
    assert [c["error"] for c in stats.crashes] == []
    assert stats.tried == SHORT_RUN_INPUTS
    assert stats.rechecked == SHORT_RUN_INPUTS // fuzz.RECHECK_EVERY
    assert not list(tmp_path.iterdir())  # no crash file
    # The inputs were varied: generated, mutated and seed pages; bytes and str; every api and input kind.
    groups = {g.split(":")[0] for g in stats.by_origin}
    assert {"gen", "gen+mut", "mutant", "splice", "seed"} <= groups
    forms = {tuple(f.split("/")) for f in stats.by_form}
    assert {f[0] for f in forms} == {"bytes", "str"}
    assert {f[1] for f in forms} == {"extract", "extract_text"}
    assert {f[2] for f in forms} == {"auto", "html", "text"}
    assert stats.max_size >= fuzz.MIN_BYTES_FOR_RATE and stats.rated > 0
    fig = fuzz.summary(stats, cfg, 1.0)
    json.dumps(fig)
    assert fig["inputs_tried"] == SHORT_RUN_INPUTS and fig["crashes"] == 0 and fig["peak_rss_mb"] > 0


def test_same_seed_same_inputs(corpus: list[tuple[str, fuzz.Page]]) -> None:
    assert fuzz.build_corpus(0) == corpus
    first = [fuzz.make_case(corpus, 123, i) for i in range(150)]
    assert [fuzz.make_case(corpus, 123, i) for i in range(150)] == first
    assert [fuzz.make_case(corpus, 124, i) for i in range(150)] != first
    assert len({(type(c.data), c.data) for c in first}) > 100  # mostly distinct inputs
    assert all(c.size <= fuzz.MAX_INPUT_BYTES for c in first)
    # A case depends on (seed, index) alone, not on the cases before it: a restarted worker regenerates it.
    assert fuzz.make_case(corpus, 123, 77) == first[77]


def test_generators_are_deterministic() -> None:
    for name, gen in fuzz.GENERATORS.items():
        for seed in range(5):
            a = gen(random.Random(seed))
            assert a == gen(random.Random(seed)), name
            assert isinstance(a, (bytes, str)), name
        assert len({gen(random.Random(seed)) for seed in range(5)}) > 1, name


def test_mutators_are_deterministic() -> None:
    data = b"<html><body><p>Hello &amp; world</p><ul><li>one</li></ul></body></html>"
    other = "- line one\n- ligne deux \u00e9\n".encode()
    for op in fuzz.MUTATORS:
        for seed in range(10):
            out = op(random.Random(seed), data, other)
            assert out == op(random.Random(seed), data, other), op.__name__
            assert isinstance(out, bytes), op.__name__
        op(random.Random(0), b"", b"")  # empty input is fine
    mutants = [fuzz.mutate(random.Random(seed), data, other) for seed in range(50)]
    assert mutants == [fuzz.mutate(random.Random(seed), data, other) for seed in range(50)]
    assert len(set(mutants)) > 40
    assert all(len(m) <= fuzz.MAX_INPUT_BYTES for m in mutants)


def test_jobs_split_the_inputs_with_distinct_seeds() -> None:
    ranges = fuzz.job_ranges(fuzz.Config(inputs=1001, seed=5, jobs=4))
    assert sum(n for _, n in ranges) == 1001
    assert len({seed for seed, _ in ranges}) == 4
    assert ranges == fuzz.job_ranges(fuzz.Config(inputs=1001, seed=5, jobs=4))
    assert [s for s, _ in ranges] != [s for s, _ in fuzz.job_ranges(fuzz.Config(inputs=1001, seed=6, jobs=4))]


def _fake_call(case: fuzz.Case) -> object:
    """Misbehave on chosen indices: raise, die, hang in Python, hang where SIGALRM cannot reach; else the real call."""
    if case.index == 2:
        raise RuntimeError("injected failure")
    if case.index == 4:
        signal.raise_signal(signal.SIGKILL)
    if case.index == 6:
        time.sleep(30)  # interrupted by the SIGALRM watchdog
    if case.index == 8:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])  # only the supervisor can end this
        time.sleep(30)
    return REAL_CALL(case)


@pytest.mark.skipif(sys.platform != "linux", reason="forked workers and SIGALRM")
def test_supervisor_records_crashes_and_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fuzz, "_call", _fake_call)
    monkeypatch.setattr(fuzz, "REPORT_EVERY", 3)
    cfg = fuzz.Config(inputs=11, seed=0, jobs=1, timeout=0.3, hard_timeout=1.5, crash_dir=tmp_path, progress_every=0)
    stats = fuzz.fuzz_supervised(cfg)
    assert stats.tried == 11
    errors = {c["index"]: c["error"] for c in stats.crashes}
    assert sorted(errors) == [2, 4, 6, 8]
    assert "RuntimeError: injected failure" in errors[2]
    assert errors[4] == "worker died: signal 9"
    assert errors[6].startswith("hang: over 0.3 s")
    assert errors[8].startswith("hang: worker stuck")
    for crash in stats.crashes:
        record = json.loads(Path(crash["record_file"]).read_text(encoding="utf-8"))
        assert record["index"] == crash["index"] and Path(record["input_file"]).exists()
    assert "RuntimeError" in json.loads(Path(stats.crashes[0]["record_file"]).read_text())["traceback"]
