#!/usr/bin/python3
"""Per-node test responder (the article's `nc -l 80 -e hostname -k`): every connection gets
the node's hostname back. An HTTP request gets it as an HTTP/1.0 response, so curl and
requests work; a raw TCP client that sends nothing (nc) gets the bare name."""

import socket
import socketserver
import sys

HOSTNAME = socket.gethostname().encode() + b"\n"
METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"OPTIONS ")


class Responder(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(0.3)
        try:
            first = self.request.recv(1024)
        except OSError:  # timeout: a raw client waiting for us to speak
            first = b""
        if first.startswith(METHODS):
            head = (
                b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(HOSTNAME)
            )
            self.request.sendall(head + (b"" if first.startswith(b"HEAD ") else HOSTNAME))
        else:
            self.request.sendall(HOSTNAME)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    with Server(("0.0.0.0", port), Responder) as server:
        server.serve_forever()
