#!/usr/bin/env bash
# avx512emu: run the gemm tests on an emulated AVX-512 CPU (Bochs), so that
# the AVX-512F micro-kernels of pkg/nn/internal/gemm are executed at least
# once. See docs/avx512-emu.md.
#
#   scripts/avx512emu/run.sh          # focused tests, then the whole gemm test suite
#   AVX512EMU_FULL=0 scripts/avx512emu/run.sh   # focused tests only (about 3 minutes)
#
# Environment:
#   AVX512EMU_OUT      artefact folder (default build/avx512emu, git-ignored)
#   AVX512EMU_TIMEOUT  wall-clock limit of the emulation in seconds (default 1500)
#   AVX512EMU_RUN      -test.run pattern of the focused run
#   AVX512EMU_FULL     1 (default): also run every test of the package in the guest
#   AVX512EMU_CPU      Bochs CPU model (default corei7_skylake_x; see the doc for tigerlake)
#
# Steps: install bochs, its BIOSes, xorriso and isolinux with apt-get when
# missing (needs root); fetch the Debian kernel image package that
# linux-image-amd64 depends on with `apt-get download` and take its vmlinuz
# (nothing is installed); build the gemm test binary and a Go /init
# (static, CGO_ENABLED=0); pack them into an initramfs and a bootable
# isolinux ISO; boot it in Bochs without a display and read the serial
# console. Exit status 0 only when the guest printed "AVX512EMU RESULT: PASS"
# (every command exited 0, and TestChosenKernels saw Kernels() == "avx512").
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${AVX512EMU_OUT:-$root/build/avx512emu}
timeout_s=${AVX512EMU_TIMEOUT:-1500}
run_pat=${AVX512EMU_RUN:-'^(TestChosenKernels|TestKernelChoice|TestSelfCheck|TestSelfCheckCoverage|TestKernelSetMicro|TestKernelSetEdges)$'}
full=${AVX512EMU_FULL:-1}
cpu_model=${AVX512EMU_CPU:-corei7_skylake_x}
mkdir -p "$out"
cd "$out"

log() { printf 'avx512emu: %s\n' "$*" >&2; }

# 1. Tools.
need=()
command -v bochs >/dev/null || need+=(bochs)
[ -f /usr/share/bochs/BIOS-bochs-latest ] || need+=(bochsbios)
[ -f /usr/share/vgabios/vgabios.bin ] || need+=(vgabios)
command -v xorriso >/dev/null || need+=(xorriso)
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || need+=(isolinux)
[ -f /usr/lib/syslinux/modules/bios/ldlinux.c32 ] || need+=(syslinux-common)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	if [ "$(id -u)" != 0 ]; then
		log "need root to apt-get install ${need[*]}"
		exit 2
	fi
	apt-get install -y --no-install-recommends "${need[@]}" >apt.log 2>&1 || { tail apt.log; exit 2; }
fi

