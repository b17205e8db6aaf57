#!/usr/bin/python3
"""The origin server of tests/icap-e2e.sh: Python's http.server on loopback.

  GET  /f/NAME              the file DIR/NAME, Content-Type from its extension
                            (?type=T overrides it; ?cd=NAME adds
                            Content-Disposition: attachment; filename="NAME")
  GET  /gz/NAME             the same file gzip-encoded (Content-Encoding: gzip)
  GET  /range/NAME          a 206 with the first half of the file
  GET  /slow/NAME           as /f/, the body paused for 0.2 s after 16 KiB
  POST /upload, PUT /upload stores the body as UPLOADS/N.body and its
                            Content-Type as UPLOADS/N.type; answers 201 with
                            the body's SHA-256

Usage: origin.py PORTFILE DIR UPLOADS  (binds 127.0.0.1:0 and writes the
port it got to PORTFILE, so parallel test runs never collide)
"""
import gzip
import hashlib
import http.server
import mimetypes
import os
import sys
import threading
import time
import urllib.parse

DIR = UPLOADS = None
LOCK = threading.Lock()
COUNT = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test reads Squid's log
        pass

    def send(self, code, body, ctype, extra=(), pause=0):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        if pause:
            self.wfile.write(body[:pause])
            self.wfile.flush()
            time.sleep(0.2)
            body = body[pause:]
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        parts = url.path.split("/", 2)
        if len(parts) != 3 or "/" in parts[2] or parts[2] in ("", ".", ".."):
            return self.send(404, b"not found\n", "text/plain")
        kind, name = parts[1], urllib.parse.unquote(parts[2])
        path = os.path.join(DIR, name)
        if not os.path.isfile(path):
            return self.send(404, b"not found\n", "text/plain")
        with open(path, "rb") as f:
            data = f.read()
        ctype = q.get("type", [mimetypes.guess_type(name)[0] or "application/octet-stream"])[0]
        extra = []
        if "cd" in q:
            extra.append(("Content-Disposition", 'attachment; filename="%s"' % q["cd"][0]))
        if kind == "f":
            return self.send(200, data, ctype, extra)
        if kind == "slow":
            # the first 16 KiB, a pause, then the rest: Squid 5.7 stalls for
            # good when a RESPMOD body fills its 64 KiB buffer before the
            # ICAP transaction has started writing (see doc/imsafe-icap.8)
            return self.send(200, data, ctype, extra, pause=16384)
        if kind == "gz":
            extra.append(("Content-Encoding", "gzip"))
            return self.send(200, gzip.compress(data, mtime=0), ctype, extra)
        if kind == "range":
            half = len(data) // 2
            extra.append(("Content-Range", "bytes 0-%d/%d" % (half - 1, len(data))))
            return self.send(206, data[:half], ctype, extra)
        return self.send(404, b"not found\n", "text/plain")

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with LOCK:
            COUNT[0] += 1
            k = COUNT[0]
        with open(os.path.join(UPLOADS, "%d.body" % k), "wb") as f:
            f.write(body)
        with open(os.path.join(UPLOADS, "%d.type" % k), "w") as f:
            f.write(self.headers.get("Content-Type", ""))
        with open(os.path.join(UPLOADS, "%d.verdict" % k), "w") as f:
            f.write(self.headers.get("X-Imsafe-Verdict", ""))
        self.send(201, (hashlib.sha256(body).hexdigest() + "\n").encode(), "text/plain")

    do_PUT = do_POST


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # Squid closes a connection whose body it refused (a 403 decided
        # from the headers): not an error of the origin
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    global DIR, UPLOADS
    portfile, DIR, UPLOADS = sys.argv[1:4]
    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
