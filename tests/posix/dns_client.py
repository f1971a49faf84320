#!/usr/bin/env python3
"""A small DNS client for tests/posix/dns_socket.sh: sends one kind of query
to apps/dns and checks the response byte by byte against
apps/dns/zones/example.com.zone. Prints "pass: ..." and exits 0, or prints
what differed and exits 1.

    dns_client.py HOST PORT CASE     (cases: see CASES at the bottom)
"""
import random
import socket
import struct
import sys
import threading
import time

ID = 0x5A17


def wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(name, qtype, edns=None, flags=0x0100, qid=ID):
    msg = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    msg += wire(name) + struct.pack(">HH", qtype, 1)
    if edns:
        msg += b"\0" + struct.pack(">HHIH", 41, edns, 0, 0)
    return msg


def read_name(msg, pos):
    """Expands a name; returns (text, position after it)."""
    labels, end, hops = [], None, 0
    while True:
        c = msg[pos]
        if c & 0xC0 == 0xC0:
            target = (c & 0x3F) << 8 | msg[pos + 1]
            assert target < pos, "pointer does not go backwards"
            hops += 1
            assert hops < 64, "pointer loop"
            if end is None:
                end = pos + 2
            pos = target
            continue
        if c == 0:
            return ".".join(labels) + ".", (end if end is not None else pos + 1)
        labels.append(msg[pos + 1:pos + 1 + c].decode("latin-1"))
        pos += 1 + c


class Response:
    def __init__(self, msg):
        self.raw = msg
        (self.id, self.flags, qd, an, ns, ar) = struct.unpack(">HHHHHH", msg[:12])
        self.rcode = self.flags & 0xF
        self.aa = bool(self.flags & 0x0400)
        self.tc = bool(self.flags & 0x0200)
        self.qr = bool(self.flags & 0x8000)
        pos = 12
        self.question = None
        if qd:
            qname, pos = read_name(msg, pos)
            self.question = (qname,) + struct.unpack(">HH", msg[pos:pos + 4])
            pos += 4
        self.sections = []
        for count in (an, ns, ar):
            rrs = []
            for _ in range(count):
                owner, pos = read_name(msg, pos)
                rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
                pos += 10
                rdata = msg[pos:pos + rdlen]
                value = rdata
                if rtype in (2, 5):
                    value = read_name(msg, pos)[0]
                elif rtype == 1:
                    value = socket.inet_ntop(socket.AF_INET, rdata)
                elif rtype == 28:
                    value = socket.inet_ntop(socket.AF_INET6, rdata)
                elif rtype == 6:
                    mname, p = read_name(msg, pos)
                    rname, p = read_name(msg, p)
                    value = (mname, rname) + struct.unpack(">IIIII", msg[p:p + 20])
                elif rtype == 16:
                    value, i = [], 0
                    while i < rdlen:
                        value.append(rdata[i + 1:i + 1 + rdata[i]])
                        i += 1 + rdata[i]
                rrs.append((owner, rtype, rclass, ttl, value))
                pos += rdlen
            self.sections.append(rrs)
        assert pos == len(msg), "trailing bytes in the response"
        self.answer, self.authority, self.additional = self.sections


