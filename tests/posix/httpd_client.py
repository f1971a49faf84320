# A raw HTTP client for httpd's process tests, for what curl cannot do:
#   httpd_client.py HOST PORT pipeline       five requests in one write (one HEAD)
#   httpd_client.py HOST PORT deep N         N requests in flight at once
#   httpd_client.py HOST PORT raw REQUEST    send REQUEST (with \r\n escapes),
#                                            print the status line
#   httpd_client.py HOST PORT slow           a request trickled a byte every 0.5 s
#   httpd_client.py HOST PORT flood N SECS   hold N idle connections open
#   httpd_client.py HOST PORT burst N R      N connections, each pipelining R
#                                            requests for /64k at once; prints
#                                            the responses and bytes received
import selectors, socket, sys, time
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
arg = sys.argv[4:]
def conn():
    # Generous: under ASan on a loaded 2-core machine a SYN lost from a full
    # tap queue is only retried after 1, 3 and 7 s.
    s = socket.create_connection((host, port), timeout=30)
    return s
def read_all(s):
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        data += b
    return data
if mode == "pipeline":
    # A HEAD among them: had its response a body, the next would not parse.
    reqs = ((b"GET", b"robots.txt"), (b"GET", b"nope"), (b"HEAD", b"1k"), (b"GET", b"1k"))
    s = conn()
    r = b"".join(b"%s /%s HTTP/1.1\r\nHost: t\r\n\r\n" % m_p for m_p in reqs)
    s.sendall(r + b"GET /robots.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    methods = [m for m, _ in reqs] + [b"GET"]
    d = read_all(s)
    codes = []
    while d:
        head, _, d = d.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        codes.append(lines[0].split()[1].decode())
        length = [int(l.split(b":")[1]) for l in lines if l.lower().startswith(b"content-length:")]
        if methods[len(codes) - 1] != b"HEAD":
            d = d[length[0] if length else 0:]
    print("codes", " ".join(codes))
elif mode == "deep":
    # Many requests in flight: the server's queue fills, it pauses reading,
    # and must still answer every request, in order.
    import threading
    n = int(arg[0])
    s = conn()
    reqs = b"".join(b"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % (b"64k" if i % 2 else b"robots.txt")
                    for i in range(n))
    t = threading.Thread(target=s.sendall, args=(reqs,))
    t.start()
    got, buf = [], b""
    while len(got) < n:
        b = s.recv(1 << 20)
        if not b:
            break
        buf += b
        while True:
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if not sep:
                break
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            if len(rest) < length:
                break
            got.append(length)
            buf = rest[length:]
    t.join()
    want = [65536 if i % 2 else 23 for i in range(n)]
    print("deep %d/%d in order: %s" % (len(got), n, got == want))
elif mode == "raw":
    s = conn()
    s.sendall(arg[0].encode().decode("unicode_escape").encode("latin-1"))
    d = read_all(s)
    print(d.split(b"\r\n")[0].decode("latin-1"))
elif mode == "slow":
    s = conn()
    t0 = time.time()
    closed = None
    for ch in b"GET / HTTP/1.1\r\nHost: slow\r\nX-A: " + b"a" * 100:
        try:
            s.send(bytes([ch]))
        except OSError:
            break
        time.sleep(0.5)
        s.settimeout(0.01)
        try:
            b = s.recv(4096)
            closed = b
            break
        except socket.timeout:
            pass
        except OSError:
            closed = b""
            break
    print("closed after %.1f s: %r" % (time.time() - t0, (closed or b"")[:30]))
elif mode == "flood":
    n = int(arg[0])
    held = []
    for _ in range(n):
        # What is checked is that open connections stay open: a connect
        # whose SYNs all went unanswered on a starved machine is tried again
        # (and said on stderr), not counted as a closed connection.
        for attempt in range(3):
            try:
                held.append(conn())
                break
            except ConnectionResetError:
                break  # reset before connect() returned: refused, as meant
            except socket.timeout:
                sys.stderr.write("connect %d timed out (attempt %d)\n" % (len(held), attempt + 1))
    sys.stdout.write("open %d\n" % len(held))
    sys.stdout.flush()
    time.sleep(float(arg[1]))
    alive = 0
    for s in held:
        s.setblocking(False)
        try:
            alive += s.recv(1) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    print("alive %d" % alive)
elif mode == "burst":
    # Every connection asks at once, so the server writes windows to all of
    # them back to back and the client's ACKs pour in while it does.
    n, r = int(arg[0]), int(arg[1])
    req = b"GET /64k HTTP/1.1\r\nHost: t\r\n\r\n" * r
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s = conn()
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, {"buf": b"", "done": 0, "bytes": 0})
        s.sendall(req)
    left, done, total, deadline = n, 0, 0, time.monotonic() + 60
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=5):
            st = key.data
            b = key.fileobj.recv(1 << 20)
            if not b:
                sel.unregister(key.fileobj)
                left -= 1
                continue
            st["buf"] += b
            total += len(b)
            # Whole responses: a head, then Content-Length bytes.
            while True:
                head, sep, rest = st["buf"].partition(b"\r\n\r\n")
                if not sep:
                    break
                ln = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length:")]
                if not ln or len(rest) < ln[0]:
                    break
                st["buf"] = rest[ln[0]:]
                st["done"] += 1
                done += 1
            if st["done"] == r:
                sel.unregister(key.fileobj)
                left -= 1
    print("burst %d/%d responses, %d bytes" % (done, n * r, total))
