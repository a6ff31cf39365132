package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strconv"
	"strings"
)

// The chart is drawn with the standard library only: filled rectangles and
// a 3×5 pixel font scaled up, which is all a bar chart needs.

var (
	white = color.RGBA{255, 255, 255, 255}
	ink   = color.RGBA{40, 40, 40, 255}
	grid  = color.RGBA{225, 225, 225, 255}
	// One colour per variant, in variantOrder.
	variantColors = map[string]color.RGBA{
		noAuth:          {150, 150, 150, 255},
		jwtAuthn:        {66, 133, 244, 255},
		floor:           {110, 200, 210, 255},
		goNoop:          {240, 200, 60, 255},
		goHostWork:      {200, 150, 40, 255},
		tokengate:       {234, 120, 40, 255},
		nativeFloor:     {230, 170, 170, 255},
		tokengateNative: {200, 40, 60, 255},
		tokengateBefore: {245, 190, 150, 255},
		nativeBefore:    {235, 130, 140, 255},
		direct:          {120, 190, 120, 255},
		tokengateProxy:  {170, 90, 190, 255},
	}
)

const (
	chartH    = 440
	fontScale = 2
)

// chartWidth leaves every bar room for a five-digit label.
func chartWidth(variants int) int { return max(960, 120+len(scenarioOrder)*2*(variants*44+30)) }

// panel is one bar group chart: a value per (scenario, variant).
type panel struct {
	title string
	value func(summary) float64
	label func(float64) string
}

// drawChart renders requests/s and proxy CPU per request side by side.
func drawChart(sums []summary) *image.RGBA {
	var variants []string
	for _, v := range variantOrder {
		for _, s := range sums {
			if s.Variant == v {
				variants = append(variants, v)
				break
			}
		}
	}
	chartW := chartWidth(len(variants))
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	fill(img, img.Bounds(), white)
	panels := []panel{
		{"requests/s (higher is better)", func(s summary) float64 { return s.RPS },
			func(v float64) string { return strconv.Itoa(int(math.Round(v))) }},
		{"proxy cpu us/request (lower is better)", func(s summary) float64 { return us(s.CPU) },
			func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }},
	}
	pw := chartW / len(panels)
	for i, p := range panels {
		drawPanel(img, image.Rect(i*pw+20, 10, (i+1)*pw-10, chartH-50), p, sums, variants)
	}
	// Legend.
	x := 30
	for _, v := range variants {
		fill(img, image.Rect(x, chartH-34, x+14, chartH-20), variantColors[v])
		x = drawText(img, x+20, chartH-32, v, ink) + 24
	}
	return img
}

func drawPanel(img *image.RGBA, r image.Rectangle, p panel, sums []summary, variants []string) {
	drawText(img, r.Min.X, r.Min.Y, p.title, ink)
	top, bottom := r.Min.Y+40, r.Max.Y-24
	maxV := 0.0
	for _, s := range sums {
		maxV = math.Max(maxV, p.value(s))
	}
	if maxV <= 0 {
		drawText(img, r.Min.X, top+20, "not measured", ink)
		return
	}
	for i := 0; i <= 4; i++ {
		y := bottom - (bottom-top)*i/4
		fill(img, image.Rect(r.Min.X, y, r.Max.X, y+1), grid)
	}
	groupW := r.Dx() / len(scenarioOrder)
	barW := (groupW - 30) / max(len(variants), 1)
	for gi, sc := range scenarioOrder {
		gx := r.Min.X + gi*groupW + 15
		for vi, v := range variants {
			for _, s := range sums {
				if s.Scenario != sc || s.Variant != v {
					continue
				}
				val := p.value(s)
				if val <= 0 {
					continue // not measured for this variant
				}
				h := int(float64(bottom-top) * val / maxV)
				x0 := gx + vi*barW
				fill(img, image.Rect(x0+2, bottom-h, x0+barW-2, bottom), variantColors[v])
				lbl := p.label(val)
				drawText(img, x0+max((barW-textWidth(lbl))/2, 0), bottom-h-14, lbl, ink)
			}
		}
		drawText(img, gx+(groupW-30-textWidth(sc))/2, bottom+8, sc, ink)
	}
	fill(img, image.Rect(r.Min.X, bottom, r.Max.X, bottom+1), ink)
}

func writeChart(path string, sums []summary) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, drawChart(sums)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

const glyphAdvance = 4 * fontScale // 3 columns and one of space

func textWidth(s string) int { return len(s) * glyphAdvance }

// drawText writes s (lower case, digits and a few signs; anything else is a
// blank) with its top-left corner at x, y and returns the x after it.
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) int {
	for _, ch := range strings.ToLower(s) {
		if g, ok := glyphs[ch]; ok {
			for row := 0; row < 5; row++ {
				for col := 0; col < 3; col++ {
					if g[row*3+col] == '#' {
						px, py := x+col*fontScale, y+row*fontScale
						fill(img, image.Rect(px, py, px+fontScale, py+fontScale), c)
					}
				}
			}
		}
		x += glyphAdvance
	}
	return x
}

// glyphs is a 3×5 pixel font, rows top to bottom.
var glyphs = map[rune]string{
	'0': "####.##.##.####", '1': ".#.##..#..#.###", '2': "###..#####..###", '3': "###..####..####",
	'4': "#.##.####..#..#", '5': "####..###..####", '6': "####..####.####", '7': "###..#..#..#..#",
	'8': "####.#####.####", '9': "####.####..####",
	'a': ".#.#.#####.##.#", 'b': "##.#.###.#.###.", 'c': ".###..#..#...##", 'd': "##.#.##.##.###.",
	'e': "####..##.#..###", 'f': "####..##.#..#..", 'g': ".###..#.##.#.##", 'h': "#.##.#####.##.#",
	'i': "###.#..#..#.###", 'j': "..#..#..##.#.#.", 'k': "#.##.###.#.##.#", 'l': "#..#..#..#..###",
	'm': "#.########.##.#", 'n': "##.#.##.##.##.#", 'o': ".#.#.##.##.#.#.", 'p': "##.#.###.#..#..",
	'q': ".#.#.##.###..##", 'r': "##.#.###.#.##.#", 's': ".###...#...###.", 't': "###.#..#..#..#.",
	'u': "#.##.##.##.####", 'v': "#.##.##.##.#.#.", 'w': "#.##.########.#", 'x': "#.##.#.#.#.##.#",
	'y': "#.##.#.#..#..#.", 'z': "###..#.#.#..###",
	'.': "............#..", '-': "......###......", '/': "..#..#.#.#..#..", '_': "............###",
	':': "....#.....#....", '(': ".#.#..#..#...#.", ')': ".#...#..#..#.#.", '+': "....#.###.#....",
}