def ask(host, port, msg, timeout=2.0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(msg, (host, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


SOA = ("example.com.", 6, 1, 300,
       ("ns1.example.com.", "hostmaster.example.com.", 2026112701, 7200, 3600, 1209600, 300))


def negative(r, rcode):
    expect(r.rcode == rcode, "rcode %d, wanted %d" % (r.rcode, rcode))
    expect(r.aa, "AA not set")
    expect(r.authority == [SOA], "authority %r" % (r.authority,))


def case_a(host, port):
    q = query("host1.example.com", 1)
    got = ask(host, port, q)
    expect(got is not None, "no answer")
    # Built by hand: header (QR AA RD, 1 question, 1 answer), the question
    # as sent, then the answer with its owner compressed to offset 12.
    want = struct.pack(">HHHHHH", ID, 0x8500, 1, 1, 0, 0) + q[12:]
    want += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 10])
    expect(got == want, "got %s\nwanted %s" % (got.hex(), want.hex()))
    return "A host1.example.com: 192.0.2.10, byte for byte"


def case_aaaa(host, port):
    r = Response(ask(host, port, query("ns1.example.com", 28)))
    expect(r.rcode == 0 and r.aa, "rcode %d aa %s" % (r.rcode, r.aa))
    expect(r.answer == [("ns1.example.com.", 28, 1, 3600, "2001:db8::53")], "answer %r" % (r.answer,))
    return "AAAA ns1.example.com: 2001:db8::53"


def case_cname(host, port):
    r = Response(ask(host, port, query("www.example.com", 1)))
    want = [("www.example.com.", 5, 1, 3600, "web.example.com."),
            ("web.example.com.", 5, 1, 3600, "host1.example.com."),
            ("host1.example.com.", 1, 1, 300, "192.0.2.10")]
    expect(r.rcode == 0 and r.aa, "rcode %d" % r.rcode)
    expect(r.answer == want, "answer %r" % (r.answer,))
    expect(len(r.raw) < 110, "%d bytes: not compressed" % len(r.raw))
    return "CNAME chain www -> web -> host1 -> A, compressed (%d bytes)" % len(r.raw)


def case_nxdomain(host, port):
    r = Response(ask(host, port, query("nope.example.com", 1)))
    negative(r, 3)
    expect(r.answer == [], "answers in an NXDOMAIN")
    return "NXDOMAIN with the SOA (TTL 300) in authority"


def case_nodata(host, port):
    r = Response(ask(host, port, query("mail.example.com", 28)))
    negative(r, 0)
    expect(r.answer == [], "answers in a NODATA")
    r = Response(ask(host, port, query("b.c.example.com", 1)))
    negative(r, 0)
    return "NODATA (NOERROR + SOA) for a name without the type and an empty non-terminal"


def case_refused(host, port):
    r = Response(ask(host, port, query("example.net", 1)))
    expect(r.rcode == 5, "rcode %d" % r.rcode)
    expect(not r.aa, "AA set on REFUSED")
    expect(r.answer == r.authority == [], "records in a REFUSED")
    return "REFUSED outside the zones, AA clear"


def case_case(host, port):
    q = query("MaIl.eXaMpLe.CoM", 1)
    got = ask(host, port, q)
    r = Response(got)
    expect(got[12:12 + len(q) - 12] == q[12:], "question not echoed as sent")
    expect(r.answer == [("MaIl.eXaMpLe.CoM.", 1, 1, 3600, "192.0.2.25")], "answer %r" % (r.answer,))
    return "case-insensitive match, the question's case preserved"


def case_tc(host, port):
    r = Response(ask(host, port, query("big.example.com", 16)))
    expect(r.tc, "TC not set")
    expect(r.rcode == 0 and r.answer == [], "rcode %d, %d answers" % (r.rcode, len(r.answer)))
    expect(len(r.raw) <= 512, "over 512 bytes")
    r = Response(ask(host, port, query("big.example.com", 16, edns=4096)))
    expect(not r.tc, "TC set with EDNS")
    txt = r.answer[0][4]
    expect(len(txt) == 4 and all(len(s) == 200 for s in txt), "TXT %r" % (txt,))
    expect(r.additional[0][:3] == (".", 41, 1232), "OPT %r" % (r.additional,))
    return "big TXT: TC without EDNS, %d bytes whole with EDNS (OPT 1232)" % len(r.raw)


def case_formerr(host, port):
    garbage = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x05abc"
    got = ask(host, port, garbage)
    expect(got is not None, "no answer to a truncated question")
    want = struct.pack(">HHHHHH", 0x1234, 0x8101, 0, 0, 0, 0)
    expect(got == want, "got %s, wanted %s" % (got.hex(), want.hex()))
    two = struct.pack(">HHHHHH", 0x4321, 0, 2, 0, 0, 0) + (wire("a.example.com") + b"\0\1\0\1") * 2
    got = ask(host, port, two)
    expect(got == struct.pack(">HHHHHH", 0x4321, 0x8001, 0, 0, 0, 0), "QDCOUNT 2: %r" % got)
    return "FORMERR (header alone, ID echoed) for a cut question and QDCOUNT=2"


def case_notimp(host, port):
    got = ask(host, port, query("example.com", 1, flags=0x2800))  # UPDATE
    expect(got == struct.pack(">HHHHHH", ID, 0xA804, 0, 0, 0, 0), "got %r" % got)
    return "NOTIMP for opcode UPDATE"


def case_drop(host, port):
    resp = query("example.com", 1, flags=0x8400)
    expect(ask(host, port, resp, 0.5) is None, "answered a response")
    expect(ask(host, port, b"\x12\x34\x01", 0.5) is None, "answered 3 bytes")
    expect(ask(host, port, b"", 0.5) is None, "answered an empty datagram")
    r = Response(ask(host, port, query("mail.example.com", 1)))
    expect(r.rcode == 0, "not answering afterwards")
    return "responses and short datagrams get no answer"


def case_garbage(host, port):
    rnd = random.Random(53)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        for _ in range(2000):
            n = rnd.choice([0, 1, 11, 12, 13, 40, 300, 1500, 5000])
            s.sendto(bytes(rnd.getrandbits(8) for _ in range(n)), (host, port))
    r = Response(ask(host, port, query("host1.example.com", 1)))
    expect(r.answer and r.answer[0][4] == "192.0.2.10", "not answering after garbage")
    return "2000 random datagrams, then still answering"


def tcp_exchange(host, port, payload, count, timeout=3.0):
    """Sends payload on a new connection; reads count framed messages (fewer
    if the server closes or resets it first)."""
    out, buf = [], b""
    with socket.create_connection((host, port), timeout=timeout) as s:
        for piece in payload:
            s.sendall(piece)
        while len(out) < count:
            while len(buf) >= 2 and len(buf) >= 2 + (buf[0] << 8 | buf[1]):
                n = buf[0] << 8 | buf[1]
                out.append(buf[2:2 + n])
                buf = buf[2 + n:]
            if len(out) == count:
                break
            try:
                data = s.recv(65535)
            except ConnectionResetError:
                break
            if not data:
                break
            buf += data
    return out


def framed(msg):
    return struct.pack(">H", len(msg)) + msg


def case_tcp(host, port):
    got = tcp_exchange(host, port, [framed(query("big.example.com", 16))], 1)
    expect(len(got) == 1, "no answer over TCP")
    r = Response(got[0])
    expect(not r.tc and r.rcode == 0, "TC %s rcode %d" % (r.tc, r.rcode))
    txt = r.answer[0][4]
    expect(len(txt) == 4 and all(len(s) == 200 for s in txt), "TXT %r" % (txt,))
    return "TCP: the big TXT whole without EDNS (%d bytes)" % len(got[0])


def case_tcp_pipeline(host, port):
    names = ["host1.example.com", "nope.example.com", "www.example.com"]
    msgs = b"".join(framed(query(n, 1, qid=i)) for i, n in enumerate(names))
    got = tcp_exchange(host, port, [msgs], 3)
    expect(len(got) == 3, "%d answers to 3 pipelined queries" % len(got))
    rs = [Response(m) for m in got]
    expect([r.id for r in rs] == [0, 1, 2], "out of order: %r" % [r.id for r in rs])
    expect([r.rcode for r in rs] == [0, 3, 0], "rcodes %r" % [r.rcode for r in rs])
    expect(len(rs[2].answer) == 3, "CNAME chain over TCP: %r" % (rs[2].answer,))
    return "TCP: three pipelined queries in one write, answered in order"


def case_tcp_trickle(host, port):
    msg = framed(query("mail.example.com", 1))
    got = tcp_exchange(host, port, [msg[i:i + 1] for i in range(len(msg))], 1)
    expect(len(got) == 1 and Response(got[0]).answer[0][4] == "192.0.2.25", "got %r" % got)
    return "TCP: a query sent a byte at a time"


def case_tcp_oversize(host, port):
    got = tcp_exchange(host, port, [b"\xff\xff" + b"\0" * 100], 1)
    expect(got == [], "answered a 65535-byte frame: %r" % got)
    r = Response(ask(host, port, query("mail.example.com", 1)))
    expect(r.rcode == 0, "not serving afterwards")
    return "TCP: a frame over 4096 bytes closes the connection"


def case_tcp_slow_reader(host, port):
    """Thousands of pipelined queries for a big answer on one connection
    whose client reads slowly through a small receive buffer: every answer
    must come whole (no TC) and in order, and the connection must not stall
    (a stall shows as a reset by tcp_idle, or the deadline)."""
    n = 20000
    msgs = b"".join(framed(query("big.example.com", 16, qid=i)) for i in range(n))
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect((host, port))
    sender = threading.Thread(target=lambda: s.sendall(msgs), daemon=True)
    sender.start()
    buf, got, deadline = b"", 0, time.time() + 60
    try:
        while got < n and time.time() < deadline:
            data = s.recv(8192)
            if not data:
                break
            buf += data
            while len(buf) >= 2 and len(buf) >= 2 + (buf[0] << 8 | buf[1]):
                m = buf[0] << 8 | buf[1]
                r = Response(buf[2:2 + m])
                buf = buf[2 + m:]
                expect(r.id == got, "answer %d has ID %d" % (got, r.id))
                expect(not r.tc, "answer %d truncated (TC)" % got)
                expect(len(r.answer) == 1 and len(r.answer[0][4]) == 4,
                       "answer %d: %r" % (got, r.answer))
                got += 1
            time.sleep(0.001)
    except (ConnectionResetError, socket.timeout) as e:
        expect(False, "after %d of %d answers: %s" % (got, n, e))
    finally:
        s.close()
    expect(got == n, "%d of %d answers" % (got, n))
    return "TCP: %d pipelined big answers to a slow reader, all whole, in order" % n


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    host, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    try:
        print("pass: " + CASES[case](host, port))
    except (AssertionError, TypeError, IndexError, struct.error, UnicodeDecodeError,
            OSError) as e:
        print("fail: %s" % e)
        sys.exit(1)
