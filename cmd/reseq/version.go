package main

// reseq version / reseq --version: what was built, from the build
// information the Go toolchain embeds (module version, VCS revision, dirty
// flag) and the build time the release script stamps.

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildTime and releaseVersion are set by scripts/release.sh (-ldflags
// "-X main.buildTime=... -X main.releaseVersion=..."); empty for a plain go
// build or go install, whose binaries carry no clock and whose module version
// the toolchain knows. releaseVersion stands in only for "(devel)": a binary
// built from a checkout rather than from a published module version.
var (
	buildTime      = ""
	releaseVersion = ""
)

// versionInfo is what 'reseq version' prints.
type versionInfo struct {
	Module    string // module path
	Version   string // module version: vX.Y.Z from go install, a pseudo-version or "(devel)"
	Revision  string // VCS commit
	Time      string // commit time
	Modified  bool   // built from a work tree with uncommitted changes
	BuildTime string
	Go        string
	Platform  string
}

func readVersion() versionInfo {
	v := versionInfo{Version: "(unknown)", BuildTime: buildTime, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Module, v.Version = bi.Main.Path, bi.Main.Version
	if v.Version == "" {
		v.Version = "(devel)"
	}
	if v.Version == "(devel)" && releaseVersion != "" {
		v.Version = releaseVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func printVersion(w io.Writer) {
	v := readVersion()
	fmt.Fprintf(w, "reseq %s\n", v.Version)
	if v.Module != "" {
		fmt.Fprintf(w, "module:     %s\n", v.Module)
	}
	rev := v.Revision
	if rev == "" {
		rev = "unknown (not built from a VCS checkout)"
	} else if v.Modified {
		rev += " (dirty)"
	}
	fmt.Fprintf(w, "revision:   %s\n", rev)
	if v.Time != "" {
		fmt.Fprintf(w, "committed:  %s\n", v.Time)
	}
	bt := v.BuildTime
	if bt == "" {
		bt = "unknown (not stamped)"
	}
	fmt.Fprintf(w, "built:      %s\n", bt)
	fmt.Fprintf(w, "go:         %s %s\n", v.Go, v.Platform)
}

const versionUsage = "usage: reseq version\n\nPrints the module version, the VCS revision (\"dirty\" when built from a\nwork tree with uncommitted changes), the commit time, the build time (set by\nscripts/release.sh) and the Go version and platform.\n"

func runVersion(in *invocation) int {
	if _, ok := in.parse(); !ok {
		return in.code
	}
	printVersion(in.stdout)
	return exitOK
}
