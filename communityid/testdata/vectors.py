#!/usr/bin/env python3
"""Writes vectors.pcap: one packet per flow of the table below (raw IP link
type, no checksums needed), for an independent Community ID implementation to
hash. The Go test's expected strings were produced by Wireshark's:

    python3 vectors.py && for s in 0 1; do
      tshark -r vectors.pcap --enable-protocol communityid \
        -o communityid.seed:$s -T fields -e communityid; done

(tshark 4.0.17, Debian 12). Keep the table in step with TestVectors."""
import ipaddress, struct

# (src, dst, proto, sport or ICMP type, dport or ICMP code)
FLOWS = [
    ("128.232.110.120", "66.35.250.204", 6, 34855, 80),
    ("66.35.250.204", "128.232.110.120", 6, 80, 34855),
    ("10.0.0.1", "10.0.0.2", 6, 50000, 80),
    ("10.0.0.2", "10.0.0.1", 6, 80, 50000),
    ("10.0.0.1", "10.0.0.1", 6, 443, 80),
    ("192.168.1.52", "8.8.8.8", 17, 54585, 53),
    ("8.8.8.8", "192.168.1.52", 17, 53, 54585),
    ("fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 6, 1234, 5678),
    ("2001:db8::1", "2001:db8::2", 17, 5353, 5353),
    ("2001:db8::2", "2001:db8::1", 6, 443, 40000),
    ("192.168.0.89", "192.168.0.1", 1, 8, 0),
    ("192.168.0.1", "192.168.0.89", 1, 0, 0),
    ("192.168.0.1", "192.168.0.89", 1, 3, 1),
    ("192.168.0.89", "192.168.0.1", 1, 11, 0),
    ("fe80::1", "fe80::2", 58, 128, 0),
    ("fe80::2", "fe80::1", 58, 129, 0),
    ("fe80::2", "fe80::1", 58, 1, 4),
    ("10.1.1.1", "10.2.2.2", 47, 0, 0),
    ("10.2.2.2", "10.1.1.1", 50, 0, 0),
]


def packet(src, dst, proto, sp, dp):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
    elif proto == 17:
        l4 = struct.pack("!HHHH", sp, dp, 8, 0)
    elif proto in (1, 58):
        l4 = struct.pack("!BBHI", sp, dp, 0, 0)
        if proto == 58 and sp < 128:
            l4 += b"\0" * 48  # room for the invoking packet of an error
    else:
        l4 = b"\0" * 8
    if s.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0, s.packed, d.packed)
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64, s.packed, d.packed)
    return ip + l4


with open("vectors.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
    for i, fl in enumerate(FLOWS):
        p = packet(*fl)
        f.write(struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)))
        f.write(p)
