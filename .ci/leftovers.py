#!/usr/bin/env python3
"""Count the Docker objects (containers, networks, volumes) labeled io.gflab.lab[=NAME], asking the
engine's API directly over its socket, independently of gflab. Exits 1 and lists them if any exist.

usage: leftovers.py [LAB | PREFIX*]   (PREFIX*: every lab whose name starts with PREFIX)
"""
import http.client
import json
import os
import socket
import sys
import urllib.parse


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def get(path):
    sock = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock").removeprefix("unix://")
    conn = UnixConnection(sock)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        sys.exit(f"error: engine answered {resp.status} to GET {path}: {body[:200]!r}")
    return json.loads(body)


def main():
    arg = sys.argv[1] if len(sys.argv) > 1 else ""
    prefix = arg[:-1] if arg.endswith("*") else None
    label = "io.gflab.lab" + (f"={arg}" if arg and prefix is None else "")
    filters = urllib.parse.quote(json.dumps({"label": [label]}))

    def ours(labels):
        return prefix is None or (labels or {}).get("io.gflab.lab", "").startswith(prefix)

    found = []
    for c in get(f"/containers/json?all=1&filters={filters}"):
        if ours(c.get("Labels")):
            found.append(f"container {c['Names'][0].lstrip('/')}")
    for n in get(f"/networks?filters={filters}"):
        if ours(n.get("Labels")):
            found.append(f"network {n['Name']}")
    for v in get(f"/volumes?filters={filters}").get("Volumes") or []:
        if ours(v.get("Labels")):
            found.append(f"volume {v['Name']}")
    if prefix is not None:
        label = f"io.gflab.lab={prefix}*"
    if found:
        print(f"error: {len(found)} object(s) labeled {label} left:", file=sys.stderr)
        for f in found:
            print(f"  {f}", file=sys.stderr)
        sys.exit(1)
    print(f"no Docker object labeled {label}")


if __name__ == "__main__":
    main()
