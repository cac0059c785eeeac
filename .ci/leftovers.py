#!/usr/bin/env python3
"""Count the Docker objects (containers, networks, volumes) labeled io.gflab.lab[=NAME], asking the
engine's API directly over its socket, independently of gflab. Exits 1 and lists them if any exist.

usage: leftovers.py [LAB]
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
    label = "io.gflab.lab" + (f"={sys.argv[1]}" if len(sys.argv) > 1 else "")
    filters = urllib.parse.quote(json.dumps({"label": [label]}))
    found = []
    for c in get(f"/containers/json?all=1&filters={filters}"):
        found.append(f"container {c['Names'][0].lstrip('/')}")
    for n in get(f"/networks?filters={filters}"):
        found.append(f"network {n['Name']}")
    for v in get(f"/volumes?filters={filters}").get("Volumes") or []:
        found.append(f"volume {v['Name']}")
    if found:
        print(f"error: {len(found)} object(s) labeled {label} left:", file=sys.stderr)
        for f in found:
            print(f"  {f}", file=sys.stderr)
        sys.exit(1)
    print(f"no Docker object labeled {label}")


if __name__ == "__main__":
    main()
