#!/usr/bin/env python3
"""tsharkcheck.py: reseq's stream directions against tshark's follow on the corpus.

For every capture under CORPUS that tshark reads (pcap, pcapng, gzip'ed either;
zstd is skipped: tshark 4.0 does not read it), one tshark pass gives:
  * per packet: tcp.stream, addresses, ports, raw sequence number, length,
    flags, tshark's expert flags for missing data and the payload;
  * per stream: tshark's follow (-z follow,tcp,raw,N), the bytes Wireshark's
    "Follow TCP Stream" shows, each side on its own.
A direction is complete for tshark when it carries payload, tshark flags none of
its segments "previous segment not captured", the peer never ACKs bytes of it
that were not seen ("ACKed segment that wasn't captured"), no segment was cut
by the snap length, the segments cover one unbroken range of sequence numbers,
and no two copies of a byte differ (keep-alives' garbage byte included). A
RST's payload is not stream data (reseq counts it in rst_bytes): a direction
whose only payload rode on a RST is complete and empty. Only complete
directions are compared.

reseq extract runs on the same capture; its directions are matched to tshark's
streams by endpoints (address and port of both sides) and first frame. A
complete direction is equal when reseq's file has the same length and SHA-256
as tshark's follow and reseq reports no gap in it.

Every direction that is not equal must be listed in KNOWN (one line each:
capture, tshark stream, src>dst, category, reason); the check fails on a new
difference and on a listed difference that no longer occurs (or no longer is
a difference), so the list stays true. Categories whose reason starts "OPEN:"
are reseq bugs not fixed yet.

tshark's output per capture is cached under CACHE, keyed by tshark's version,
the capture's content and this script's extraction code, so a second run
costs only reseq's time.
"""
import argparse
import concurrent.futures
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",  # usec
    b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",  # nsec
    b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34",  # Kuznetzov's modified pcap
    b"\x0a\x0d\x0d\x0a",  # pcapng
}
GZIP = b"\x1f\x8b"

# tshark -T fields columns, in order.
FIELDS = [
    "frame.number", "tcp.stream", "_ws.col.Source", "_ws.col.Destination",
    "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.len",
    "tcp.flags.syn", "tcp.flags.fin", "tcp.flags.reset",
    "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
    "tcp.payload",
]
# Streams followed in the first pass; more get a second pass.
FIRST_FOLLOW = 64
EXTRACT_VERSION = "1"  # bump when the tshark invocation or parsing changes


def captures(corpus):
    """Yields (relative path, reason to skip or None) for capture files."""
    for root, dirs, files in os.walk(corpus):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                head = fh.read(4)
            rel = os.path.relpath(p, corpus)
            if head in PCAP_MAGICS or head[:2] == GZIP:
                yield rel, None
            elif head == b"\x28\xb5\x2f\xfd":
                yield rel, "zstd: tshark 4.0 does not read it"


def endpoint(addr, port):
    """Normalizes an address and port to 'addr:port' (IPv6 in brackets)."""
    addr = addr.strip("[]")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    if ip.version == 6:
        return "[%s]:%d" % (ip.compressed, int(port))
    return "%s:%d" % (ip, int(port))


def parse_endpoint(s):
    """'addr:port' or '[v6]:port' as in follow's Node lines and flows.jsonl."""
    addr, _, port = s.rpartition(":")
    if not port.isdigit():
        return None
    return endpoint(addr, port)


def run_tshark(path, streams):
    """One tshark pass: the field lines and the follow blocks of streams."""
    cmd = ["tshark", "-r", path, "-n", "-Y", "tcp", "-T", "fields",
           "-E", "occurrence=l", "-E", "separator=/t"]
    for f in FIELDS:
        cmd += ["-e", f]
    for s in streams:
        cmd += ["-z", "follow,tcp,raw,%d" % s]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.stdout.decode("latin-1"), p.returncode, p.stderr.decode("latin-1", "replace")


def parse_follow(text):
    """Follow blocks of tshark's output: {stream: (node0, node1, bytes0, bytes1)}."""
    out = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if not lines[i].startswith("Follow: tcp,raw"):
            i += 1
            continue
        stream = int(lines[i + 1].rsplit(" ", 1)[1])
        node0 = lines[i + 2].split(": ", 1)[1]
        node1 = lines[i + 3].split(": ", 1)[1]
        b0, b1 = bytearray(), bytearray()
        i += 4
        while i < len(lines) and not lines[i].startswith("====="):
            ln = lines[i]
            if ln.startswith("\t"):
                b1 += bytes.fromhex(ln[1:])
            elif ln:
                b0 += bytes.fromhex(ln)
            i += 1
        out[stream] = (node0, node1, bytes(b0), bytes(b1))
    return out


