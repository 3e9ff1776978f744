// Package plot draws the figures of model evaluation and monitoring as PNG
// images: a ROC curve, score histograms of normal and anomalous samples
// with the threshold, a score timeline with the threshold, alarm windows
// and fault starts, and a spectrogram heat map with the anomalous patches
// outlined.
//
// Each function returns a [Figure] that renders on demand with
// [Figure.WritePNG] (to an io.Writer) or [Figure.SavePNG] (to a path); the
// inputs are plain slices, so the package depends on gonum.org/v1/plot and
// nothing else of mhm. Sizes are in pixels at 96 dpi; text is 10 to 12 pt.
// Rendering allocates freely: figures are made once per report, not per
// frame.
//
// Colours: the heat map uses matplotlib's viridis (perceptually uniform,
// readable in grey scale and by colour-blind readers); anomalies, alarms
// and thresholds are drawn in red-orange hues that stand out on it.
package plot
