"""Reading newline-terminated answers from a pipe or socket with a deadline."""

from __future__ import annotations

import os
import select
import time


def read_line_from(fd: int, buffer: bytearray, timeout: float) -> str:
    """The next line from fd (bytes past it stay in buffer for the next call).

    Raises TimeoutError when no full line comes in time, ConnectionError at end of file."""
    deadline = time.monotonic() + timeout
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"no answer within {timeout:g}s")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise ConnectionError("closed by the other end")
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode(errors="replace").strip()
