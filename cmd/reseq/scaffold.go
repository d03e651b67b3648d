package main

// The scaffold every command shares: a command declares its name, help
// text, flags and positional arguments; run parses them, answers -h, refuses
// bad usage with one line and exit 2, and calls the command with a per-run
// environment (env) that holds its output streams and the hooks tests set.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/reseq/reseq/tcpasm"
)

// Exit codes.
const (
	exitOK    = 0
	exitInput = 1
	exitUsage = 2
)

// command is one subcommand: what 'reseq -h', -h and the completion
// scripts say of it, and its run function.
//
// Invariant: run defines the command's flags on in.flags and then calls
// in.parse before it does anything else; when parse reports false (-h was
// answered, or a usage error was written) run returns in.code at once. So
// the scaffold can learn a command's flags by running it with -h.
type command struct {
	name    string
	summary string // one line, for 'reseq -h' and the completion scripts
	// usage is the help text printed by -h before the flags' defaults.
	usage string
	// args names the positional arguments, as the usage line does: one word
	// each, "..." after a word for one or more ("CAPTURE...", "CAPTURE...
	// SELECTOR", "bash|zsh|fish"); empty: none are taken. It also says how
	// many there may be, and is the one-line error about their number.
	args string
	run  func(in *invocation) int
}

// invocation is one call of a command: the run's environment, the command's
// flags and the words after its name.
type invocation struct {
	*env
	cmd   *command
	flags *flag.FlagSet
	argv  []string
	// code is the exit code to return when parse reports false.
	code int
}

// invoke runs c with argv, the words after its name.
func (c *command) invoke(e *env, argv []string) int {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage on -h only, to stdout: see flagError
	fs.Usage = func() {
		io.WriteString(fs.Output(), c.usage)
		fs.PrintDefaults()
	}
	return c.run(&invocation{env: e, cmd: c, flags: fs, argv: argv})
}

// flagSet returns the command's flags, defined by running it with -h into
// io.Discard.
func (c *command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.run(&invocation{env: &env{stdout: io.Discard, stderr: io.Discard}, cmd: c, flags: fs, argv: []string{"-h"}})
	return fs
}

// argCounts returns the least and the most positional arguments args
// allows (most < 0: no bound).
func (c *command) argCounts() (least, most int) {
	words := strings.Fields(c.args)
	least, most = len(words), len(words)
	for _, w := range words {
		if strings.HasSuffix(w, "...") {
			most = -1
		}
	}
	return least, most
}

// parse parses the flags and returns the positional arguments. ok false: -h
// was answered (code 0) or a usage error written (code 2), and the command
// must return in.code.
func (in *invocation) parse() (args []string, ok bool) {
	c := in.cmd
	pos, err := parseArgs(in.flags, in.argv)
	if err != nil {
		in.code = flagError(in.flags, err, in.stdout, in.stderr)
		return nil, false
	}
	if lo, hi := c.argCounts(); len(pos) < lo || hi >= 0 && len(pos) > hi {
		want := "takes no arguments"
		if c.args != "" {
			want = "want " + c.args
		}
		in.code = in.usageError(want + " (see 'reseq " + c.name + " -h')")
		return nil, false
	}
	return pos, true
}

