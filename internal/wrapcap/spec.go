package wrapcap

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Link types written or read.
const (
	LinkEthernet = 1
	LinkPPP      = 9
	LinkRaw      = 101
	LinkPPPHDLC  = 50
	LinkLinuxSLL = 113
	LinkPPPPPPD  = 166
	LinkPPPDir   = 204
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkNFLOG    = 239
	LinkSLL2     = 276
)

type tunKind int

const (
	tunNone tunKind = iota
	tunGRE
	tunERSPAN2
	tunERSPAN3
	tunVXLAN
	tunGeneve
	tunGTPU
	tunIPIP
)

type linkKind int

const (
	linkEth linkKind = iota
	linkMPLS
	linkMPLSPW
	linkMPLSPWNoCW
	linkPPPoE
	linkQinQPPPoE
	linkLLCSNAP
	linkNFLOG
	linkPPP
	linkPPPHDLC
	linkPPPDir
	linkPPPPPPD
)

// tunnel is one configured IP tunnel (one mirror session, or the tunnel of
// a plain spec).
type tunnel struct {
	kind     tunKind
	v6       bool // outer IPv6
	eth      bool // carries the Ethernet frame (gre-eth; always for erspan, vxlan, geneve)
	gre      greOpts
	id       uint32 // VNI, TEID, ERSPAN session
	port     uint16 // UDP destination port
	platform bool   // ERSPAN III platform subheader
	fixed    bool   // mirror: outer addresses do not follow the inner direction
	src4     [4]byte
	dst4     [4]byte
	src6     [16]byte
	dst6     [16]byte
	ipid     uint16
	seq      uint32
	drop     *dropper // mirror: drop this copy
	delay    int64    // mirror: added to the timestamp
}

type dropper struct {
	p   float64
	rng *rand.Rand
}

func newDropper(p float64, seed uint64) *dropper {
	return &dropper{p: p, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

func (d *dropper) hit() bool {
	if d == nil || d.p <= 0 {
		return false
	}
	return d.rng.Float64() < d.p
}

// Fixed addresses (see the package documentation).
var (
	outerMAC1 = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	outerMAC2 = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	innerMAC1 = [6]byte{0x02, 0, 0, 0, 0x01, 0x01}
	innerMAC2 = [6]byte{0x02, 0, 0, 0, 0x01, 0x02}
	outer4A   = [4]byte{192, 0, 2, 1}
	outer4B   = [4]byte{192, 0, 2, 2}
	outer6A   = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	outer6B   = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2}
	probe4A   = [4]byte{198, 51, 100, 1}
	probe4B   = [4]byte{198, 51, 100, 2}
	collector = [4]byte{203, 0, 113, 10}
)

// MirrorDelay is how much later than session A's copy session B's copy of a
// packet is stamped in a mirror spec, in nanoseconds.
const MirrorDelay = 30_000

// config is a parsed spec.
type config struct {
	drop, fragdrop *dropper
	fragMTU        int
	fragOrder      string // "", "rev", "shuffle"
	fragRng        *rand.Rand
	outerMTU       int
	tun            *tunnel   // a plain tunnel
	mirror         []*tunnel // two mirror sessions
	link           linkKind
	linkSet        bool
	labels         []uint32
	session        uint16
}

func parseUint(s string, bits int, what string) (uint64, error) {
	v, err := strconv.ParseUint(s, 0, bits)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %v", what, s, err)
	}
	return v, nil
}

// splitItems splits a spec at commas; an item that starts with a digit
// continues the previous one (mpls:100,200 is one label stack).
func splitItems(spec string) []string {
	var items []string
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if len(items) > 0 && f[0] >= '0' && f[0] <= '9' {
			items[len(items)-1] += "," + f
			continue
		}
		items = append(items, f)
	}
	return items
}

