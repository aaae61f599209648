package main

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"strconv"
)

// The end-to-end plot: the collector's CPU per span (µs, linear) against the
// offered rate (spans/s, log scale), one line per configuration of
// bench/cmd/loadgen's -csv output, sustained steps only.

// e2eRow is one configuration at one step.
type e2eRow struct {
	config    string
	rate, cpu float64 // spans/s offered; CPU s per 100k spans
	sustained bool
}

func readE2E(in io.Reader) ([]e2eRow, error) {
	recs, err := csv.NewReader(in).ReadAll()
	if err != nil {
		return nil, err
	}
	var rows []e2eRow
	for i, rec := range recs {
		if i == 0 {
			continue // header
		}
		if len(rec) < 5 {
			return nil, fmt.Errorf("line %d: want 5 fields, got %d", i+1, len(rec))
		}
		rate, err1 := strconv.ParseFloat(rec[1], 64)
		cpu, err2 := strconv.ParseFloat(rec[2], 64)
		ok, err3 := strconv.ParseBool(rec[4])
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("line %d: %v", i+1, rec)
		}
		rows = append(rows, e2eRow{rec[0], rate, cpu, ok})
	}
	return rows, nil
}

// e2eStyle is how each known configuration is drawn; others are skipped.
var e2eStyle = []struct {
	config, label string
	c             color.RGBA
	dash          bool
}{
	{"without", "without processor (v0.164)", color.RGBA{90, 90, 90, 255}, true},
	{"floor", "floor processor (v0.164)", green, false},
	{"audit-core", "audit, 3 core fields", color.RGBA{120, 170, 230, 255}, false},
	{"audit", "audit, every field", blue, false},
	{"audit-connector", "audit and connector", color.RGBA{148, 103, 189, 255}, false},
	{"floor-connector", "floor and floor connector", color.RGBA{140, 86, 75, 255}, false},
	{"ottl-without", "without processor (v0.161)", color.RGBA{255, 127, 14, 255}, true},
	{"ottl", "ottl: transform, filter (v0.161)", red, false},
}

func plotE2E(rows []e2eRow, file string) error {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, img.Bounds(), white)
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymax := 0.0
	for _, r := range rows {
		xmin, xmax = math.Min(xmin, r.rate), math.Max(xmax, r.rate)
		if r.sustained {
			ymax = math.Max(ymax, r.cpu*10) // µs per span
		}
	}
	if len(rows) == 0 || ymax == 0 {
		return fmt.Errorf("no sustained step to plot")
	}
	lx0, lx1 := math.Floor(math.Log10(xmin)*4)/4, math.Ceil(math.Log10(xmax)*4)/4
	if lx1 <= lx0 {
		lx1 = lx0 + 1
	}
	ystep := niceStep(ymax / 6)
	ytop := math.Ceil(ymax/ystep) * ystep
	px := func(x float64) int {
		return left + int((math.Log10(x)-lx0)/(lx1-lx0)*float64(width-left-right))
	}
	py := func(y float64) int {
		return height - bottom - int(y/ytop*float64(height-top-bottom))
	}
	for _, x := range []float64{1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6} {
		if math.Log10(x) < lx0-1e-9 || math.Log10(x) > lx1+1e-9 {
			continue
		}
		line(img, px(x), top, px(x), height-bottom, grey, 0)
		label := siLabel(x)
		text(img, px(x)-textWidth(label)/2, height-bottom+12, label, black)
	}
	for y := 0.0; y <= ytop+1e-9; y += ystep {
		line(img, left, py(y), width-right, py(y), grey, 0)
		label := strconv.FormatFloat(y, 'f', -1, 64)
		text(img, left-12-textWidth(label), py(y)-2*scale, label, black)
	}
	line(img, left, top, left, height-bottom, black, 0)
	line(img, left, height-bottom, width-right, height-bottom, black, 0)
	xl := "offered spans per second (log)"
	text(img, left+(width-left-right)/2-textWidth(xl)/2, height-bottom+45, xl, black)
	text(img, 12, top-35, "collector cpu: microseconds per span, sustained steps", black)

	ly := top + 10
	for _, st := range e2eStyle {
		var pts []point
		for _, r := range rows {
			if r.config == st.config && r.sustained {
				pts = append(pts, point{r.rate, r.cpu * 10})
			}
		}
		if len(pts) == 0 {
			continue
		}
		if st.dash {
			drawLine(img, pts, px, py, st.c, 3, 8)
		} else {
			drawLine(img, pts, px, py, st.c, 5, 0)
		}
		lx := width - right - 390
		if st.dash {
			line(img, lx, ly+2, lx+30, ly+2, st.c, 6)
			line(img, lx, ly+3, lx+30, ly+3, st.c, 6)
		} else {
			fill(img, image.Rect(lx, ly, lx+30, ly+4*scale/2), st.c)
		}
		text(img, lx+40, ly-scale, st.label, black)
		ly += 26
	}
	return writePNG(file, img)
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
