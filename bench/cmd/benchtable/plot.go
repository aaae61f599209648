package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strings"
)

// The plot: ns/record (log scale) against routes in the catalog (log
// scale), for ours and the peer, with the floor as a dashed line. Drawn
// with the standard library and a 3x5 pixel font of our own.

const (
	width, height = 900, 560
	left, right   = 110, 40
	top, bottom   = 60, 80
	scale         = 3 // font pixel size
)

var (
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{30, 30, 30, 255}
	grey  = color.RGBA{215, 215, 215, 255}
	blue  = color.RGBA{31, 119, 180, 255}
	red   = color.RGBA{214, 39, 40, 255}
	green = color.RGBA{44, 160, 44, 255}
)

// builtinRoutes is the number of routes of the built-in catalogs.
const builtinRoutes = 66

type point struct{ x, y float64 }

func (r results) series(prefix string) []point {
	var pts []point
	for _, c := range []struct {
		name   string
		routes float64
	}{{"builtin", builtinRoutes}, {"100", 100}, {"1000", 1000}, {"10000", 10000}} {
		if v, ok := r.get(prefix+c.name, "ns/record"); ok {
			pts = append(pts, point{c.routes, v})
		}
	}
	return pts
}

func (r results) plot(file string) error {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, img.Bounds(), white)
	ours := r.series("Traces/contender=ours/catalog=")
	peer := r.series("Traces/contender=peer/catalog=")
	floor, hasFloor := r.get("Traces/contender=floor", "ns/record")

	// axes: x 10^1..10^4 routes, y 10^2..10^k ns/record
	xmin, xmax := 1.0, 4.2
	ymin, ymax := 2.0, 3.0
	for _, p := range append(append([]point{}, ours...), peer...) {
		ymax = math.Max(ymax, math.Ceil(math.Log10(p.y)))
	}
	px := func(x float64) int {
		return left + int((math.Log10(x)-xmin)/(xmax-xmin)*float64(width-left-right))
	}
	py := func(y float64) int {
		return height - bottom - int((math.Log10(y)-ymin)/(ymax-ymin)*float64(height-top-bottom))
	}
	for e := xmin; e <= 4; e++ {
		x := px(math.Pow(10, e))
		line(img, x, top, x, height-bottom, grey, 0)
		label := map[float64]string{1: "10", 2: "100", 3: "1k", 4: "10k"}[e]
		text(img, x-textWidth(label)/2, height-bottom+12, label, black)
	}
	for e := ymin; e <= ymax; e++ {
		y := py(math.Pow(10, e))
		line(img, left, y, width-right, y, grey, 0)
		label := siLabel(math.Pow(10, e))
		text(img, left-12-textWidth(label), y-2*scale, label, black)
	}
	line(img, left, top, left, height-bottom, black, 0)
	line(img, left, height-bottom, width-right, height-bottom, black, 0)
	text(img, left+(width-left-right)/2-textWidth("routes in the catalog")/2, height-bottom+45, "routes in the catalog", black)
	text(img, 12, top-35, "ns per record (log), batches of 1000 server spans", black)

	if hasFloor {
		y := py(floor)
		line(img, left, y, width-right, y, green, 8)
	}
	drawLine(img, ours, px, py, blue, 5, 0)
	drawLine(img, peer, px, py, red, 5, 0)

	// legend
	lx, ly := width-right-270, top+10
	for i, l := range []struct {
		c    color.RGBA
		name string
	}{{red, "peer: ottl statements"}, {blue, "ours: audit processor"}, {green, "floor: pdata only"}} {
		y := ly + i*28
		fill(img, image.Rect(lx, y, lx+30, y+4*scale/2), l.c)
		text(img, lx+40, y-scale, l.name, black)
	}

	return writePNG(file, img)
}

func siLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(ftoa(v/1e6), ".0") + "m"
	case v >= 1e3:
		return strings.TrimSuffix(ftoa(v/1e3), ".0") + "k"
	}
	return ftoa(v)
}

func ftoa(v float64) string {
	s := []byte{}
	n := int(math.Round(v))
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		s = append([]byte{byte('0' + n%10)}, s...)
	}
	return string(s)
}

