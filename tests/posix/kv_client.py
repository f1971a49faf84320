#!/usr/bin/env python3
"""Clients of apps/kv for tests/posix/kv_socket.sh: Python's redis library
(Debian python3-redis) and raw sockets. Each mode prints "pass" or
"fail: why".

  kv_client.py HOST PORT MODE [ARGS]
    basic      strings, counters, expiry, MGET/MSET, binary values, a big
               value, SCAN over 2000 keys, a pipeline of 1000
    errors     Redis's error replies reach the library as ResponseError
    hostile    oversized bulk and inline requests, a trickled request, a
               client pipelining 20000 requests before reading any
    writer FILE N   N threads SET w:T:I = value, one at a time, appending
               "key value" to FILE as each is acknowledged (until killed)
    check FILE every acknowledged key holds its value
"""
import socket
import sys
import threading
import time

import redis

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def client():
    return redis.Redis(host=host, port=port, socket_timeout=20)


def fail(why):
    print("fail: %s" % why)
    sys.exit(1)


def expect(cond, why):
    if not cond:
        fail(why)


def basic():
    r = client()
    r.flushdb()
    expect(r.ping() is True, "ping")
    expect(r.set("k", "v") is True and r.get("k") == b"v", "set/get")
    expect(r.set("k", "w", nx=True) is None, "set nx on an existing key")
    expect(r.incr("n") == 1 and r.incrby("n", 41) == 42, "incr")
    expect(r.decrby("n", 2) == 40, "decrby")
    expect(r.append("k", "xyz") == 4 and r.strlen("k") == 4, "append")
    expect(r.getrange("k", 1, 2) == b"xy", "getrange")
    r.mset({"a": "1", "b": "2"})
    expect(r.mget("a", "b", "c") == [b"1", b"2", None], "mget")
    expect(r.exists("a", "b", "c") == 2, "exists")
    expect(r.delete("a", "b", "c") == 2, "del")
    r.set("e", "v", px=300)
    ttl = r.pttl("e")
    expect(0 < ttl <= 300, "pttl %r" % ttl)
    time.sleep(0.4)
    expect(r.get("e") is None, "expired key still there")
    r.set("p", "v", ex=100)
    expect(r.persist("p") is True and r.ttl("p") == -1, "persist")
    binary = bytes(range(256)) * 4
    r.set(b"bin\x00key", binary)
    expect(r.get(b"bin\x00key") == binary, "binary key and value")
    big = b"x" * (1 << 20)
    r.set("big", big)
    expect(r.get("big") == big, "a 1 MiB value")
    with r.pipeline(transaction=False) as p:
        for i in range(2000):
            p.set("s:%d" % i, i)
        expect(all(x is True for x in p.execute()), "pipelined sets")
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.get("s:%d" % i)
        got = p.execute()
    expect(got == [str(i).encode() for i in range(1000)],
           "pipelined gets in order")
    seen = set(r.scan_iter(match="s:*", count=50))
    expect(len(seen) == 2000, "scan saw %d of 2000 keys" % len(seen))
    expect(len(r.keys("s:1??")) == 100, "keys with a pattern")
    expect(r.dbsize() == 2000 + 5, "dbsize %d" % r.dbsize())
    expect(r.type("k") == b"string" and r.type("zz") == b"none", "type")
    info = r.info()
    expect(info.get("redis_version") and "db0" in info, "info")
    r.client_setname("tester")
    expect(r.client_getname() == "tester" or
           r.client_getname() == b"tester", "client name")
    print("pass")


def errors():
    r = client()
    cases = [
        (lambda: r.execute_command("NOSUCH", "a"),
         "unknown command 'NOSUCH', with args beginning with: 'a' "),
        (lambda: r.execute_command("GET"),
         "wrong number of arguments for 'get' command"),
        (lambda: r.execute_command("SELECT", "3"), "DB index is out of range"),
        (lambda: (r.set("s", "abc"), r.incr("s")),
         "value is not an integer or out of range"),
        (lambda: r.execute_command("SET", "k", "v", "EX", "-1"),
         "invalid expire time in 'set' command"),
        (lambda: r.execute_command("SET", "k", "v", "BOGUS"), "syntax error"),
    ]
    for fn, want in cases:
        try:
            fn()
        except redis.ResponseError as e:
            expect(str(e) == want, "got %r, wanted %r" % (str(e), want))
        else:
            fail("no error for %r" % want)
    print("pass")


