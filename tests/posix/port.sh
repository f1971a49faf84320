# free_port: a port free for TCP and UDP on 127.0.0.1 and ::1 right now,
# picked by the kernel: the one port picker of the process tests and the
# benchmarks: a part of tests/posix/lib.sh, sourced by bench/lib.sh too.
free_port() {
	python3 -c '
import socket
while True:
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    try:
        for fam, kind, host in ((socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"),
                                (socket.AF_INET6, socket.SOCK_DGRAM, "::1"),
                                (socket.AF_INET6, socket.SOCK_STREAM, "::1")):
            try:
                socket.socket(fam, kind).bind((host, p))
            except OSError as e:
                if fam == socket.AF_INET6 and e.errno == 99:
                    continue  # no IPv6 loopback: nothing to collide with
                raise
    except OSError:
        continue
    print(p)
    break'
}
