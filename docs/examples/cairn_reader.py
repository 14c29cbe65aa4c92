#!/usr/bin/env python3
"""A Cairn configuration reader in Python, written from docs/zookeeper-protocol.md only.

Reads one service's files in one environment from ZooKeeper and prints each snapshot it applies as
one JSON line: {"event": "snapshot", "commit", "tag", "files": {path: content id}, "contents":
{path: base64}}, or {"event": "absent", "mirrored": bool} when the environment has no pointer.

    python3 cairn_reader.py --zk 127.0.0.1:2181 --service recommender --env dev [--root /cairn] [--once]

With --once it prints the first read and exits; otherwise it watches the pointer and prints every
newer snapshot until it is stopped (SIGTERM, or its standard input closes). Needs kazoo (Debian:
python3-kazoo).
"""

import argparse
import base64
import hashlib
import json
import signal
import sys
import threading

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import NoNodeError

MAX_ROUNDS = 5


class DamagedContent(Exception):
    """Content the pointer names is missing or wrong, and the pointer did not move."""


def content_id(data):
    """The git blob id of some bytes: sha1 of "blob <length>\\0" + bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Reader:
    def __init__(self, zk, root, service, env):
        self.zk = zk
        self.root = root.rstrip("/")
        self.pointer_path = "%s/config/%s/%s" % (self.root, service, env)
        self.held = {}  # content id -> bytes of the snapshot applied
        self.applied_mzxid = -1

    def content_path(self, cid):
        return "%s/content/%s/%s" % (self.root, cid[:2], cid)

    def read_content(self, cid):
        """The bytes of a content node, or None when it is missing or does not match its id."""
        if cid in self.held:
            return self.held[cid]
        try:
            data, _ = self.zk.get(self.content_path(cid))
        except NoNodeError:
            return None
        return data if content_id(data) == cid else None

    def read(self, watch):
        """Step 1-5 of the consistency rule: a whole snapshot, an absence, or DamagedContent."""
        try:
            data, stat = self.zk.get(self.pointer_path, watch=watch)
        except NoNodeError:
            if self.zk.exists(self.pointer_path, watch=watch) is not None:
                return self.read(None)
            mirrored = self.zk.exists(self.root + "/head") is not None
            return {"event": "absent", "mirrored": mirrored}
        for _ in range(MAX_ROUNDS):
            pointer = json.loads(data.decode("utf-8"))
            snapshot = self.read_snapshot(pointer)
            if snapshot is not None:
                snapshot["mzxid"] = stat.mzxid
                return snapshot
            # Content missing: did the pointer move on?
            try:
                data, now = self.zk.get(self.pointer_path)
            except NoNodeError:
                return {"event": "absent", "mirrored": True}
            if now.mzxid == stat.mzxid:
                raise DamagedContent("content that %s names is missing or damaged" % self.pointer_path)
            stat = now
        raise DamagedContent("the pointer %s moved on %d times while it was read" % (self.pointer_path, MAX_ROUNDS))

    def read_snapshot(self, pointer):
        manifest_bytes = self.read_content(pointer["manifest"])
        if manifest_bytes is None:
            return None
        files = json.loads(manifest_bytes.decode("utf-8"))["files"]
        contents = {}
        for path, cid in files.items():
            if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
                raise DamagedContent("unsafe file path %r in the manifest" % path)
            data = self.read_content(cid)
            if data is None:
                return None
            contents[path] = data
        revision = pointer["revision"]
        return {
            "event": "snapshot",
            "commit": revision["commit"],
            "tag": revision.get("tag"),
            "files": dict(sorted(files.items())),
            "contents": contents,
        }

    def apply(self, result):
        """Prints a result; a snapshot replaces the previous one whole, never an older one."""
        if result["event"] == "snapshot":
            if result["mzxid"] <= self.applied_mzxid:
                return
            self.applied_mzxid = result["mzxid"]
            self.held = {result["files"][p]: data for p, data in result["contents"].items()}
            out = dict(result)
            del out["mzxid"]
            out["contents"] = {p: base64.b64encode(d).decode("ascii") for p, d in result["contents"].items()}
        else:
            out = result
        sys.stdout.write(json.dumps(out, sort_keys=True) + "\n")
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zk", required=True)
    parser.add_argument("--root", default="/cairn")
    parser.add_argument("--service", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--auth", help="digest credentials user:password")
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args()

    auth = [("digest", args.auth)] if args.auth else None
    zk = KazooClient(hosts=args.zk, timeout=10.0, auth_data=auth)
    wake = threading.Event()
    stop = threading.Event()

    def on_state(state):
        # After a reconnection or a new session, read again: changes meanwhile are not replayed.
        if state == KazooState.CONNECTED:
            wake.set()

    zk.add_listener(on_state)
    zk.start(timeout=15)
    reader = Reader(zk, args.root, args.service, args.env)

    def on_watch(_event):
        wake.set()

    signal.signal(signal.SIGTERM, lambda *_: (stop.set(), wake.set()))
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set(), wake.set()), daemon=True).start()

    wake.set()
    status = 0
    while not stop.is_set():
        # The guard against a lost watch: read again every few minutes even without one.
        wake.wait(timeout=300)
        if stop.is_set():
            break
        wake.clear()
        try:
            reader.apply(reader.read(on_watch))
        except DamagedContent as error:
            sys.stderr.write("cairn_reader: %s; keeping the last snapshot\n" % error)
            status = 3
            if args.once:
                break
            continue
        if args.once:
            break
    zk.stop()
    zk.close()
    sys.exit(status)


if __name__ == "__main__":
    main()
