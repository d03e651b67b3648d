#!/usr/bin/env python3
"""gen_bigstream.py OUT.pcap: the report benchmark's ~400 MB single-stream lossy capture."""
# One TCP connection, ~400 MB server->client, 1448-byte segments, 3% of data
# segments dropped from the capture (but acknowledged), an ACK every 2 segments,
# ISN near 2^32 so the stream crosses the wrap.
import struct, random, sys
random.seed(1)
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
mac = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
cli, srv = bytes([10,0,0,1]), bytes([10,0,0,2])
payload = bytes(range(256)) * 6
payload = payload[:1448]
t = [1_700_000_000_000_000]
def pkt(src, dst, sp, dp, seq, ack, flags, data):
    tcp = struct.pack(">HHIIBBHHH", sp, dp, seq & 0xffffffff, ack & 0xffffffff, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(data), 0, 0x4000, 64, 6, 0, src, dst)
    f = mac + ip + tcp + data
    t[0] += 2  # us
    out.write(struct.pack("<IIII", t[0] // 1_000_000, t[0] % 1_000_000, len(f), len(f)))
    out.write(f)
isn_c, isn_s = 1000, 0xffffffff - 5_000_000
pkt(cli, srv, 40000, 80, isn_c, 0, 0x02, b"")
pkt(srv, cli, 80, 40000, isn_s, isn_c + 1, 0x12, b"")
pkt(cli, srv, 40000, 80, isn_c + 1, isn_s + 1, 0x10, b"")
n = 400_000_000 // 1448
seq = isn_s + 1
for i in range(n):
    if random.random() >= 0.03:
        pkt(srv, cli, 80, 40000, seq, isn_c + 1, 0x18, payload)
    seq += 1448
    if i % 2 == 1:
        pkt(cli, srv, 40000, 80, isn_c + 1, seq, 0x10, b"")
pkt(srv, cli, 80, 40000, seq, isn_c + 1, 0x11, b"")
pkt(cli, srv, 40000, 80, isn_c + 1, seq + 1, 0x11, b"")
pkt(srv, cli, 80, 40000, seq + 1, isn_c + 2, 0x10, b"")
out.close()
