package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/reseq/reseq/internal/wrapcap"
)

// The bundled sample wrapped in tunnels: the same streams, files named with
// the overlay's VNI, each record listing its tunnels, the flows table showing
// them; two mirror sessions merged with --capture-point tunnel.
func TestExtractTunnels(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	bareDir := filepath.Join(t.TempDir(), "bare")
	if code, _, e := runReseq("extract", "-o", bareDir, "--quiet", filepath.Join("..", "..", "testdata", "sample.pcap")); code != 0 {
		t.Fatalf("bare: exit %d: %s", code, e)
	}
	bare := readIndex(t, bareDir)

	for _, tc := range []struct {
		spec    string
		args    []string
		tunnels string // the c2s record's tunnels, as JSON
		vni     bool
		points  string // the c2s record's capture points, as JSON ("" when none)
		table   string // in the flows table
	}{
		{spec: "vxlan:5001", tunnels: `[{"type":"vxlan","id":5001,"src":"192.0.2.1","dst":"192.0.2.2"}]`, vni: true, table: "vxlan:5001"},
		{spec: "gre-key:7", tunnels: `[{"type":"gre","id":7,"src":"192.0.2.1","dst":"192.0.2.2"}]`, table: "gre:7"},
		{spec: "erspan2:12", tunnels: `[{"type":"gre","src":"192.0.2.1","dst":"192.0.2.2"},{"type":"erspan","id":12,"src":"192.0.2.1","dst":"192.0.2.2"}]`,
			// wrapcap sends each direction from its own end, so each
			// direction is seen at a session of its own.
			points: `["erspan:12@192.0.2.1","erspan:12@192.0.2.2"]`, table: "gre>erspan:12"},
		{spec: "mpls:100,200", tunnels: `[{"type":"mpls","id":200}]`, table: "mpls:200"},
		{spec: "frag:200", tunnels: `[]`},
		{spec: "mirror-vxlan:0.2:3", args: []string{"--capture-point", "tunnel"},
			tunnels: `[{"type":"vxlan","id":101,"src":"198.51.100.1","dst":"203.0.113.10"}]`,
			points:  `["vxlan:101@198.51.100.1","vxlan:102@198.51.100.2"]`, table: "vxlan:101"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			wrapped, _, err := wrapcap.WrapBytes(sample, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(t.TempDir(), "w.pcap")
			if err := os.WriteFile(in, wrapped, 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			args := append([]string{"extract", "-o", dir, "--quiet", in}, tc.args...)
			if code, _, e := runReseq(args...); code != 0 {
				t.Fatalf("exit %d: %s", code, e)
			}
			got := readIndex(t, dir)
			if len(got) != len(bare) {
				t.Fatalf("%d records, bare %d", len(got), len(bare))
			}
			mirror := strings.HasPrefix(tc.spec, "mirror")
			for i, r := range got {
				b := bare[i]
				for _, f := range []string{"src", "dst", "length", "captured", "gaps", "syn", "fin"} {
					if mirror {
						break // both copies of a packet may be lost
					}
					if !reflect.DeepEqual(r[f], b[f]) {
						t.Errorf("record %d: %s %v, bare %v", i, f, r[f], b[f])
					}
				}
				if r["file"] != nil && !mirror {
					data, err := os.ReadFile(filepath.Join(dir, r["file"].(string)))
					bdata, berr := os.ReadFile(filepath.Join(bareDir, b["file"].(string)))
					if err != nil || berr != nil || !bytes.Equal(data, bdata) {
						t.Errorf("record %d: file %v differs from the bare capture's (%v %v)", i, r["file"], err, berr)
					}
					if tc.vni != strings.Contains(r["file"].(string), "--vni5001") {
						t.Errorf("record %d: file name %v", i, r["file"])
					}
				}
				if _, ok := r["vni"]; ok != tc.vni {
					t.Errorf("record %d: vni %v", i, r["vni"])
				}
				if r["dir"] != "c2s" || r["packets"].(float64) == 0 {
					continue
				}
				if !sameJSON(r["tunnels"], tc.tunnels) {
					t.Errorf("record %d: tunnels %v, want %s", i, r["tunnels"], tc.tunnels)
				}
				if tc.points == "" && r["capture_points"] != nil || tc.points != "" && !sameJSON(r["capture_points"], tc.points) {
					t.Errorf("record %d: capture_points %v, want %s", i, r["capture_points"], tc.points)
				}
			}
			if tc.table != "" {
				code, out, e := runReseq(append([]string{"flows", in}, tc.args...)...)
				if code != 0 || !strings.Contains(out, "TUNNEL") || !strings.Contains(out, tc.table) {
					t.Errorf("flows: exit %d, %s\n%s", code, e, out)
				}
			}
		})
	}
}

// sameJSON reports whether v (decoded JSON) equals the JSON text want.
func sameJSON(v any, want string) bool {
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		panic(err)
	}
	return reflect.DeepEqual(v, w)
}
