#!/usr/bin/env python3
"""Runs one QMP command on a running VM's monitor socket and prints its "return" as JSON, for tests that check what
QEMU itself has (qom-list, query-pci) rather than what the module reports. The caller holds the VM's qmp.lock (flock),
so the engine's own sessions wait meanwhile: QEMU serves one monitor client at a time.

usage: Qmp.py <qmp.sock> <command> [<arguments as JSON>]
"""
import json
import socket
import sys


def main():
    path, command = sys.argv[1], sys.argv[2]
    arguments = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    f = s.makefile("rwb")

    def reply():
        while True:
            msg = json.loads(f.readline())
            if "return" in msg or "error" in msg:
                return msg

    json.loads(f.readline())  # greeting
    f.write(b'{"execute":"qmp_capabilities"}\n'); f.flush()
    reply()
    req = {"execute": command}
    if arguments is not None:
        req["arguments"] = arguments
    f.write((json.dumps(req) + "\n").encode()); f.flush()
    msg = reply()
    if "error" in msg:
        print(json.dumps(msg["error"]), file=sys.stderr)
        sys.exit(1)
    print(json.dumps(msg["return"]))


if __name__ == "__main__":
    main()