def raw():
    s = socket.create_connection((host, port), timeout=10)
    return s


def read_all(s):
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return data, True
            data += b
    except socket.timeout:
        return data, False


def hostile():
    # A bulk length over max_bulk: Redis's error, then the connection ends.
    s = raw()
    s.sendall(b"*2\r\n$3\r\nGET\r\n$999999999\r\n")
    data, closed = read_all(s)
    expect(data == b"-ERR Protocol error: invalid bulk length\r\n" and closed,
           "oversized bulk: %r closed=%r" % (data[:80], closed))
    # An inline line with no end, past 64 KiB.
    s = raw()
    try:
        s.sendall(b"a" * (70 << 10))
    except OSError:
        pass
    data, closed = read_all(s)
    expect(data.startswith(b"-ERR Protocol error: too big inline request")
           and closed, "endless inline line: %r" % data[:80])
    # A request trickled in a byte at a time is answered whole.
    s = raw()
    for b in b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n":
        s.sendall(bytes([b]))
        time.sleep(0.002)
    expect(s.recv(100) == b"$5\r\nhello\r\n", "trickled request")
    s.close()
    # 20000 pipelined requests (80 MiB of replies) sent before a byte is
    # read: the server stops reading while its replies wait, and answers
    # every one.
    s = raw()
    s.settimeout(30)
    n = 20000
    req = b"*2\r\n$3\r\nGET\r\n$3\r\nmid\r\n"  # 4 KiB each
    got = [0]

    def reader():
        buf = b""
        want = len(b"$4096\r\n") + 4096 + 2
        while got[0] < n:
            b = s.recv(1 << 20)
            if not b:
                return
            buf += b
            while len(buf) >= want:
                buf = buf[want:]
                got[0] += 1
    sender_done = threading.Event()

    def sender():
        try:
            for _ in range(n // 100):
                s.sendall(req * 100)
        except OSError:
            pass
        sender_done.set()
    client().set("mid", b"x" * 4096)
    t = threading.Thread(target=sender)
    t.start()
    time.sleep(1.0)  # nothing read yet: the server must hold back
    reader()
    t.join()
    expect(got[0] == n, "pipelined %d, answered %d" % (n, got[0]))
    print("pass")


def writer(path, threads):
    out = open(path, "a", buffering=1)
    lock = threading.Lock()

    def run(t):
        r = client()
        i = 0
        while True:
            key, val = "w:%d:%d" % (t, i), "v%d-%d" % (t, i) * 10
            r.set(key, val)
            with lock:
                out.write("%s %s\n" % (key, val))
            i += 1
    for t in range(threads):
        threading.Thread(target=run, args=(t,), daemon=True).start()
    while True:
        time.sleep(1)


def check(path):
    r = client()
    acked = [line.split() for line in open(path) if line.count(" ") == 1
             and line.endswith("\n")]
    expect(len(acked) > 0, "no acknowledged writes to check")
    with r.pipeline(transaction=False) as p:
        for key, _ in acked:
            p.get(key)
        got = p.execute()
    lost = [k for (k, v), g in zip(acked, got) if g != v.encode()]
    expect(not lost, "%d of %d acknowledged keys lost or wrong, e.g. %s"
           % (len(lost), len(acked), lost[:3]))
    print("pass: %d acknowledged writes all there" % len(acked))


if mode == "basic":
    basic()
elif mode == "errors":
    errors()
elif mode == "hostile":
    hostile()
elif mode == "writer":
    writer(sys.argv[4], int(sys.argv[5]))
elif mode == "check":
    check(sys.argv[4])
else:
    fail("unknown mode %s" % mode)
