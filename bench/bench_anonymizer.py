"""How fast and how complete is the anonymizer, beside the one it replaced? Prints figures, asserts nothing.

    .venv/bin/python bench/bench_anonymizer.py [--rounds 3] [--baseline-rev REV] [--no-record]

Workload: every text of the labelled corpus (tests/anonymization/corpus: Russian and English case
texts and the control texts), scrubbed ``--rounds`` times after one warm-up pass (the warm-up loads
natasha, pymorphy3 and the name lexicons once, as a long-running service does).

(a) baseline: the anonymizer as it was before issue 19 (one module, services/common/anonymizer.py),
    read from git (``--baseline-rev``, by default the parent of the commit that replaced it) into a
    temporary module, never installed;
(b) today's services.common.anonymizer.

Figures: milliseconds per 1,000 characters (median of the rounds; CPU time of the process, the wall
clock beside it), and each one's score on the
corpus (items removed, phrases kept, controls unchanged; tests/anonymization/scorer.py). The row is
appended to bench/RESULTS.md (bench/results.py) unless --no-record.
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from results import append_result, machine  # noqa: E402  (bench/results.py)

from services.common import anonymizer  # noqa: E402
from tests.anonymization.scorer import load_corpus, score  # noqa: E402

OLD_PATH = "services/common/anonymizer.py"


def baseline_rev():
    """The parent of the commit that turned the one-module anonymizer into a package."""
    replaced = subprocess.run(
        ["git", "-C", ROOT, "rev-list", "-1", "HEAD", "--", OLD_PATH], check=True, capture_output=True, text=True
    ).stdout.strip()
    return f"{replaced}^"


def load_baseline(rev):
    source = subprocess.run(
        ["git", "-C", ROOT, "show", f"{rev}:{OLD_PATH}"], check=True, capture_output=True, text=True
    ).stdout
    directory = tempfile.mkdtemp(prefix="anonymizer-baseline-")
    path = os.path.join(directory, "anonymizer_baseline.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("anonymizer_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ms_per_1000_chars(scrub, texts, rounds):
    """(CPU ms, wall-clock ms) per 1,000 characters, medians of the rounds, and the characters per round.

    CPU time (this process, all its threads) is the figure compared: on a machine shared with other
    work the wall clock mostly measures the others."""
    for text in texts:  # warm-up: models and lexicons load once per process
        scrub(text)
    chars = sum(len(t) for t in texts)
    cpu, wall = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        for text in texts:
            scrub(text)
        cpu.append((time.process_time() - started_cpu) * 1000 / chars * 1000)
        wall.append((time.perf_counter() - started) * 1000 / chars * 1000)
    return statistics.median(cpu), statistics.median(wall), chars


def describe(result):
    done, total = result.items_removed
    kept, phrases = result.phrases_kept
    unchanged = result.controls - len(result.controls_changed)
    return (
        f"removed {done}/{total} ({100 * done / total:.1f}%), phrases kept {kept}/{phrases} "
        f"({100 * kept / phrases:.1f}%), controls unchanged {unchanged}/{result.controls}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-rev", help="git revision holding the old services/common/anonymizer.py")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()

    corpus = load_corpus()
    texts = [t.text for t in corpus[0]] + corpus[1]
    rev = args.baseline_rev or baseline_rev()
    old = load_baseline(rev)
    load_before = os.getloadavg()[0]

    old_ms, old_wall, chars = ms_per_1000_chars(old.scrub, texts, args.rounds)
    new_ms, new_wall, _ = ms_per_1000_chars(anonymizer.scrub, texts, args.rounds)
    old_score, new_score = (
        score(old.find_spans, old.scrub, corpus),
        score(anonymizer.find_spans, anonymizer.scrub, corpus),
    )
    load = (load_before, os.getloadavg()[0])

    print(f"corpus: {len(texts)} texts, {chars} characters, {args.rounds} rounds (median)")
    print(
        f"(a) baseline ({rev}): {old_ms:.2f} CPU ms per 1,000 characters (wall {old_wall:.2f}); {describe(old_score)}"
    )
    print(f"(b) today: {new_ms:.2f} CPU ms per 1,000 characters (wall {new_wall:.2f}); {describe(new_score)}")
    print(f"ratio (b)/(a): {new_ms / old_ms:.2f}")
    if not args.no_record:
        append_result(
            "bench_anonymizer",
            f"labelled corpus: {len(texts)} texts, {chars} characters, median of {args.rounds} rounds after a warm-up",
            f"{new_ms:.2f} CPU ms per 1,000 characters (wall {new_wall:.2f}); {describe(new_score)}",
            f"anonymizer before issue 19: {old_ms:.2f} CPU ms per 1,000 characters (wall {old_wall:.2f}); "
            f"{describe(old_score)}",
            f"{new_ms / old_ms:.2f}",
            machine(load=load),
        )


if __name__ == "__main__":
    main()