// usageError writes "reseq CMD: msg" to stderr and returns exitUsage.
func (in *invocation) usageError(msg string) int {
	fmt.Fprintf(in.stderr, "reseq %s: %s\n", in.cmd.name, msg)
	return exitUsage
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

// env is one run of reseq: where its output goes, its command table and the
// hooks a test sets. Every field but stdout and stderr may be left zero for
// the default.
type env struct {
	stdout, stderr io.Writer
	// commands is the command table, sorted by name; nil: commandTable().
	commands []*command
	// newAssembler builds the pipelines' assemblers; nil: tcpasm.New.
	newAssembler func(cfg tcpasm.Config, h tcpasm.Handler) assembler
	// serial runs every pipeline's reading and assembling on one goroutine
	// (the output is the same; tests compare both).
	serial bool
	// sig is the interrupt state and the temporary files to remove on a
	// signal (nil: made at first use).
	sig *signals
}

// signals returns the run's signal state.
func (e *env) signals() *signals {
	if e.sig == nil {
		e.sig = &signals{}
	}
	return e.sig
}

// newEnv returns the default environment writing to stdout and stderr.
func newEnv(stdout, stderr io.Writer) *env {
	return &env{stdout: stdout, stderr: stderr, commands: commandTable(), sig: &signals{}}
}

// commandTable is every command, sorted by name.
func commandTable() []*command {
	return []*command{
		{name: "completion", summary: "print a shell completion script: bash, zsh or fish", usage: completionUsage, args: "bash|zsh|fish", run: runCompletion},
		{name: "extract", summary: "write every TCP stream direction to DIR with an exact index (flows.jsonl)", usage: extractUsage, args: "CAPTURE...", run: runExtract},
		{name: "flows", summary: "list the TCP connections of captures (one row per connection)", usage: flowsUsage, args: "CAPTURE...", run: runFlows},
		{name: "follow", summary: "print one TCP connection's bytes (raw or an annotated view of both ways)", usage: followUsage, args: "CAPTURE... SELECTOR", run: runFollow},
		{name: "http", summary: "extract HTTP/1.x requests and responses, bodies to files", usage: httpUsage, args: "CAPTURE...", run: runHTTP},
		{name: "info", summary: "describe captures like capinfos: format, compression, link types, packets, times", usage: infoUsage, args: "CAPTURE...", run: runInfo},
		{name: "merge", summary: "combine the extract outputs of N shard runs into one run's", usage: mergeUsage, args: "DIR...", run: runMerge},
		{name: "plot", summary: "draw one connection's time-sequence graph (tcptrace style) as SVG", usage: plotUsage, args: "CAPTURE... SELECTOR", run: runPlot},
		{name: "report", summary: "write a self-contained HTML page on the capture's trustworthiness (loss, capture points, per-connection graphs) + report.json", usage: reportUsage, args: "CAPTURE...", run: runReport},
		{name: "split", summary: "cut captures into N pcapng shard files by connection, for N workers", usage: splitUsage, args: "CAPTURE...", run: runSplit},
		{name: "version", summary: "print the version, VCS revision and build time", usage: versionUsage, run: runVersion},
	}
}

// command returns the command called name, or nil.
func (e *env) command(name string) *command {
	if e.commands == nil {
		e.commands = commandTable()
	}
	for _, c := range e.commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// assembler builds a pipeline's assembler (see newAssembler).
func (e *env) assembler(cfg tcpasm.Config, h tcpasm.Handler) assembler {
	if e != nil && e.newAssembler != nil {
		return e.newAssembler(cfg, h)
	}
	return tcpasm.New(cfg, h)
}

// run runs the command line args (without the program's name).
func (e *env) run(args []string) int {
	if len(args) == 0 {
		e.usage(e.stderr)
		return exitUsage
	}
	name := args[0]
	if name == "--version" || name == "-version" {
		printVersion(e.stdout)
		return exitOK
	}
	if name == "help" || name == "-h" || name == "--help" {
		if len(args) > 1 {
			if c := e.command(args[1]); c != nil {
				return c.invoke(e, []string{"-h"})
			}
		}
		e.usage(e.stdout)
		return exitOK
	}
	c := e.command(name)
	if c == nil {
		fmt.Fprintf(e.stderr, "reseq: unknown command %q (run 'reseq -h' for the list)\n", name)
		return exitUsage
	}
	return c.invoke(e, args[1:])
}

// usage writes reseq's own help: the commands and their summaries.
func (e *env) usage(w io.Writer) {
	fmt.Fprintln(w, "reseq: passive TCP stream reassembly from pcap/pcapng captures")
	fmt.Fprintln(w, "\nusage: reseq COMMAND [options] CAPTURE...")
	fmt.Fprintln(w, "\ncommands:")
	if e.commands == nil {
		e.commands = commandTable()
	}
	for _, c := range e.commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'reseq COMMAND -h' for a command's options.")
	fmt.Fprintln(w, "\n"+sizeHelp)
}
