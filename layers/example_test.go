package layers_test

import (
	"fmt"

	"github.com/reseq/reseq/layers"
)

// A QinQ frame (outer 802.1ad tag 201 naming the probe, inner 802.1Q tag 100)
// carrying IPv4/TCP whose payload the snaplen cut after 4 of 10 bytes.
var exampleFrame = []byte{
	0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, // MACs
	0x88, 0xa8, 0x00, 0xc9, // 802.1ad, VLAN 201
	0x81, 0x00, 0x00, 0x64, // 802.1Q, VLAN 100
	0x08, 0x00, // IPv4
	0x45, 0, 0, 50, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2, // IPv4, total length 50
	0x13, 0x89, 0x1f, 0x90, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0, 0x50, 0x18, 0x02, 0x00, 0, 0, 0, 0, // TCP 5001 > 8080
	'G', 'E', 'T', ' ', // the captured part of the payload
}

func Example() {
	var p layers.Packet // reusable: Decode overwrites it
	origLen := len(exampleFrame) + 6
	if stop := p.Decode(layers.LinkTypeEthernet, exampleFrame, origLen); !stop.OK() {
		fmt.Println("stopped:", stop)
		return
	}
	cp, _ := p.CapturePoint()
	fmt.Println("capture point:", cp)
	fmt.Println("flow:", p.FlowKey(true))
	fmt.Println("seq:", p.TCP.Seq(), "flags:", p.TCP.Flags() == layers.TCPFlagACK|layers.TCPFlagPSH)
	fmt.Printf("payload: %q captured of %d claimed\n", p.Payload, p.PayloadLength)
	// Output:
	// capture point: 201
	// flow: [100] 10.77.0.1:5001 > 10.77.0.2:8080
	// seq: 1000 flags: true
	// payload: "GET " captured of 10 claimed
}

func ExampleStop() {
	var p layers.Packet
	// The same frame cut inside the TCP header: the addresses stay usable.
	stop := p.Decode(layers.LinkTypeEthernet, exampleFrame[:50], len(exampleFrame))
	fmt.Println(stop)
	fmt.Println(p.IPv4.Src(), ">", p.IPv4.Dst())
	// Output:
	// tcp truncated
	// 10.77.0.1 > 10.77.0.2
}

func ExampleTCP_OptionIter() {
	syn := layers.TCP{
		0x13, 0x89, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0x02, 0xff, 0xff, 0, 0, 0, 0,
		2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7, 1, 1, // MSS 1460, SACK permitted, NOP, WS 7, NOP, NOP
	}
	it := syn.OptionIter()
	for {
		kind, data, ok := it.Next()
		if !ok {
			break
		}
		fmt.Println(kind, data)
	}
	var o layers.TCPOptions
	o.Parse(syn.Options())
	fmt.Println(o.MSS, o.SACKPermitted, o.WindowScale)
	// Output:
	// 2 [5 180]
	// 4 []
	// 3 [7]
	// 1460 true 7
}
