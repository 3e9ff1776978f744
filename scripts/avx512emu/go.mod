module github.com/mhmstream/mhm/scripts/avx512emu

go 1.26.0
