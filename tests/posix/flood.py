#!/usr/bin/env python3
"""Hostile clients and a probe for the servers' process tests.

    flood.py HOST PORT silent N PROBE...
        holds N connections that send nothing
    flood.py HOST PORT trickle N HEX PROBE...
        holds N connections, each sending the first byte of the (never
        finished) request HEX at once and the next one every second, as
        Slowloris does
    flood.py HOST PORT PROBE...
        no flood
    flood.py HOST PORT keepalive N SECONDS [http|dns]
        opens N connections, each makes one request (GET /, or one DNS
        query over TCP) and keeps its connection open; prints "held K" (K
        answered: 200, or NOERROR), holds them for SECONDS, prints "open O
        after SECONDS s" (O still open: the server had not closed them),
        closes them and exits
where PROBE... is `probe K http|dns [SOURCE_IP]`: two seconds into the
flood, K requests one after another (GET / over HTTP, or one DNS query over
TCP), each on a new connection, retried after a reset, within 5 s; then
the flood ends.

The floods reopen, once a second, the connections the server ended. Prints
"served S of K, worst T s, R retries" for the probe, then "flood: opened O,
ended E".
"""
import binascii
import resource
import selectors
import socket
import struct
import sys
import threading
import time


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))


def flood(host, port, n, payload, stop, stats):
    raise_nofile(n)
    sel = selectors.DefaultSelector()
    sent = {}  # socket -> bytes of payload sent
    opened = ended = 0

    def open_one():
        nonlocal opened
        s = socket.socket(family(host))
        s.setblocking(False)
        if s.connect_ex((host, port)) not in (0, 115):  # EINPROGRESS
            s.close()
            return
        sent[s] = 0
        sel.register(s, selectors.EVENT_WRITE if payload else selectors.EVENT_READ)
        opened += 1

    def drop(s):
        nonlocal ended
        sel.unregister(s)
        del sent[s]
        s.close()
        ended += 1

    def send_next(s):
        try:
            s.send(payload[sent[s]:sent[s] + 1])
            sent[s] += 1
        except BlockingIOError:
            pass
        except OSError:
            drop(s)

    tick = 0.0
    while not stop.is_set():
        if time.time() >= tick:
            tick = time.time() + 1.0
            while len(sent) < n:
                open_one()
            for s in [s for s in sent if 0 < sent[s] < len(payload)]:
                send_next(s)
        for key, ev in sel.select(timeout=0.1):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                sel.modify(s, selectors.EVENT_READ)
                send_next(s)
                continue
            try:
                if s.recv(4096) != b"":
                    continue  # an answer (408...): the close follows
            except BlockingIOError:
                continue
            except OSError:
                pass
            drop(s)
    for s in list(sent):
        s.close()
    stats.extend([opened, ended])


def ask_http(host, port, src):
    s = socket.create_connection((host, port), timeout=5, source_address=src)
    with s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    return data.startswith(b"HTTP/1.1 200 ")


# One A query for mail.example.com (in both test zones' example.com), id 7,
# framed for TCP; and whether a framed answer is whole, and NOERROR for it.
DNS_QUERY = (lambda q: struct.pack(">H", len(q)) + q)(
    struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0) +
    b"\4mail\7example\3com\0\0\1\0\1")


def dns_whole(data):
    return len(data) >= 2 and len(data) >= 2 + (data[0] << 8 | data[1])


def dns_ok(data):
    return data[2:4] == b"\0\7" and data[5] & 0xf == 0


def ask_dns(host, port, src):
    s = socket.create_connection((host, port), timeout=5, source_address=src)
    with s:
        s.sendall(DNS_QUERY)
        data = b""
        while not dns_whole(data):
            d = s.recv(4096)
            if not d:
                return False
            data += d
    return dns_ok(data)


# What keepalive sends, when an answer is whole, and when it is a success.
KEEPALIVE = {
    "http": (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
             lambda d: b"\r\n\r\n" in d,
             lambda d: d.startswith(b"HTTP/1.1 200 ")),
    "dns": (DNS_QUERY, dns_whole, dns_ok),
}


def probe(host, port, n, kind, src):
    """Each request may be retried, 0.1 s after a reset or a close, until
    it is served or its 5 s are up: under a flood a slot can be refused for
    a moment, as any client knows, but not for as long as the flood lasts
    or until its connections time out (10 s by default)."""
    ask = ask_http if kind == "http" else ask_dns
    served, worst, retries = 0, 0.0, 0
    for _ in range(n):
        t = time.time()
        while time.time() - t < 5:
            try:
                if ask(host, port, (src, 0) if src else None):
                    served += 1
                    break
            except OSError:
                pass
            retries += 1
            time.sleep(0.1)
        worst = max(worst, time.time() - t)
        time.sleep(0.2)
    print("served %d of %d, worst %.2f s, %d retries" % (served, n, worst, retries))


def keepalive(host, port, n, seconds, kind):
    raise_nofile(n)
    sel = selectors.DefaultSelector()
    got = {}
    req, whole, success = KEEPALIVE[kind]
    for _ in range(n):
        s = socket.socket(family(host))
        s.setblocking(False)
        s.connect_ex((host, port))
        got[s] = b""
        sel.register(s, selectors.EVENT_WRITE)
    held, deadline = 0, time.time() + 60
    while held < len(got) and time.time() < deadline and sel.get_map():
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                try:
                    s.send(req)
                    sel.modify(s, selectors.EVENT_READ)
                except OSError:
                    sel.unregister(s)
                continue
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                sel.unregister(s)
                continue
            got[s] += d
            if whole(got[s]):
                held += success(got[s])
                sel.unregister(s)
    print("held %d" % held, flush=True)
    time.sleep(seconds)
    print("open %d after %g s" % (sum(still_open(s) for s in got), seconds))
    for s in got:
        s.close()


def still_open(s):
    """Whether the server kept s open (it sends nothing unasked)."""
    try:
        return s.recv(1, socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    host, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    if args[0] == "keepalive":
        keepalive(host, port, int(args[1]), float(args[2]),
                  args[3] if len(args) > 3 else "http")
        return
    stop, stats, th = threading.Event(), [], None
    if args[0] != "probe":
        mode, n = args[0], int(args[1])
        payload = binascii.unhexlify(args[2]) if mode == "trickle" else b""
        args = args[3:] if mode == "trickle" else args[2:]
        th = threading.Thread(target=flood, args=(host, port, n, payload, stop, stats))
        th.start()
        time.sleep(2)
    probe(host, port, int(args[1]), args[2], args[3] if len(args) > 3 else None)
    if th is not None:
        stop.set()
        th.join()
        print("flood: opened %d, ended %d" % tuple(stats))


if __name__ == "__main__":
    main()
