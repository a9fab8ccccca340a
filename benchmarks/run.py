"""Run every benchmark of this directory and print their JSON reports as one JSON document.

    python3 benchmarks/run.py [--only NAME ...]

`make benchmark` runs this. Each benchmark is a script of benchmarks/ that prints one JSON object
and exits non-zero when it fails (config_hostile, capacity and real_node also when they miss a target; pr_lifecycle
reports its targets under `met`); each runs in its own process, one after the other (the machine is small: timings
of benchmarks running side by side would mean nothing). The cluster benchmarks start their own local cluster.
The exit code is 1 when any benchmark exited non-zero.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
BENCHMARKS = sorted(path.stem for path in HERE.glob("*.py") if path.stem != "run" and not path.stem.startswith("_"))


def run(name: str) -> dict:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(HERE / f"{name}.py")], capture_output=True, text=True, check=False)
    entry = {"name": name, "exit_code": proc.returncode, "seconds": round(time.monotonic() - started, 1)}
    try:
        entry["report"] = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        entry["output"] = (proc.stdout + proc.stderr)[-3000:]
    if proc.returncode != 0:
        entry["stderr"] = proc.stderr[-3000:]
    return entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    args = parser.parse_args()
    results = [run(name) for name in (args.only or BENCHMARKS)]
    print(json.dumps({"benchmarks": results, "failed": [r["name"] for r in results if r["exit_code"] != 0]}, indent=2))
    return 1 if any(r["exit_code"] != 0 for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
