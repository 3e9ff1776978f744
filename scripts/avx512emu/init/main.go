//go:build linux

// Command init is the /init of the initramfs that scripts/avx512emu/run.sh
// boots in Bochs on an emulated AVX-512 CPU (docs/avx512-emu.md). It
// mounts proc, sysfs and devtmpfs, prints the CPU's flags, runs the
// commands listed in /avx512emu/run.txt one after the other, prints their
// output between markers, then "AVX512EMU RESULT: PASS" when every command
// exited with status 0 (else FAIL), and powers the machine off.
//
// run.txt has one command per line, its fields separated by blanks (no
// quoting); a line KEY=VALUE sets an environment variable for the commands
// that follow; blank lines and lines starting with # are skipped.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

func main() {
	mounts()
	console()
	ok := run()
	if ok {
		fmt.Println("AVX512EMU RESULT: PASS")
	} else {
		fmt.Println("AVX512EMU RESULT: FAIL")
	}
	fmt.Println("AVX512EMU POWEROFF")
	syscall.Sync()
	time.Sleep(100 * time.Millisecond) // let the UART drain
	if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Println("AVX512EMU poweroff:", err)
	}
	select {} // init must not exit: the kernel would panic
}

// mounts mounts the pseudo file systems the tests and the Go runtime read
// (/proc/cpuinfo, /proc/self, /sys for the CPU count, /dev for the console).
func mounts() {
	for _, m := range []struct{ src, dir, fs string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
	} {
		os.MkdirAll(m.dir, 0o755)
		if err := syscall.Mount(m.src, m.dir, m.fs, 0, ""); err != nil {
			fmt.Fprintf(os.Stderr, "AVX512EMU mount %s: %v\n", m.dir, err)
		}
	}
}

// console makes sure that stdout and stderr reach the serial console: when
// the initramfs had no usable /dev/console the kernel starts init without
// them, and they are opened here from the devtmpfs just mounted.
func console() {
	if _, err := os.Stdout.Write([]byte("AVX512EMU INIT\n")); err == nil {
		return
	}
	for _, dev := range []string{"/dev/console", "/dev/ttyS0"} {
		fd, err := syscall.Open(dev, syscall.O_RDWR, 0)
		if err != nil {
			continue
		}
		for _, to := range []int{0, 1, 2} {
			syscall.Dup3(fd, to, 0)
		}
		fmt.Println("AVX512EMU INIT (console opened by init)")
		return
	}
}

// run prints the CPU's flags and runs the commands of /avx512emu/run.txt;
// it reports whether all of them succeeded.
func run() bool {
	var uts syscall.Utsname
	syscall.Uname(&uts)
	fmt.Printf("AVX512EMU kernel %s\n", cstr(uts.Release[:]))
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		fmt.Println("AVX512EMU cpuinfo:", err)
		return false
	}
	var flags []string
	for _, line := range strings.Split(string(cpuinfo), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			fmt.Printf("AVX512EMU CPU%s\n", name)
		}
		if f, ok := strings.CutPrefix(line, "flags"); ok && flags == nil {
			flags = strings.Fields(strings.TrimLeft(f, "\t :"))
		}
	}
	var avx512 []string
	for _, f := range flags {
		if strings.HasPrefix(f, "avx512") {
			avx512 = append(avx512, f)
		}
	}
	fmt.Printf("AVX512EMU flags: %s\n", strings.Join(flags, " "))
	fmt.Printf("AVX512EMU avx512 flags: %s\n", strings.Join(avx512, " "))

	f, err := os.Open("/avx512emu/run.txt")
	if err != nil {
		fmt.Println("AVX512EMU run.txt:", err)
		return false
	}
	defer f.Close()
	env := []string{"PATH=/avx512emu", "HOME=/tmp", "TMPDIR=/tmp"}
	ok, n := true, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) == 1 && strings.Contains(fields[0], "=") {
			env = append(env, fields[0])
			continue
		}
		n++
		fmt.Printf("AVX512EMU BEGIN %s\n", strings.Join(fields, " "))
		t0 := time.Now()
		cmd := exec.Command(fields[0], fields[1:]...)
		cmd.Dir = "/avx512emu"
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		err := cmd.Run()
		status := 0
		if err != nil {
			status = -1
			if ee, isExit := err.(*exec.ExitError); isExit {
				status = ee.ExitCode()
			}
			fmt.Printf("AVX512EMU error: %v\n", err)
			ok = false
		}
		fmt.Printf("AVX512EMU END %s exit=%d guest-seconds=%.1f\n", fields[0], status, time.Since(t0).Seconds())
	}
	if n == 0 {
		fmt.Println("AVX512EMU no commands in run.txt")
		return false
	}
	return ok
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}
