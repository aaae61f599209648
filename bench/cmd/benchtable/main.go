// Command benchtable reads the raw output of the bench module's benchmarks
// (go test -bench, any -count) and prints, from the medians, a table of
// ns/record and allocs/record, the ratios the performance targets are stated
// in, and optionally a PNG plot of ns/record against catalog size.
//
//	benchtable [-png plot.png] results.txt...   (a benchmark in a later file replaces its runs in earlier ones)
//	benchtable -e2e e2e.csv -png plot.png   (make bench-e2e: CPU per span against the offered rate)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// recordsPerOp is the batch size of every per-record benchmark (bench.RecordsPerBatch).
const recordsPerOp = 1000

type results map[string]map[string][]float64 // benchmark -> unit -> samples

func main() {
	png := flag.String("png", "", "write a plot of ns/record against catalog size to this file (with -e2e: of CPU per span against the offered rate)")
	e2e := flag.String("e2e", "", "plot the end-to-end results of bench/cmd/loadgen -csv instead (needs -png)")
	flag.Parse()
	if *e2e != "" {
		if err := e2ePlot(*e2e, *png); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchtable [-png FILE] RESULTS...")
		os.Exit(2)
	}
	res := results{}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		file := results{}
		file.read(f)
		for name, units := range file {
			res[name] = units // a later file's run of a benchmark replaces an earlier one's
		}
		f.Close()
	}
	res.print(os.Stdout)
	if *png != "" {
		if err := res.plot(*png); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func (r results) read(in io.Reader) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		if r[name] == nil {
			r[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			r[name][fields[i+1]] = append(r[name][fields[i+1]], v)
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// get returns the median of a benchmark's unit, and whether it ran.
func (r results) get(name, unit string) (float64, bool) {
	v := r[name][unit]
	return median(v), len(v) > 0
}

func (r results) print(w io.Writer) {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	order := []string{"Traces/", "Logs/", "Matcher/", "Clone", "Compile/"}
	rank := func(n string) int {
		for i, p := range order {
			if strings.HasPrefix(n, p) {
				return i
			}
		}
		return len(order)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	fmt.Fprintln(w, "| benchmark | runs | ns/record | cpu-ns/record | allocs/record | B/record | ms/op |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, n := range names {
		runs := len(r[n]["ns/op"])
		nsOp, _ := r.get(n, "ns/op")
		if strings.HasPrefix(n, "Compile/") {
			fmt.Fprintf(w, "| %s | %d | | | | | %.1f |\n", n, runs, nsOp/1e6)
			continue
		}
		nsRec, _ := r.get(n, "ns/record")
		cpu := ""
		if v, ok := r.get(n, "cpu-ns/record"); ok {
			cpu = fmt.Sprintf("%.0f", v)
		}
		allocs, _ := r.get(n, "allocs/op")
		bytes, _ := r.get(n, "B/op")
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %.2f | %.0f | %.2f |\n", n, runs, nsRec, cpu, allocs/recordsPerOp, bytes/recordsPerOp, nsOp/1e6)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| ratio (medians) | value | target | |")
	fmt.Fprintln(w, "|---|---:|---|---|")
	ratio := func(label, a, b, unit string, target float64, atMost bool) {
		va, oka := r.get(a, unit)
		vb, okb := r.get(b, unit)
		if !oka || !okb || vb == 0 {
			fmt.Fprintf(w, "| %s | not run | | |\n", label)
			return
		}
		v := va / vb
		verdict := "met"
		if atMost && v > target || !atMost && v < target {
			verdict = "MISSED"
		}
		op := "≥"
		if atMost {
			op = "≤"
		}
		fmt.Fprintf(w, "| %s | %.2f× | %s %g× | %s |\n", label, v, op, target, verdict)
	}
	const (
		ours  = "Traces/contender=ours/catalog="
		peer  = "Traces/contender=peer/catalog="
		match = "Matcher/catalog="
	)
	ratio("ours-core / floor, spans: nothing dropped, 3 fields", "Traces/contender=ours-core/catalog=builtin", "Traces/contender=floor", "ns/record", 1.2, true)
	ratio("ours-core / floor, spans, CPU time", "Traces/contender=ours-core/catalog=builtin", "Traces/contender=floor", "cpu-ns/record", 1.2, true)
	ratio("ours-core / floor, log records: nothing dropped, 3 fields", "Logs/contender=ours-core/catalog=builtin", "Logs/contender=floor", "ns/record", 1.2, true)
	ratio("ours-core / floor, log records, CPU time", "Logs/contender=ours-core/catalog=builtin", "Logs/contender=floor", "cpu-ns/record", 1.2, true)
	ratio("ours / floor, spans", ours+"builtin", "Traces/contender=floor", "ns/record", 1.2, true)
	ratio("ours / floor, log records", "Logs/contender=ours/catalog=builtin", "Logs/contender=floor", "ns/record", 1.2, true)
	ratio("peer / ours, built-in catalogs", peer+"builtin", ours+"builtin", "ns/record", 15, false)
	ratio("peer / ours, 1,000 routes", peer+"1000", ours+"1000", "ns/record", 300, false)
	ratio("peer / ours, 10,000 routes", peer+"10000", ours+"10000", "ns/record", 300, false)
	ratio("ours 10,000 routes / built-in, processor", ours+"10000", ours+"builtin", "ns/record", 1.2, true)
	ratio("matcher 10,000 routes / built-in", match+"10000", match+"builtin", "ns/record", 1.2, true)
	ratio("matcher 10,000 routes (shared prefix) / built-in", match+"10000-shared", match+"builtin", "ns/record", 1.2, true)
	for _, c := range []string{"10000", "10000-shared"} {
		if v, ok := r.get("Compile/catalog="+c, "ns/op"); ok {
			verdict := "met"
			if v/1e6 >= 50 {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "| compile %s routes | %.0f ms | < 50 ms | %s |\n", c, v/1e6, verdict)
		}
	}
	for _, c := range []string{"builtin", "10000"} {
		if v, ok := r.get(match+c, "allocs/op"); ok {
			verdict := "met"
			if v > 0 {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "| matcher allocs/record, %s | %.3f | 0 | %s |\n", c, v/recordsPerOp, verdict)
		}
	}
	o, ok1 := r.get(ours+"builtin", "allocs/op")
	f, ok2 := r.get("Traces/contender=floor", "allocs/op")
	if ok1 && ok2 {
		fmt.Fprintf(w, "| allocs/record, ours − floor (spans) | %+.3f | ≤ 0 | %s |\n", (o-f)/recordsPerOp, map[bool]string{true: "met", false: "MISSED"}[o <= f])
	}
}

func e2ePlot(file, png string) error {
	if png == "" {
		return fmt.Errorf("-e2e needs -png")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := readE2E(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return plotE2E(rows, png)
}