// drawLine draws a series: a square marker of half-width marker on each
// point, joined by a line three pixels thick, dashed every dash pixels
// (solid when dash is 0).
func drawLine(img *image.RGBA, pts []point, px func(float64) int, py func(float64) int, c color.RGBA, marker, dash int) {
	for i, p := range pts {
		x, y := px(p.x), py(p.y)
		fill(img, image.Rect(x-marker, y-marker, x+marker+1, y+marker+1), c)
		if i > 0 {
			q := pts[i-1]
			for d := -1; d <= 1; d++ {
				line(img, px(q.x), py(q.y)+d, x, y+d, c, dash)
			}
		}
	}
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// line draws from (x0,y0) to (x1,y1); dash > 0 leaves gaps of that length.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, dash int) {
	steps := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= steps; i++ {
		if dash > 0 && (i/dash)%2 == 1 {
			continue
		}
		x := x0 + (x1-x0)*i/steps
		y := y0 + (y1-y0)*i/steps
		if image.Pt(x, y).In(img.Bounds()) {
			img.SetRGBA(x, y, c)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func textWidth(s string) int { return len(s) * 4 * scale }

// text draws s with the 3x5 font, top-left at (x, y).
func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for i, ch := range strings.ToLower(s) {
		g, ok := glyphs[ch]
		if !ok {
			continue
		}
		for row, bits := range g {
			for col, b := range bits {
				if b == '#' {
					fill(img, image.Rect(x+i*4*scale+col*scale, y+row*scale, x+i*4*scale+(col+1)*scale, y+(row+1)*scale), c)
				}
			}
		}
	}
}

var glyphs = map[rune][5]string{
	'0': {"###", "#.#", "#.#", "#.#", "###"},
	'1': {".#.", "##.", ".#.", ".#.", "###"},
	'2': {"###", "..#", "###", "#..", "###"},
	'3': {"###", "..#", ".##", "..#", "###"},
	'4': {"#.#", "#.#", "###", "..#", "..#"},
	'5': {"###", "#..", "###", "..#", "###"},
	'6': {"###", "#..", "###", "#.#", "###"},
	'7': {"###", "..#", ".#.", ".#.", ".#."},
	'8': {"###", "#.#", "###", "#.#", "###"},
	'9': {"###", "#.#", "###", "..#", "###"},
	'a': {".#.", "#.#", "###", "#.#", "#.#"},
	'b': {"##.", "#.#", "##.", "#.#", "##."},
	'c': {".##", "#..", "#..", "#..", ".##"},
	'd': {"##.", "#.#", "#.#", "#.#", "##."},
	'e': {"###", "#..", "##.", "#..", "###"},
	'f': {"###", "#..", "##.", "#..", "#.."},
	'g': {".##", "#..", "#.#", "#.#", ".##"},
	'h': {"#.#", "#.#", "###", "#.#", "#.#"},
	'i': {"###", ".#.", ".#.", ".#.", "###"},
	'j': {"..#", "..#", "..#", "#.#", ".#."},
	'k': {"#.#", "#.#", "##.", "#.#", "#.#"},
	'l': {"#..", "#..", "#..", "#..", "###"},
	'm': {"#.#", "###", "###", "#.#", "#.#"},
	'n': {"##.", "#.#", "#.#", "#.#", "#.#"},
	'o': {".#.", "#.#", "#.#", "#.#", ".#."},
	'p': {"##.", "#.#", "##.", "#..", "#.."},
	'q': {".#.", "#.#", "#.#", "##.", ".##"},
	'r': {"##.", "#.#", "##.", "#.#", "#.#"},
	's': {".##", "#..", ".#.", "..#", "##."},
	't': {"###", ".#.", ".#.", ".#.", ".#."},
	'u': {"#.#", "#.#", "#.#", "#.#", "###"},
	'v': {"#.#", "#.#", "#.#", "#.#", ".#."},
	'w': {"#.#", "#.#", "###", "###", "#.#"},
	'x': {"#.#", "#.#", ".#.", "#.#", "#.#"},
	'y': {"#.#", "#.#", ".#.", ".#.", ".#."},
	'z': {"###", "..#", ".#.", "#..", "###"},
	'/': {"..#", "..#", ".#.", "#..", "#.."},
	'.': {"...", "...", "...", "...", ".#."},
	',': {"...", "...", "...", ".#.", "#.."},
	':': {"...", ".#.", "...", ".#.", "..."},
	'-': {"...", "...", "###", "...", "..."},
	'(': {".#.", "#..", "#..", "#..", ".#."},
	')': {".#.", "..#", "..#", "..#", ".#."},
	' ': {"...", "...", "...", "...", "..."},
}

// writePNG writes img to file as a PNG.
func writePNG(file string, img image.Image) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
