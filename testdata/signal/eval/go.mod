module github.com/mhmstream/mhm/testdata/signal/eval

go 1.26

require (
	github.com/go-audio/wav v1.1.0
	github.com/mhmstream/mhm v0.0.0
)

require (
	github.com/go-audio/audio v1.0.0 // indirect
	github.com/go-audio/riff v1.0.0 // indirect
)

replace github.com/mhmstream/mhm => ../../..
