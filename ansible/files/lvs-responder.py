#!/usr/bin/python3
"""Per-node test responder (the article's `nc -l 80 -e hostname -k`): every connection gets
the node's hostname back. An HTTP request gets it as an HTTP/1.0 response, so curl and
requests work; a raw TCP client that sends nothing (nc) gets the bare name. A client that
sends HOLD gets the name and keeps the connection: every further line it sends is answered
with the name again (the harness's long-lived sessions), until it closes or HELD_FOR ends."""

import socket
import socketserver
import sys

HOSTNAME = socket.gethostname().encode() + b"\n"
METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"OPTIONS ")
HELD_FOR = 900  # s a held connection may stay idle: a forgotten client cannot pin it forever


class Responder(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(0.3)
        try:
            first = self.request.recv(1024)
        except OSError:  # timeout: a raw client waiting for us to speak
            first = b""
        if first.startswith(b"HOLD"):
            self.hold(first)
        elif first.startswith(METHODS):
            head = (
                b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(HOSTNAME)
            )
            self.request.sendall(head + (b"" if first.startswith(b"HEAD ") else HOSTNAME))
        else:
            self.request.sendall(HOSTNAME)

    def hold(self, received: bytes) -> None:
        self.request.settimeout(HELD_FOR)
        self.request.sendall(HOSTNAME)
        pending = received.split(b"\n", 1)[1] if b"\n" in received else b""
        try:
            while True:
                while b"\n" in pending:
                    _, pending = pending.split(b"\n", 1)
                    self.request.sendall(HOSTNAME)
                chunk = self.request.recv(1024)
                if not chunk:
                    return
                pending += chunk
        except OSError:
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    with Server(("0.0.0.0", port), Responder) as server:
        server.serve_forever()
