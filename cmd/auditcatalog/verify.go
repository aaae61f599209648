package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otel-audit/auditprocessor/cmd/auditcatalog/report"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// verify reads the audit connector's events and checkpoints as a backend
// kept them (OTLP JSON: the file exporter's lines, or one export document)
// and reports per chain what is missing, altered or unsigned
// (internal/integrity's Verifier; auditconnector/README.md "Verifiable
// events").

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", "--key PUBLIC.pem [--key ...] [--json] [FILE.json... | FILE.binpb | -]")
	var keyFiles listFlag
	fs.Var(&keyFiles, "key", "a PEM file of public keys (PKIX \"PUBLIC KEY\"), matched to checkpoints by key id; may be given several times")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	files, ok := parseFlagsAny(fs, args, stderr)
	if !ok {
		return exitUsage
	}
	if len(keyFiles) == 0 {
		fmt.Fprintln(stderr, "auditcatalog verify: --key PUBLIC.pem is required (the checkpoints' public key)")
		fs.Usage()
		return exitUsage
	}
	var keys []integrity.PublicKey
	for _, f := range keyFiles {
		data, err := os.ReadFile(f)
		if err == nil {
			var k []integrity.PublicKey
			k, err = integrity.ParsePublicKeys(data)
			keys = append(keys, k...)
		}
		if err != nil {
			fmt.Fprintf(stderr, "auditcatalog verify: --key %s: %v\n", f, err)
			return exitFail
		}
	}
	v := integrity.NewVerifier(keys)
	if len(files) == 0 {
		files = []string{"-"}
	}
	malformed := 0
	for _, f := range files {
		var r io.Reader
		name := f
		if f == "-" {
			r, name = os.Stdin, "stdin"
		} else {
			file, err := os.Open(f)
			if err != nil {
				fmt.Fprintf(stderr, "auditcatalog verify: %v\n", err)
				return exitFail
			}
			defer file.Close()
			r = file
		}
		malformed += readInput(r, name, v, stderr)
	}
	rep := report.Verify{Chains: v.Finish(), Unchained: v.Unchained, MalformedCheckpoints: v.Malformed, MalformedInput: malformed}
	rep.Links = v.Links()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return exitFail
		}
	} else {
		printVerify(stdout, &rep)
	}
	if rep.Failed() {
		return exitFail
	}
	return exitOK
}

// maxLine bounds one line of input (a file exporter line is one request).
const maxLine = 64 << 20

// readInput reads what a backend kept: JSON, one document per line (the
// file exporter's OTLP JSON lines, or the rows VictoriaLogs' LogsQL query
// API returns, told apart line by line), or one OTLP JSON document over
// many lines (an export), or one OTLP protobuf export; it hands each record
// to v. A line that is neither is reported with its number and skipped; it
// returns how many were.
func readInput(r io.Reader, name string, v *integrity.Verifier, stderr io.Writer) int {
	br := bufio.NewReaderSize(r, 64<<10) // longer lines are joined (long)
	if first, err := br.Peek(1); err == nil && isProto(first[0]) {
		return readProto(br, name, v.Add, stderr)
	}
	var jr integrity.JSONReader
	malformed, lineNo, docs := 0, 0, 0
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(line) > maxLine {
				fmt.Fprintf(stderr, "auditcatalog verify: %s:%d: a line longer than %d bytes\n", name, lineNo+1, maxLine)
				return malformed + 1
			}
			long = append(long, line...)
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if len(line) > 0 {
			lineNo++
			if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
				_, rerr := jr.Read(trimmed, v.AddRecord)
				switch {
				case rerr == nil:
					docs++
				case docs == 0 && lineNo == 1 && !json.Valid(trimmed):
					// Not a document by itself: one document over many lines.
					// (line is in br's buffer, which the rest overwrites.)
					doc := append([]byte(nil), line...)
					rest, err := io.ReadAll(io.LimitReader(br, 1<<30))
					if err == nil {
						doc = append(doc, rest...)
						if _, rerr = jr.Read(doc, v.AddRecord); rerr == nil {
							return malformed
						}
						fmt.Fprintf(stderr, "auditcatalog verify: %s: neither JSON lines nor one OTLP JSON logs document: %v\n", name, oneLine(rerr))
						return malformed + 1
					}
					fmt.Fprintf(stderr, "auditcatalog verify: %s:%d: %v\n", name, lineNo, err)
					return malformed + 1
				default:
					fmt.Fprintf(stderr, "auditcatalog verify: %s:%d: not an OTLP JSON logs document or a VictoriaLogs row: %v\n", name, lineNo, oneLine(rerr))
					malformed++
				}
			}
		}
		if err == io.EOF {
			return malformed
		}
		if err != nil {
			fmt.Fprintf(stderr, "auditcatalog verify: %s:%d: %v\n", name, lineNo, err)
			return malformed + 1
		}
	}
}

// isProto tells a protobuf export from JSON by its first byte: JSON starts
// with '{' or white space, an OTLP protobuf LogsData with the tag of its
// field 1 (resource_logs, length-delimited): 0x0a.
func isProto(b byte) bool { return b == 0x0a }

// maxProto bounds one ResourceLogs of a protobuf export: the reader holds
// one at a time.
const maxProto = 1 << 30

