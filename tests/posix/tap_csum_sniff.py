#!/usr/bin/env python3
"""tap_csum_sniff.py IFNAME SRC COUNT: checks the TCP checksums a stack
behind a tap left for the host to complete (vnet header NEEDS_CSUM).

Captures COUNT TCP/IPv4 segments from SRC on IFNAME (the host side of the
tap; an AF_PACKET socket sees them as written, before anything completes
them). Each must carry its pseudo-header's sum in the checksum field, so
that completing it as a NIC or the host's forwarding would (the complement
of the sum from the TCP header on) gives a checksum that verifies. Prints
"segments N bad M"."""
import socket
import struct
import sys


def fold(v):
    while v >> 16:
        v = (v & 0xFFFF) + (v >> 16)
    return v


def sum16(b):
    if len(b) % 2:
        b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def main():
    ifname, src, count = sys.argv[1], socket.inet_aton(sys.argv[2]), int(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind((ifname, 0))
    s.settimeout(30)
    seen = bad = 0
    while seen < count:
        ip = s.recv(70000)[14:]
        if len(ip) < 40 or ip[9] != 6 or ip[12:16] != src:
            continue
        ihl = (ip[0] & 15) * 4
        tcp = bytearray(ip[ihl:struct.unpack("!H", ip[2:4])[0]])
        pseudo = fold(sum16(ip[12:20]) + 6 + len(tcp))
        partial = struct.unpack("!H", tcp[16:18])[0]
        completed = ~fold(sum16(bytes(tcp))) & 0xFFFF
        tcp[16:18] = struct.pack("!H", completed)
        seen += 1
        if partial != pseudo or fold(pseudo + sum16(bytes(tcp))) != 0xFFFF:
            bad += 1
    print("segments", seen, "bad", bad)


main()
