// Command mkcpio writes an initramfs: a newc ("070701") cpio archive, the
// format the Linux kernel unpacks at boot (Documentation/driver-api/
// early-userspace/buffer-format.rst), with the directories /dev, /proc,
// /sys, /tmp, the character device /dev/console (5, 1) and the given
// files, all owned by root. It needs no root privileges and no cpio tool.
//
//	mkcpio -o initrd.cpio /init=path/to/init /avx512emu/gemm.test=gemm.test ...
//
// Each argument is ARCHIVE-PATH=HOST-PATH; parent directories are added,
// a file keeps its host permission bits.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"sort"
	"strings"
)

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFCHR = 0o020000
)

type entry struct {
	name       string
	mode       uint32
	rmaj, rmin uint32
	data       []byte
}

func main() {
	out := flag.String("o", "initrd.cpio", "output file")
	flag.Parse()
	entries := map[string]entry{}
	addDir := func(p string) {
		for d := p; d != "." && d != "/" && d != ""; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = entry{name: d, mode: sIFDIR | 0o755}
			}
		}
	}
	for _, d := range []string{"dev", "proc", "sys", "tmp"} {
		addDir(d)
	}
	entries["dev/console"] = entry{name: "dev/console", mode: sIFCHR | 0o600, rmaj: 5, rmin: 1}
	for _, arg := range flag.Args() {
		dst, src, ok := strings.Cut(arg, "=")
		if !ok {
			log.Fatalf("mkcpio: %q is not ARCHIVE-PATH=HOST-PATH", arg)
		}
		dst = strings.TrimPrefix(path.Clean("/"+dst), "/")
		data, err := os.ReadFile(src)
		if err != nil {
			log.Fatal(err)
		}
		st, err := os.Stat(src)
		if err != nil {
			log.Fatal(err)
		}
		addDir(path.Dir(dst))
		entries[dst] = entry{name: dst, mode: sIFREG | uint32(st.Mode().Perm()), data: data}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names) // parents before their children
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i, n := range names {
		write(w, uint32(i+1), entries[n])
	}
	write(w, 0, entry{name: "TRAILER!!!"})
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// write appends one newc record: a 110-byte header of 13 8-digit hex
// fields, the NUL-terminated name padded to 4 bytes, the data padded to 4.
func write(w io.Writer, ino uint32, e entry) {
	nlink := uint32(1)
	if e.mode&sIFDIR != 0 {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.rmaj, e.rmin, len(e.name)+1, 0)
	buf := append([]byte(hdr), e.name...)
	buf = append(buf, 0)
	buf = pad(buf)
	w.Write(buf)
	w.Write(e.data)
	w.Write(make([]byte, (4-len(e.data)%4)%4))
}

func pad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
