// Package cputime reads the CPU time used by this process or by the
// calling OS thread. Benchmarks report throughput per CPU-second beside
// wall-clock figures because the machines mhm is measured on are shared:
// wall time also counts the time other processes hold a core, CPU time
// does not.
package cputime