def tshark_facts(path):
    """tshark's view of a capture: packets per stream and follow bytes."""
    text, rc, err = run_tshark(path, range(FIRST_FOLLOW))
    pkts, maxstream = [], -1
    body, _, _ = text.partition("\n=====")
    for ln in body.split("\n"):
        c = ln.split("\t")
        if len(c) != len(FIELDS) or not c[1]:
            continue
        pkts.append(c)
        maxstream = max(maxstream, int(c[1]))
    follow = parse_follow(text)
    if maxstream >= FIRST_FOLLOW:
        rest = list(range(FIRST_FOLLOW, maxstream + 1))
        for k in range(0, len(rest), 256):
            t2, _, _ = run_tshark(path, rest[k:k + 256])
            follow.update(parse_follow(t2))
    return {"packets": pkts, "follow": {str(k): [v[0], v[1], v[2].hex(), v[3].hex()]
                                         for k, v in follow.items()},
            "rc": rc, "stderr": err[-300:]}


def cached_tshark(cache, path, stamp):
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    key = os.path.join(cache, hashlib.sha256((stamp + digest).encode()).hexdigest()[:32] + ".json")
    if os.path.exists(key):
        with open(key) as fh:
            return json.load(fh)
    facts = tshark_facts(path)
    tmp = key + ".%d" % os.getpid()
    with open(tmp, "w") as fh:
        json.dump(facts, fh)
    os.replace(tmp, key)
    return facts


class Direction:
    """One direction of a tshark stream, with the evidence of completeness."""

    def __init__(self):
        self.segs = []  # (seq, payload bytes, frame)
        self.lost = False  # tshark: previous segment not captured
        self.acked_unseen = False  # the peer ACKed bytes of it never seen
        self.truncated = False
        self.rst_bytes = 0
        self.first_frame = None

    def complete(self):
        """(None, bytes) when complete, else (why not, None).

        The bytes are the segments laid out by sequence number: where a
        direction is complete every copy of a byte agrees, so they are the
        stream whatever the overlap policy (a third opinion beside tshark's
        follow and reseq)."""
        if self.lost:
            return "tshark: previous segment not captured", None
        if self.acked_unseen:
            return "tshark: ACKed segment that wasn't captured", None
        if self.truncated:
            return "snap length cut a segment", None
        if not any(data for _, data, _ in self.segs):
            if self.rst_bytes:
                # Only a RST carried bytes: the stream is empty, which
                # follow may not say.
                return None, b""
            return "no payload", None
        # Unwrap sequence numbers relative to the first segment.
        base = self.segs[0][0]
        iv = []
        for seq, data, _ in self.segs:
            off = (seq - base) & 0xFFFFFFFF
            if off >= 1 << 31:
                off -= 1 << 32
            iv.append((off, data))
        iv.sort(key=lambda x: x[0])
        start = iv[0][0]
        buf = bytearray()  # the bytes of [start, start+len(buf))
        for off, data in iv:
            end = start + len(buf)
            if off > end:
                return "hole in sequence space", None
            # A byte seen before must be the same in this copy.
            n = min(end, off + len(data)) - off
            if n > 0 and buf[off - start:off - start + n] != data[:n]:
                return "copies of a byte differ", None
            if off + len(data) > end:
                buf += data[end - off:]
        return None, bytes(buf)


def tshark_directions(facts):
    """{(stream, src, dst): Direction} and {stream: first frame}."""
    dirs, first = {}, {}
    for c in facts["packets"]:
        (frame, stream, src, dst, sport, dport, seq, tlen, syn, fin, rst,
         lost, acklost, payload) = c
        s = int(stream)
        a, b = endpoint(src, sport), endpoint(dst, dport)
        if a is None or b is None:
            continue
        frame = int(frame)
        first.setdefault(s, frame)
        d = dirs.setdefault((s, a, b), Direction())
        if d.first_frame is None:
            d.first_frame = frame
        peer = dirs.setdefault((s, b, a), Direction())
        if lost:
            d.lost = True
        if acklost:
            peer.acked_unseen = True
        data = bytes.fromhex(payload.replace(":", ""))
        n = int(tlen or 0)
        if not seq:
            continue
        if rst in ("1", "True"):
            # Not stream data (RFC 9293 3.5.3: diagnostic); tshark 4.0
            # shows it as the reset cause, with no tcp.payload.
            d.rst_bytes += n
            continue
        if len(data) < n:
            d.truncated = True
        if syn in ("1", "True"):
            # The SYN's sequence number precedes the stream's first byte.
            d.segs.append(((int(seq) + 1) & 0xFFFFFFFF, data, frame))
        elif n:
            d.segs.append((int(seq), data, frame))
    return dirs, first