// readProto reads an OTLP protobuf logs export (an ExportLogsServiceRequest
// or a LogsData: the same bytes; several written one after another read as
// one, as protobuf merges them) one resource_logs entry at a time, each
// unmarshalled as a request of its own, so that memory is bounded by the
// largest entry, not by the export. Fields other than resource_logs are
// skipped, as pdata's unmarshaler skips them. An error names the byte
// offset of the entry it is in.
func readProto(br *bufio.Reader, name string, add func(plog.Logs), stderr io.Writer) int {
	r := &countingReader{r: br}
	var (
		off int64 // where the entry being read starts
		buf []byte
		u   plog.ProtoUnmarshaler
	)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "auditcatalog verify: %s: offset %d: not an OTLP protobuf logs export: %v\n", name, off, oneLine(err))
		return 1
	}
	for {
		off = r.n
		tag, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return 0
		}
		if err != nil {
			return fail(err)
		}
		var size uint64
		switch tag & 7 {
		case 0: // varint
			_, err = binary.ReadUvarint(r)
		case 1: // 64 bits
			size = 8
		case 5: // 32 bits
			size = 4
		case 2: // length-delimited
			size, err = binary.ReadUvarint(r)
		default:
			err = fmt.Errorf("field %d has wire type %d", tag>>3, tag&7)
		}
		if err == nil && size > maxProto {
			err = fmt.Errorf("field %d is %d bytes, more than %d", tag>>3, size, maxProto)
		}
		if err != nil {
			return fail(noEOF(err))
		}
		if tag != 1<<3|2 { // not resource_logs: skipped
			if _, err := io.CopyN(io.Discard, r, int64(size)); err != nil {
				return fail(noEOF(err))
			}
			continue
		}
		buf = binary.AppendUvarint(binary.AppendUvarint(buf[:0], tag), size)
		// Grown as the bytes arrive, a MiB at a time: a size the input
		// claims but does not hold allocates nothing.
		for left := int(size); left > 0; {
			n, start := min(left, 1<<20), len(buf)
			buf = slices.Grow(buf, n)[:start+n]
			if _, err := io.ReadFull(r, buf[start:]); err != nil {
				return fail(noEOF(err))
			}
			left -= n
		}
		ld, err := u.UnmarshalLogs(buf)
		if err != nil {
			return fail(err)
		}
		add(ld)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// noEOF: input that ends inside an entry is an unexpected end.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// oneLine is an error's message on one line, without control characters
// (a JSON parser's message quotes the input).
func oneLine(err error) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, err.Error())
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func printVerify(out io.Writer, rep *report.Verify) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHAIN\tEVENTS\tVERIFIED\tDUPLICATES\tMISSING\tALTERED\tCHECKPOINTS\tBAD SIGNATURES\tUNSIGNED TAIL")
	for _, c := range rep.Chains {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", c.Chain, c.Events, c.Verified, c.Duplicates, c.MissingEvents, c.AlteredEvents, c.Checkpoints, c.BadSignatures, c.UnsignedTail)
	}
	tw.Flush()
	for _, c := range rep.Chains {
		var notes []string
		if len(c.Missing) > 0 {
			notes = append(notes, "missing sequence numbers "+ranges(c.Missing))
		}
		if c.AlteredEvents > 0 {
			notes = append(notes, fmt.Sprintf("altered events (by id): %s", strings.Join(c.Altered, ", ")))
		}
		if c.HeadMismatches > 0 {
			notes = append(notes, fmt.Sprintf("%d checkpoints whose head is not the chain's", c.HeadMismatches))
		}
		if c.BrokenLinks > 0 {
			notes = append(notes, fmt.Sprintf("%d checkpoints that do not follow the one before (one deleted, or out of the chain)", c.BrokenLinks))
		}
		switch {
		case c.UnsignedTail > 0 && c.LastSigned == 0:
			notes = append(notes, fmt.Sprintf("unsigned tail: %d events, no signed checkpoint", c.UnsignedTail))
		case c.UnsignedTail > 0:
			notes = append(notes, fmt.Sprintf("unsigned tail: %d events after the last signed checkpoint (sequence %d)", c.UnsignedTail, c.LastSigned))
		}
		if len(c.Withdrawn) > 0 {
			notes = append(notes, "withdrawn (refused by the pipeline, sent again under new numbers): "+ranges(c.Withdrawn))
		}
		if c.Unlinked > 0 {
			notes = append(notes, fmt.Sprintf("%d events right after a gap (not linked)", c.Unlinked))
		}
		if c.Late > 0 {
			notes = append(notes, fmt.Sprintf("%d events came after their numbers were taken as missing", c.Late))
		}
		if c.BrokenRestartLinks > 0 {
			notes = append(notes, fmt.Sprintf("%d restart links that do not agree (below)", c.BrokenRestartLinks))
		}
		for _, n := range notes {
			fmt.Fprintf(out, "%s: %s\n", c.Chain, n)
		}
	}
	for _, l := range rep.Links {
		switch {
		case l.Problem == "":
			fmt.Fprintf(out, "restart: %s -> %s (the chain before closed at sequence %d)\n", l.From, l.To, l.Last)
		default:
			fmt.Fprintf(out, "restart: %s -> %s: %s\n", l.From, l.To, l.Problem)
		}
	}
	if rep.Unchained > 0 {
		fmt.Fprintf(out, "%d records named like events carry no chain (look-alikes, or events of a connector without integrity)\n", rep.Unchained)
	}
	if rep.MalformedCheckpoints > 0 {
		fmt.Fprintf(out, "%d checkpoint records could not be read\n", rep.MalformedCheckpoints)
	}
	if rep.MalformedInput > 0 {
		fmt.Fprintf(out, "%d lines of input could not be read\n", rep.MalformedInput)
	}
	if rep.Failed() {
		fmt.Fprintln(out, "FAILED")
	} else {
		fmt.Fprintln(out, "OK")
	}
}

func ranges(rs []integrity.Range) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r.From == r.To {
			parts[i] = fmt.Sprint(r.From)
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.From, r.To)
		}
	}
	return strings.Join(parts, ", ")
}
