"""bench/RESULTS.md: one table row per benchmark run, and the machine it ran on. Shared by every bench."""

import datetime
import os
import platform

import psycopg2

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
RESULTS_HEADER = (
    "# Benchmark results\n\nOne line per run, appended by the bench scripts. Compare lines of "
    "one machine only.\n\n| date (UTC) | benchmark | workload | figure | baseline | ratio | machine |\n"
    "|---|---|---|---|---|---|---|\n"
)


def machine(postgres_url=None, load=None):
    """CPU, cores, load average (``load``: (before, after) if given, else now) and PostgreSQL's version."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    if load is not None:
        described = f"load average {load[0]:.1f} before / {load[1]:.1f} after (shared with other work)"
    else:
        described = f"load average {os.getloadavg()[0]:.1f}"
    text = f"{cpu}, {os.cpu_count()} cores, {described}"
    if postgres_url:
        conn = psycopg2.connect(postgres_url)
        version = conn.server_version
        conn.close()
        text += f", PostgreSQL {version // 10000}.{version % 10000}"
    return text


def append_result(benchmark, workload, figure, baseline, ratio, machine_text):
    """Append one row; appending only, as another benchmark may write at the same time."""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    cells = [when, benchmark, workload, figure, baseline, ratio, machine_text]
    row = "| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in cells) + " |\n"
    new = not os.path.exists(RESULTS)
    with open(RESULTS, "a", encoding="utf-8") as out:
        if new:
            out.write(RESULTS_HEADER)
        out.write(row)
    print(f"appended to {RESULTS}")