# 2. A kernel: Debian's generic amd64 image, unpacked, not installed.
if [ ! -s vmlinuz ]; then
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || { log "cannot find the kernel package linux-image-amd64 depends on"; exit 2; }
	log "downloading $pkg"
	rm -rf kpkg && mkdir kpkg
	(cd kpkg && apt-get download "$pkg" >/dev/null 2>&1) || { log "apt-get download $pkg failed"; exit 2; }
	dpkg-deb -x kpkg/*.deb kpkg/x
	cp kpkg/x/boot/vmlinuz-* vmlinuz
	echo "$pkg" >vmlinuz.pkg
	rm -rf kpkg
fi

# 3. Static binaries: the gemm tests, /init and the initramfs writer.
log "building"
(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go test -c -ldflags='-s -w' -o "$out/gemm.test" ./pkg/nn/internal/gemm)
(cd "$root/scripts/avx512emu" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -ldflags='-s -w' -o "$out/init" ./init && go build -o "$out/mkcpio" ./mkcpio)
{
	echo "GEMM_REQUIRE_KERNELS=avx512"
	echo "/avx512emu/gemm.test -test.v -test.count=1 -test.timeout=0 -test.run $run_pat"
	if [ "$full" = 1 ]; then
		echo "/avx512emu/gemm.test -test.count=1 -test.timeout=0"
	fi
} >run.txt
rm -rf iso && mkdir -p iso/isolinux
./mkcpio -o iso/initrd.img /init=init /avx512emu/gemm.test=gemm.test /avx512emu/run.txt=run.txt
cp vmlinuz iso/vmlinuz
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 iso/isolinux/
# Kernel options: Bochs 2.7's CPUID leaf 0xD reports no size for the PKRU
# state and a standard-format size for the compacted (XSAVES/XSAVEC) one;
# Linux 6.1 then disables XSAVE altogether, AVX and AVX-512 with it.
# Clearing pku, xsaves and xsavec makes it use the standard format with
# x87, SSE, AVX and the three AVX-512 components (xstate 0xe7).
cat >iso/isolinux/isolinux.cfg <<'EOF'
DEFAULT avx512emu
PROMPT 0
TIMEOUT 0
LABEL avx512emu
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img console=ttyS0,115200 panic=-1 quiet nokaslr mitigations=off nopku clearcpuid=pku,ospke,xsaves,xsavec
EOF
xorriso -as mkisofs -quiet -o avx512emu.iso -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table iso 2>xorriso.log

# 4. Boot. This Bochs build has no "nogui" display: rfb with timeout=0 does
# not wait for a VNC client. Sound off (the ALSA plugin aborts without a
# sound card). Debian's bochs-bin has the debugger compiled in: dbg.rc
# tells it to continue. ips sets the guest clock (sync=none: guest time
# follows the instruction count, whatever the host's speed).
cat >bochsrc <<EOF
megs: 1024
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
cpu: model=$cpu_model, count=1, ips=100000000
clock: sync=none, time0=1
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=cdrom, path=avx512emu.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=serial.txt
display_library: rfb, options="timeout=0"
sound: driver=dummy
speaker: enabled=0
log: bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
EOF
printf 'c\nquit\n' >dbg.rc
rm -f serial.txt bochs.log
log "booting Bochs ($cpu_model), limit ${timeout_s}s; serial console in $out/serial.txt"
t0=$(date +%s)
bochs -q -f bochsrc -rc dbg.rc </dev/null >bochs.out 2>&1 &
pid=$!
seen=0
while kill -0 "$pid" 2>/dev/null; do
	# Log the wall time at which each marker of /init appears.
	n=$(grep -a -c -E '^AVX512EMU (INIT|END)' serial.txt 2>/dev/null || true)
	if [ "${n:-0}" -gt "$seen" ]; then
		seen=$n
		log "$(($(date +%s) - t0)) s: $(grep -a -E '^AVX512EMU (INIT|END)' serial.txt | sed -n "${n}p" | tr -d '\r' | cut -c1-100)"
	fi
	if [ $(($(date +%s) - t0)) -ge "$timeout_s" ]; then
		log "timeout after ${timeout_s}s"
		kill "$pid" 2>/dev/null || true
		break
	fi
	if grep -q '^AVX512EMU POWEROFF' serial.txt 2>/dev/null; then
		# The guest powers off and Bochs exits; stop it if it has not in 20 s.
		for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		kill "$pid" 2>/dev/null || true
		break
	fi
	sleep 2
done
wait "$pid" 2>/dev/null || true
t1=$(date +%s)
# Markers that appeared in the last poll interval, before the power-off.
grep -a -E '^AVX512EMU (INIT|END)' serial.txt 2>/dev/null | tail -n +$((seen + 1)) | tr -d '\r' | while read -r line; do
	log "by $((t1 - t0)) s: $line"
done
boot=$(grep -n -m1 '^AVX512EMU INIT' serial.txt 2>/dev/null | cut -d: -f1 || true)
[ -n "$boot" ] || boot=1
sed -n "$boot,\$p" serial.txt 2>/dev/null | tr -d '\r' | grep -a -v '^AVX512EMU flags:' || true
result=$(grep -a -m1 '^AVX512EMU RESULT:' serial.txt 2>/dev/null | tr -d '\r' || true)
log "wall time $((t1 - t0)) s (boot, tests and power-off); ${result:-no result}"
case "$result" in
"AVX512EMU RESULT: PASS") exit 0 ;;
*) exit 1 ;;
esac
