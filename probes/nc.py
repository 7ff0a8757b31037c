"""The article's own check, `nc VIP PORT`: a shell loop that runs wherever a shell does (the
client side, or a node over ssh), and the answers it printed. The responder sends its name
and closes, so each connection reads one name, or nothing when it got no answer."""

from __future__ import annotations

import shlex

WAIT_S = 3  # nc -w: a connection that gets no SYN-ACK counts as timed out after this


def loop_script(vip: str, port: int, count: int, wait: int = WAIT_S) -> str:
    """count connections, one after another; each answer printed in brackets so that an
    empty answer is still a line."""
    nc = shlex.join(["nc", "-w", str(wait), vip, str(port)])
    return f'for i in $(seq {count}); do echo "[$({nc} 2>/dev/null)]"; done'


def loop_timeout(count: int, wait: int = WAIT_S) -> float:
    """How long the loop may take: every connection at its wait, plus a margin for the
    shell and the transport that runs it."""
    return count * (wait + 5) + 30


def answers(stdout: str) -> list[str | None]:
    """Each connection's answer in order, None for one that read nothing."""
    lines = [line.strip() for line in stdout.splitlines()]
    return [line[1:-1] or None for line in lines if line.startswith("[") and line.endswith("]")]
