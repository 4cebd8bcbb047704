# Sourced. Everything the test box does differently per architecture, in
# one place, from KARCH (a kernel's Debian architecture, from its env file:
# scripts/kernels; amd64 when unset):
#   BOX_ARCH      the architecture's name for the project's makefiles
#                 (ARCH= of userlib, selftests, tools): x86_64, arm64
#   BOX_CROSS     the cross toolchain's prefix for the box's binaries and
#                 goro.ko (empty: the host's)
#   BOX_KMAKE     what Kbuild needs on its command line for goro.ko
#   BOX_QEMU_ARCH the argument of scripts/kernels qemu
#   BOX_MACHINE   QEMU's machine and CPU (TCG)
#   BOX_CONSOLE   the kernel's console, BOX_CHAN the side channel (the
#                 second serial port, where the verdict goes)
#   BOX_BUILD     where make -C selftests and tools put the box's binaries
# Only the host's own architecture has bpftool and gorotrace in the box
# (BOX_BPF=1): the others would need the target's libbpf and libelf.
case ${KARCH:-amd64} in
amd64)
	BOX_ARCH=x86_64 BOX_CROSS= BOX_KMAKE= BOX_QEMU_ARCH=amd64
	BOX_MACHINE="-cpu max"
	BOX_CONSOLE=ttyS0 BOX_CHAN=ttyS1
	BOX_BUILD=build BOX_BPF=1
	;;
arm64)
	BOX_ARCH=arm64 BOX_CROSS=aarch64-linux-gnu-
	BOX_KMAKE="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
	BOX_QEMU_ARCH=arm64
	# virt's two PL011s: QEMU 10 gives the second one to the guest
	BOX_MACHINE="-M virt -cpu max"
	BOX_CONSOLE=ttyAMA0 BOX_CHAN=ttyAMA1
	BOX_BUILD=build/arm64 BOX_BPF=0
	;;
*)
	echo "box-arch: no test box for architecture ${KARCH}" >&2
	exit 1
	;;
esac
