"""What the ZooKeeper server alone takes to serve reads, as a reference for the SDK's connect().

Usage: /usr/bin/python3 bench/zookeeper-floor.py HOST:PORT PATHS_FILE [SAMPLES]

PATHS_FILE holds one node path a line. For each sample, prints one JSON line:
- "pipelined": a new session on a plain socket, then every path's getData sent in one write and
  every answer read (each counted and checked for its xid, none decoded further): the server's own
  time for one request per node, with as little client as there can be;
- "multiRead": the same with the reads 32 to a multiRead request, as Cairn's client sends them;
- "kazoo": a new kazoo session (python3-kazoo, another language's client), then get_async of every
  path, waiting for all.
"""

import json
import socket
import struct
import sys
import time


def read_exact(sock, buffer, need):
    while len(buffer) < need:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError('the server closed the connection')
        buffer.extend(chunk)


def open_session(host, port):
    """A new session on a plain socket: the socket, and what was read past the server's answer."""
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly.
    body = struct.pack('>iqiqi', 0, 0, 10000, 0, 16) + bytes(16) + b'\x00'
    sock.sendall(struct.pack('>i', len(body)) + body)
    buffer = bytearray()
    read_exact(sock, buffer, 4)
    (length,) = struct.unpack_from('>i', buffer)
    read_exact(sock, buffer, 4 + length)
    del buffer[: 4 + length]
    return sock, buffer


def pipelined(host, port, paths):
    started = time.perf_counter()
    sock, buffer = open_session(host, port)
    requests = bytearray()
    for xid, path in enumerate(paths, start=1):
        encoded = path.encode()
        # RequestHeader (xid, type 4 = getData), then GetDataRequest (path, watch).
        body = struct.pack('>ii', xid, 4) + struct.pack('>i', len(encoded)) + encoded + b'\x00'
        requests += struct.pack('>i', len(body)) + body
    sock.sendall(requests)
    answered = 0
    offset = 0
    while answered < len(paths):
        if len(buffer) - offset < 4:
            del buffer[:offset]
            offset = 0
            read_exact(sock, buffer, 4)
        (length,) = struct.unpack_from('>i', buffer, offset)
        if len(buffer) - offset < 4 + length:
            del buffer[:offset]
            offset = 0
            read_exact(sock, buffer, 4 + length)
        xid, _zxid, err = struct.unpack_from('>iqi', buffer, offset + 4)
        answered += 1
        if xid != answered or err != 0:
            raise RuntimeError(f'answer {answered}: xid {xid}, error {err}')
        offset += 4 + length
    elapsed = time.perf_counter() - started
    sock.close()
    return elapsed


def multi_read(host, port, paths, per_request):
    started = time.perf_counter()
    sock, buffer = open_session(host, port)
    requests = bytearray()
    batches = [paths[i : i + per_request] for i in range(0, len(paths), per_request)]
    for xid, batch in enumerate(batches, start=1):
        # RequestHeader (xid, type 22 = multiRead), then a MultiHeader and GetDataRequest per read.
        body = bytearray(struct.pack('>ii', xid, 22))
        for path in batch:
            encoded = path.encode()
            body += struct.pack('>i?i', 4, False, -1) + struct.pack('>i', len(encoded)) + encoded + b'\x00'
        body += struct.pack('>i?i', -1, True, -1)
        requests += struct.pack('>i', len(body)) + body
    sock.sendall(requests)
    answered = 0
    while answered < len(batches):
        read_exact(sock, buffer, 4)
        (length,) = struct.unpack_from('>i', buffer)
        read_exact(sock, buffer, 4 + length)
        xid, _zxid, err = struct.unpack_from('>iqi', buffer, 4)
        answered += 1
        if xid != answered or err != 0:
            raise RuntimeError(f'answer {answered}: xid {xid}, error {err}')
        del buffer[: 4 + length]
    elapsed = time.perf_counter() - started
    sock.close()
    return elapsed


def kazoo(connect, paths):
    from kazoo.client import KazooClient

    started = time.perf_counter()
    client = KazooClient(hosts=connect)
    client.start()
    results = [client.get_async(path) for path in paths]
    for result in results:
        result.get()
    elapsed = time.perf_counter() - started
    client.stop()
    client.close()
    return elapsed


def main():
    connect, paths_file = sys.argv[1], sys.argv[2]
    samples = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    host, port = connect.rsplit(':', 1)
    with open(paths_file) as lines:
        paths = [line.strip() for line in lines if line.strip()]
    for _ in range(samples):
        print(
            json.dumps(
                {
                    'pipelined': pipelined(host, int(port), paths) * 1000,
                    'multiRead': multi_read(host, int(port), paths, 32) * 1000,
                    'kazoo': kazoo(connect, paths) * 1000,
                }
            ),
            flush=True,
        )


main()