def reseq_directions(reseq, path, out):
    """reseq extract's records: {(src, dst, first_frame): (record, bytes)}."""
    shutil.rmtree(out, ignore_errors=True)
    p = subprocess.run([reseq, "extract", "--quiet", "-o", out, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    recs = {}
    idx = os.path.join(out, "flows.jsonl")
    if os.path.exists(idx):
        with open(idx) as fh:
            for ln in fh:
                r = json.loads(ln)
                data = b""
                if r.get("file"):
                    with open(os.path.join(out, r["file"]), "rb") as f:
                        data = f.read()
                key = (parse_endpoint(r["src"]), parse_endpoint(r["dst"]), r["first_frame"])
                # A reused tuple within one first frame cannot happen; keep the first.
                recs.setdefault(key, (r, data))
    return recs, p.returncode, p.stderr.decode("utf-8", "replace")


def sha(b):
    return hashlib.sha256(b).hexdigest()


def compare(rel, facts, recs):
    """Yields (stream, 'src>dst', state, detail) per tshark-complete direction.

    state is 'equal' or 'differ'; detail says how.
    """
    dirs, first = tshark_directions(facts)
    follow = facts["follow"]
    for (s, a, b), d in sorted(dirs.items()):
        why, segs = d.complete()
        if why is not None:
            if why != "no payload":
                yield s, a + ">" + b, "incomplete", why
            continue
        fl = follow.get(str(s))
        if fl is None:
            yield s, a + ">" + b, "differ", "tshark gave no follow for the stream"
            continue
        n0, n1 = parse_endpoint(fl[0]), parse_endpoint(fl[1])
        if a == n0:
            tbytes = bytes.fromhex(fl[2])
        elif a == n1:
            tbytes = bytes.fromhex(fl[3])
        else:
            yield s, a + ">" + b, "differ", "follow's nodes %s, %s are not the stream's" % (fl[0], fl[1])
            continue
        rec = recs.get((a, b, first[s]))
        note = ""
        if rec is None:
            # A first packet in IP fragments, or a stream one side splits:
            # the tuple's latest connection that started before this stream.
            starts = sorted(k[2] for k in recs if k[0] == a and k[1] == b)
            before = [f for f in starts if f <= first[s]]
            if not before:
                yield s, a + ">" + b, "differ", "reseq has no connection from frame %d (tuple's connections start at %s)" % (
                    first[s], starts or "none")
                continue
            rec = recs[(a, b, before[-1])]
            note = "first frame: tshark %d, reseq %d; " % (first[s], before[-1])
        r, rbytes = rec
        if rbytes == tbytes and not r["gaps"]:
            yield s, a + ">" + b, "differ" if note else "equal", note + "bytes equal"
            continue
        elsewhere = sorted(k[2] for k, (r2, b2) in recs.items()
                           if k[0] == a and k[1] == b and k[2] != r["first_frame"] and b2 == tbytes)
        if elsewhere:
            note += "follow's bytes are reseq's connection from frame %d; " % elsewhere[0]
        detail = note + "follow %d bytes %s, reseq length %d %s gaps %s" % (
            len(tbytes), sha(tbytes)[:12], r["length"], sha(rbytes)[:12],
            [(g["offset"], g["length"], g["reason"]) for g in r["gaps"]][:3])
        if d.rst_bytes or r.get("rst_bytes"):
            detail += "; RST payload tshark %d reseq %d" % (d.rst_bytes, r.get("rst_bytes", 0))
        for k in ("conflicts", "late", "before_base", "out_of_window", "urgent_bytes"):
            if r.get(k):
                detail += "; %s %d" % (k, r[k])
        detail += "; segments %d bytes: %s" % (len(segs), "reseq equal" if segs == rbytes else (
            "follow equal" if segs == tbytes else "neither equal"))
        if len(tbytes) != len(rbytes):
            m = 0
            lim = min(len(tbytes), len(rbytes))
            while m < lim and tbytes[m] == rbytes[m]:
                m += 1
            detail += "; first differing byte %d" % m
        elif tbytes != rbytes:
            m = next(k for k in range(len(tbytes)) if tbytes[k] != rbytes[k])
            detail += "; first differing byte %d" % m
        yield s, a + ">" + b, "differ", detail


def load_known(path):
    """{(capture, stream, 'src>dst'): (category, reason)}."""
    known = {}
    with open(path) as fh:
        for n, ln in enumerate(fh, 1):
            ln = ln.strip()
            if not ln or ln.startswith("#"):
                continue
            parts = ln.split(None, 4)
            if len(parts) < 5:
                sys.exit("%s:%d: want CAPTURE STREAM SRC>DST CATEGORY REASON" % (path, n))
            cap, stream, d, cat, reason = parts
            key = (cap, int(stream), d)
            if key in known:
                sys.exit("%s:%d: %s listed twice" % (path, n, key))
            known[key] = (cat, reason)
    return known


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reseq", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--known", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--only", default="", help="substring of the captures to run")
    ap.add_argument("-v", action="store_true", help="print every difference, listed or not")
    args = ap.parse_args()

    ver = subprocess.run(["tshark", "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.split(b"\n")[0]
    stamp = hashlib.sha256(ver + EXTRACT_VERSION.encode() +
                           repr((FIELDS, FIRST_FOLLOW)).encode()).hexdigest()
    cache = os.path.join(args.cache, stamp[:12])
    os.makedirs(cache, exist_ok=True)
    known = load_known(args.known)
    work = tempfile.mkdtemp(prefix="reseq-tsharkcheck.")

    caps, skipped = [], []
    for rel, skip in captures(args.corpus):
        if args.only and args.only not in rel:
            continue
        (skipped if skip else caps).append((rel, skip))

    def one(i_rel):
        i, (rel, _) = i_rel
        path = os.path.join(args.corpus, rel)
        facts = cached_tshark(cache, path, stamp)
        recs, rc, err = reseq_directions(args.reseq, path, os.path.join(work, "o%d" % i))
        shutil.rmtree(os.path.join(work, "o%d" % i), ignore_errors=True)
        return rel, list(compare(rel, facts, recs)), rc, err

    results = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            results = list(ex.map(one, enumerate(caps)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    compared = equal = 0
    with_tcp = 0
    by_cat, incomplete = {}, {}
    open_bugs = 0
    seen = set()
    failures = []
    for rel, rows, rc, err in results:
        if any(r[2] != "incomplete" for r in rows):
            with_tcp += 1
        for stream, d, state, detail in rows:
            if state == "incomplete":
                incomplete[detail] = incomplete.get(detail, 0) + 1
                continue
            compared += 1
            key = (rel, stream, d)
            k = known.get(key)
            if state == "equal":
                equal += 1
                if k:
                    failures.append("LISTED BUT EQUAL %s %d %s (%s)" % (rel, stream, d, k[0]))
                continue
            if k is None:
                failures.append("NEW DIFFERENCE %s %d %s: %s" % (rel, stream, d, detail))
                continue
            seen.add(key)
            by_cat[k[0]] = by_cat.get(k[0], 0) + 1
            if k[1].startswith("OPEN:"):
                open_bugs += 1
            if args.v:
                print("known %s %d %s [%s]: %s" % (rel, stream, d, k[0], detail))
    for key, (cat, _) in sorted(known.items()):
        if key in seen:
            continue
        if args.only and args.only not in key[0]:
            continue
        if not any(f.startswith("LISTED BUT EQUAL %s %d %s " % key) for f in failures):
            failures.append("LISTED BUT NOT COMPARED %s %d %s (%s)" % (key + (cat,)))
    for f in failures:
        print("FAIL", f)
    cats = ", ".join("%s %d" % (c, n) for c, n in sorted(by_cat.items(), key=lambda x: (-x[1], x[0])))
    print("tsharkcheck: %d captures (%d skipped: zstd), %d with complete directions; "
          "%d directions compared, %d equal, %d known differences (%s; %d of them OPEN reseq bugs); "
          "%d failures" % (
              len(caps), len(skipped), with_tcp, compared, equal, sum(by_cat.values()),
              cats or "none", open_bugs, len(failures)))
    print("tsharkcheck: directions with payload not compared: %s" % ", ".join(
        "%s %d" % (w, n) for w, n in sorted(incomplete.items(), key=lambda x: -x[1])))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
