//go:build race

package demo

// raceEnabled: the race detector makes training about ten times slower, so
// the end-to-end tests run a smaller fleet under it (make test runs
// ./internal/app/... with -race too).
const raceEnabled = true
