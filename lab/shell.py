"""Running host commands, with progress output for the steps that take a while."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from lab.errors import LabError


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float | None = 120,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a host command and capture its output; raise LabError when it fails and check is set."""
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
        )
    except FileNotFoundError as exc:
        raise LabError(f"command not found: {argv[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timed out after {timeout}s: {shlex.join(argv)}") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise LabError(
            f"{shlex.join(argv)} exited {proc.returncode}: {detail[-1] if detail else ''}"
        )
    return proc


def say(message: str) -> None:
    """Progress line on stderr, so stdout stays clean for tables and command output."""
    print(f"lvslab: {message}", file=sys.stderr, flush=True)


@contextmanager
def step(message: str) -> Iterator[None]:
    """Announce a long step and report how long it took."""
    say(f"{message} ...")
    started = time.monotonic()
    yield
    say(f"{message}: done in {time.monotonic() - started:.1f}s")


def run_logged(
    argv: Sequence[str],
    log: Path,
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    report_every: float = 20,
) -> None:
    """Run a long host command with its output going to a log file, saying its latest line
    every so often; on failure raise with the log's last lines."""
    started = time.monotonic()
    # The command's own name, also when it runs inside a namespace.
    name = argv[4] if list(argv[:3]) == ["ip", "netns", "exec"] and len(argv) > 4 else argv[0]
    with log.open("a") as out:
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        while proc.poll() is None:
            try:
                proc.wait(timeout=report_every)
            except subprocess.TimeoutExpired:
                if time.monotonic() - started > timeout:
                    proc.kill()
                    proc.wait()
                    what = f"{shlex.join(argv)} (log: {log})"
                    raise LabError(f"timed out after {timeout}s: {what}") from None
                lines = log.read_text(errors="replace").strip().splitlines()
                say(f"  {name}: {lines[-1].strip() if lines else 'starting'}")
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise LabError(
            f"{shlex.join(argv)} exited {proc.returncode} (log: {log}): {' | '.join(tail)}"
        )
