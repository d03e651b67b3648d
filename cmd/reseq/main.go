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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
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
	fmt.Fprintln(w, "\n"+sizeHelp)
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
		fmt.Fprintf(stderr, "reseq: unknown command %q (run 'reseq -h' for the list)\n", name)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

// flagError handles an error of a command's flag parsing: -h or --help
// prints the command's usage to stdout (exit 0); any other error is one line
// on stderr naming the command (exit 2). Commands keep their FlagSet's
// output at io.Discard so that the flag package prints nothing itself.
func flagError(fs *flag.FlagSet, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		fs.SetOutput(io.Discard)
		sizes := false
		fs.VisitAll(func(f *flag.Flag) { _, ok := f.Value.(sizeFlag); sizes = sizes || ok })
		if sizes {
			fmt.Fprintln(stdout, "\n"+sizeHelp)
		}
		return exitOK
	}
	fmt.Fprintf(stderr, "reseq %s: %v (see 'reseq %s -h')\n", fs.Name(), err, fs.Name())
	return exitUsage
}

// plural writes "1 connection", "2 connections"; a word ending in "y"
// after a consonant takes "ies" ("2 bodies").
func plural[T ~int | ~int64](n T, word string) string {
	w := word
	if n != 1 {
		if strings.HasSuffix(w, "y") && !strings.HasSuffix(w, "ey") && !strings.HasSuffix(w, "ay") {
			w = w[:len(w)-1] + "ies"
		} else {
			w += "s"
		}
	}
	return strconv.FormatInt(int64(n), 10) + " " + w
}
