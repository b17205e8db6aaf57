#!/usr/bin/python3
"""A small load driver for tests/icap-failover.sh: CLIENTS threads send
GETs through a proxy for SECONDS, cycling over URLS, and record for each
request its start time (relative), HTTP status and X-Imsafe-Verdict.

  load.py PROXY SECONDS CLIENTS OUT URL...

OUT gets one line per request: "start status url verdict" (verdict "-"
when the header is absent).  Connection errors are status 0.
"""
import sys
import threading
import time
import urllib.error
import urllib.request


def main():
    proxy, secs, clients, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    urls = sys.argv[5:]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
    t0 = time.monotonic()
    with open(out + ".start", "w") as f:
        f.write("%.3f\n" % time.time())
    rows, lock = [], threading.Lock()

    def client(k):
        i = k
        while time.monotonic() - t0 < secs:
            url = urls[i % len(urls)]
            i += 1
            start = time.monotonic() - t0
            verdict = "-"
            try:
                with opener.open(url, timeout=20) as r:
                    r.read()
                    status = r.status
                    verdict = r.headers.get("X-Imsafe-Verdict", "-")
            except urllib.error.HTTPError as e:
                e.read()
                status = e.code
                verdict = e.headers.get("X-Imsafe-Verdict", "-")
            except OSError:
                status = 0
            with lock:
                rows.append("%.3f %d %s %s" % (start, status, url, verdict.split(";")[0]))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        f.write("\n".join(sorted(rows, key=lambda r: float(r.split()[0]))) + "\n")


if __name__ == "__main__":
    main()
