package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The plot reads what loadgen -csv writes, and draws only sustained steps.
func TestE2EPlot(t *testing.T) {
	csv := `config,rate,cpu_s_per_100k,achieved,sustained
without,20000,1.2040,20000,true
ottl,20000,3.5050,19990,true
ottl,40000,2.9490,31000,false
`
	rows, err := readE2E(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1] != (e2eRow{"ottl", 20000, 3.505, true}) || rows[2].sustained {
		t.Errorf("rows %+v", rows)
	}
	if _, err := readE2E(strings.NewReader("config,rate\nwithout,x,1,1,true\n")); err == nil {
		t.Error("a rate that is not a number was accepted")
	}
	png := filepath.Join(t.TempDir(), "e2e.png")
	if err := plotE2E(rows, png); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Errorf("no plot: %v", err)
	}
	if err := plotE2E([]e2eRow{{"ottl", 40000, 2.9, false}}, png); err == nil {
		t.Error("a plot without a sustained step")
	}
}
