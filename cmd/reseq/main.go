// Command reseq reads packet captures and reassembles TCP byte streams passively.
//
// Usage:
//
//	reseq info    [--json] CAPTURE...
//	reseq extract -o DIR CAPTURE...
//	reseq flows   [--json] CAPTURE...
//	reseq follow  CAPTURE SELECTOR
//	reseq http    -o DIR CAPTURE...
//	reseq report  -o REPORT.html CAPTURE...
//	reseq plot    CAPTURE... SELECTOR -o CONN.svg
//	reseq version (or --version)
//
// Run "reseq help COMMAND" for a command's options. Exit codes: 0 success, 1 input
// error (after everything read before it was written), 2 usage.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit codes.
const (
	exitOK    = 0
	exitInput = 1
	exitUsage = 2
)

// command is one subcommand. run gets the arguments after the command name and
// returns the exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is filled by the init functions of the files that implement them.
var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	commands[name] = command{summary: summary, run: run}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "reseq: passive TCP stream reassembly from pcap/pcapng captures")
	fmt.Fprintln(w, "\nusage: reseq COMMAND [options] CAPTURE...")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'reseq COMMAND -h' for a command's options.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "--version" || name == "-version" {
		printVersion(stdout)
		return exitOK
	}
	if name == "help" || name == "-h" || name == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"-h"}, stdout, stderr)
			}
		}
		usage(stdout)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "reseq: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}