func parseSpec(spec string) (*config, error) {
	c := &config{}
	items := splitItems(spec)
	if len(items) == 0 {
		return nil, fmt.Errorf("empty spec")
	}
	setTun := func(t *tunnel) error {
		if c.tun != nil || c.mirror != nil {
			return fmt.Errorf("more than one tunnel")
		}
		c.tun = t
		return nil
	}
	setLink := func(k linkKind) error {
		if c.linkSet {
			return fmt.Errorf("more than one link framing")
		}
		c.link, c.linkSet = k, true
		return nil
	}
	for _, item := range items {
		name, rest, _ := strings.Cut(item, ":")
		var args []string
		if rest != "" {
			args = strings.Split(rest, ":")
		}
		arg := func(i int, def uint64, bits int, what string) (uint64, error) {
			if i >= len(args) || args[i] == "" {
				return def, nil
			}
			return parseUint(args[i], bits, what)
		}
		prob := func(i int) (float64, uint64, error) {
			p := 0.0
			if i < len(args) {
				v, err := strconv.ParseFloat(args[i], 64)
				if err != nil || v < 0 || v > 1 {
					return 0, 0, fmt.Errorf("probability %q", args[i])
				}
				p = v
			}
			seed, err := arg(i+1, 1, 64, "seed")
			return p, seed, err
		}
		var err error
		fail := func(e error) error { return fmt.Errorf("spec item %q: %w", item, e) }
		switch name {
		case "drop", "fragdrop":
			p, seed, e := prob(0)
			if e != nil {
				return nil, fail(e)
			}
			if name == "drop" {
				c.drop = newDropper(p, seed)
			} else {
				c.fragdrop = newDropper(p, seed^0xf4a9)
			}
		case "frag", "frag-rev", "frag-shuffle", "outer-frag":
			if len(args) == 0 {
				return nil, fail(fmt.Errorf("needs an MTU"))
			}
			m, e := parseUint(args[0], 16, "MTU")
			if e != nil {
				return nil, fail(e)
			}
			if m < 68 {
				return nil, fail(fmt.Errorf("MTU %d below 68", m))
			}
			if name == "outer-frag" {
				c.outerMTU = int(m)
				break
			}
			c.fragMTU = int(m)
			c.fragOrder = strings.TrimPrefix(strings.TrimPrefix(name, "frag"), "-")
			seed, e := arg(1, 1, 64, "seed")
			if e != nil {
				return nil, fail(e)
			}
			c.fragRng = rand.New(rand.NewPCG(seed, 0xf7a6))
		case "gre", "gre6", "gre-key", "gre-seq", "gre-csum", "gre-eth":
			t := c.tun
			if t == nil || t.kind != tunGRE {
				t = &tunnel{kind: tunGRE}
				if err = setTun(t); err != nil {
					return nil, fail(err)
				}
			}
			switch name {
			case "gre6":
				t.v6 = true
			case "gre-key":
				if len(args) == 0 {
					return nil, fail(fmt.Errorf("needs a key"))
				}
				k, e := parseUint(args[0], 32, "key")
				if e != nil {
					return nil, fail(e)
				}
				t.gre.key, t.gre.keyVal = true, uint32(k)
			case "gre-seq":
				t.gre.seq = true
			case "gre-csum":
				t.gre.csum = true
			case "gre-eth":
				t.eth = true
			}
		case "erspan2", "erspan3", "erspan3p":
			s, e := arg(0, 7, 10, "session")
			if e != nil {
				return nil, fail(e)
			}
			t := &tunnel{kind: tunERSPAN2, eth: true, id: uint32(s), gre: greOpts{seq: true}}
			if name != "erspan2" {
				t.kind, t.platform = tunERSPAN3, name == "erspan3p"
			}
			if err = setTun(t); err != nil {
				return nil, fail(err)
			}
		case "vxlan", "vxlan6", "geneve", "geneve6":
			t := &tunnel{kind: tunVXLAN, eth: true, v6: strings.HasSuffix(name, "6")}
			def, port := uint64(5001), uint64(4789)
			if strings.HasPrefix(name, "geneve") {
				t.kind, def, port = tunGeneve, 5002, 6081
			}
			v, e := arg(0, def, 24, "VNI")
			if e != nil {
				return nil, fail(e)
			}
			p, e := arg(1, port, 16, "port")
			if e != nil {
				return nil, fail(e)
			}
			t.id, t.port = uint32(v), uint16(p)
			if err = setTun(t); err != nil {
				return nil, fail(err)
			}
		case "gtpu", "gtpu6":
			v, e := arg(0, 0x1001, 32, "TEID")
			if e != nil {
				return nil, fail(e)
			}
			p, e := arg(1, 2152, 16, "port")
			if e != nil {
				return nil, fail(e)
			}
			if err = setTun(&tunnel{kind: tunGTPU, id: uint32(v), port: uint16(p), v6: name == "gtpu6"}); err != nil {
				return nil, fail(err)
			}
		case "ipip", "4in4", "6in4", "ipip6", "4in6", "6in6":
			if err = setTun(&tunnel{kind: tunIPIP, v6: strings.HasSuffix(name, "6")}); err != nil {
				return nil, fail(err)
			}
		case "mirror-vxlan", "mirror-erspan2", "mirror-erspan3":
			if c.tun != nil || c.mirror != nil {
				return nil, fail(fmt.Errorf("more than one tunnel"))
			}
			p, seed, e := prob(0)
			if e != nil {
				return nil, fail(e)
			}
			for i, src := range [][4]byte{probe4A, probe4B} {
				t := &tunnel{kind: tunVXLAN, eth: true, port: 4789, id: uint32(101 + i), fixed: true,
					src4: src, dst4: collector, drop: newDropper(p, seed+uint64(i)*0x9e3779b97f4a7c15)}
				switch name {
				case "mirror-erspan2":
					t.kind, t.gre.seq = tunERSPAN2, true
				case "mirror-erspan3":
					t.kind, t.gre.seq = tunERSPAN3, true
				}
				if i == 1 {
					t.delay = MirrorDelay
				}
				c.mirror = append(c.mirror, t)
			}
		case "mpls":
			labels := []uint32{100}
			if rest != "" {
				labels = labels[:0]
				for _, l := range strings.Split(rest, ",") {
					v, e := parseUint(l, 20, "label")
					if e != nil {
						return nil, fail(e)
					}
					labels = append(labels, uint32(v))
				}
			}
			c.labels = labels
			err = setLink(linkMPLS)
		case "mpls-pw", "mpls-pw-nocw":
			v, e := arg(0, 200, 20, "label")
			if e != nil {
				return nil, fail(e)
			}
			c.labels = []uint32{uint32(v)}
			k := linkMPLSPW
			if name == "mpls-pw-nocw" {
				k = linkMPLSPWNoCW
			}
			err = setLink(k)
		case "pppoe", "qinq-pppoe":
			v, e := arg(0, 0x1234, 16, "session")
			if e != nil {
				return nil, fail(e)
			}
			c.session = uint16(v)
			k := linkPPPoE
			if name == "qinq-pppoe" {
				k = linkQinQPPPoE
			}
			err = setLink(k)
		case "llcsnap":
			err = setLink(linkLLCSNAP)
		case "nflog":
			err = setLink(linkNFLOG)
		case "ppp":
			err = setLink(linkPPP)
		case "ppp-hdlc":
			err = setLink(linkPPPHDLC)
		case "ppp-dir":
			err = setLink(linkPPPDir)
		case "ppp-pppd":
			err = setLink(linkPPPPPPD)
		default:
			return nil, fmt.Errorf("unknown spec item %q", item)
		}
		if err != nil {
			return nil, fail(err)
		}
	}
	if c.outerMTU > 0 && c.tun == nil && c.mirror == nil {
		return nil, fmt.Errorf("outer-frag needs a tunnel")
	}
	if c.tun != nil && !c.tun.fixed {
		c.tun.src4, c.tun.dst4, c.tun.src6, c.tun.dst6 = outer4A, outer4B, outer6A, outer6B
	}
	return c, nil
}

// outLink returns the link type of the frames written.
func (c *config) outLink() uint32 {
	switch c.link {
	case linkNFLOG:
		return LinkNFLOG
	case linkPPP:
		return LinkPPP
	case linkPPPHDLC:
		return LinkPPPHDLC
	case linkPPPDir:
		return LinkPPPDir
	case linkPPPPPPD:
		return LinkPPPPPPD
	}
	return LinkEthernet
}
