"""Running wrk (a C load generator, in its own process) and reading what it prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=False)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=True)
        return shutil.which("wrk") or "wrk"
    raise SystemExit("The benchmark needs wrk: sudo apt-get install wrk")


def milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    assert match, text
    return float(match.group(1)) * UNITS[match.group(2)]


def run(url: str, seconds: float, connections: int, headers: dict[str, str] | None = None) -> Run:
    command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Run(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=milliseconds(percentiles["50"]),
        p99_ms=milliseconds(percentiles["99"]),
        non_2xx=(int(non_2xx.group(1)) if non_2xx else 0) + errors,
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
    )
